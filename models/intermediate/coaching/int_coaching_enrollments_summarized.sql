{#-
    One row per learner and course the learner ever enrolled in, as of the
    coaching run: when they enrolled, whether they are still enrolled, when
    they last did anything in the course, whether and when they completed it,
    and their latest goal for it. The state every rule-based trigger reads.
-#}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

goals as (

    select * from {{ ref('stg_raw__learner_goals') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

events_until_now as (

    select events.*
    from events
    cross join runs
    where events.occurred_at <= runs.as_of

),

per_course as (

    select
        learner_id,
        course_id,
        min(case when event_type = 'enroll' then occurred_at end) as first_enrolled_at,
        max(case when event_type = 'enroll' then occurred_at end) as last_enrolled_at,
        max(case when event_type = 'unenroll' then occurred_at end) as last_unenrolled_at,
        min(case when event_type = 'course_complete' then occurred_at end) as completed_at,
        max(occurred_at) as last_activity_at,
        count(distinct case when event_type = 'item_complete' then item_id end) as items_completed
    from events_until_now
    group by
        learner_id,
        course_id

),

goals_ranked as (

    select
        goals.goal_id,
        goals.learner_id,
        goals.course_id,
        row_number() over (
            partition by goals.learner_id, goals.course_id
            order by goals.created_at desc, goals.goal_id desc
        ) as goal_rank
    from goals
    cross join runs
    where goals.created_at <= runs.as_of

),

latest_goals as (

    select * from goals_ranked
    where goal_rank = 1

),

final as (

    select
        -- ids
        per_course.learner_id,
        per_course.course_id,
        latest_goals.goal_id as latest_goal_id,

        -- numerics
        cast(per_course.items_completed as integer) as items_completed,

        -- booleans
        (
            per_course.last_unenrolled_at is null
            or per_course.last_enrolled_at > per_course.last_unenrolled_at
        ) as is_enrolled,
        per_course.completed_at is not null as is_completed,

        -- timestamps
        per_course.first_enrolled_at as enrolled_at,
        per_course.completed_at,
        per_course.last_activity_at
    from per_course
    left join latest_goals
        on per_course.learner_id = latest_goals.learner_id
            and per_course.course_id = latest_goals.course_id
    where per_course.first_enrolled_at is not null

)

select * from final
