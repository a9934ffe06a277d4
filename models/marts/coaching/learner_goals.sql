{#-
    Learner goals, with their status and how coaching surfaces them back. One
    row per goal set up to the coaching run.

    status: achieved (the course is completed), abandoned (unenrolled),
    overdue (target date passed), else active. Surfacing follows the goal
    segments of the seed coaching_segments: a reminder when the goal is
    `days` old and not achieved (goal_stale), a nudge when its target date is
    at most `days` away (goal_target_near), a congratulation when the course is
    completed (course_completed). Each has its due time, the last time such a
    message was delivered for the learner's course after the goal was set, and
    next_surfacing names the one due and not yet delivered; queued_message_id
    is the goal message in today's coaching_queue, if any.
-#}

with

goals as (

    select * from {{ ref('stg_raw__learner_goals') }}

),

enrollments as (

    select * from {{ ref('int_coaching_enrollments_summarized') }}

),

segments as (

    select * from {{ ref('coaching_segments') }}

),

messages as (

    select * from {{ ref('coaching_messages') }}

),

deliveries as (

    select * from {{ ref('int_coaching_deliveries_scored') }}

),

queue as (

    select * from {{ ref('coaching_queue') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

surfacing_days as (

    select
        min(case when trigger_type = 'goal_stale' then days end) as reminder_after_days,
        max(case when trigger_type = 'goal_target_near' then days end) as nudge_before_days
    from segments

),

message_triggers as (

    select distinct
        messages.message_id,
        segments.trigger_type
    from messages
    inner join segments
        on messages.segment_id = segments.segment_id
    where segments.trigger_type in ('goal_stale', 'goal_target_near', 'course_completed')

),

goal_deliveries as (

    select
        goals.goal_id,
        max(
            case when message_triggers.trigger_type = 'goal_stale' then deliveries.delivered_at end
        ) as last_reminded_at,
        max(
            case when message_triggers.trigger_type = 'goal_target_near' then deliveries.delivered_at end
        ) as last_nudged_at,
        max(
            case when message_triggers.trigger_type = 'course_completed' then deliveries.delivered_at end
        ) as congratulated_at
    from goals
    inner join deliveries
        on goals.learner_id = deliveries.learner_id
            and goals.course_id = deliveries.course_id
            and goals.created_at <= deliveries.delivered_at
    inner join message_triggers
        on deliveries.message_id = message_triggers.message_id
    group by goals.goal_id

),

queued as (

    select
        queue.learner_id,
        queue.course_id,
        min(queue.message_id) as queued_message_id
    from queue
    inner join message_triggers
        on queue.message_id = message_triggers.message_id
    group by
        queue.learner_id,
        queue.course_id

),

statused as (

    select
        goals.goal_id,
        goals.learner_id,
        goals.course_id,
        goals.goal_text,
        goals.target_date,
        goals.created_at,
        enrollments.completed_at,
        case
            when enrollments.is_completed then 'achieved'
            when not coalesce(enrollments.is_enrolled, false) then 'abandoned'
            when goals.target_date < runs.as_of_date then 'overdue'
            else 'active'
        end as status,
        case
            when not coalesce(enrollments.is_completed, false) and surfacing_days.reminder_after_days is not null
                then {{ dbt.dateadd('day', 'surfacing_days.reminder_after_days', 'goals.created_at') }}
        end as reminder_due_at,
        case
            when not coalesce(enrollments.is_completed, false) and surfacing_days.nudge_before_days is not null
                then {{ dbt.dateadd('day', '-surfacing_days.nudge_before_days', 'goals.target_date') }}
        end as nudge_due_at,
        case when enrollments.is_completed then enrollments.completed_at end as congratulation_due_at,
        goal_deliveries.last_reminded_at,
        goal_deliveries.last_nudged_at,
        goal_deliveries.congratulated_at,
        queued.queued_message_id,
        runs.as_of,
        runs.as_of_date
    from goals
    cross join runs
    cross join surfacing_days
    left join enrollments
        on goals.learner_id = enrollments.learner_id
            and goals.course_id = enrollments.course_id
    left join goal_deliveries
        on goals.goal_id = goal_deliveries.goal_id
    left join queued
        on goals.learner_id = queued.learner_id
            and goals.course_id = queued.course_id
    where goals.created_at <= runs.as_of

),

final as (

    select
        -- ids
        goal_id,
        learner_id,
        course_id,
        cast(queued_message_id as {{ dbt.type_string() }}) as queued_message_id,

        -- strings
        goal_text,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(case
            when status = 'achieved' and congratulated_at is null then 'congratulation'
            when
                status in ('active', 'overdue')
                and nudge_due_at <= as_of
                and target_date >= as_of_date
                and last_nudged_at is null
                then 'deadline_nudge'
            when status in ('active', 'overdue') and reminder_due_at <= as_of and last_reminded_at is null
                then 'reminder'
        end as {{ dbt.type_string() }}) as next_surfacing,

        -- dates
        target_date,

        -- timestamps
        created_at,
        completed_at,
        cast(reminder_due_at as timestamp) as reminder_due_at,
        cast(nudge_due_at as timestamp) as nudge_due_at,
        cast(congratulation_due_at as timestamp) as congratulation_due_at,
        last_reminded_at,
        last_nudged_at,
        congratulated_at
    from statused

)

select * from final
