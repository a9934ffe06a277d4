{#-
    The rule-based segments: every row of the seed coaching_segments whose
    trigger_type is a rule (anything but `custom`) evaluated against the
    learners' activity as of the coaching run. One row per trigger occurrence
    (e.g. each failed quiz) inside its segment's window (triggered_at within
    the window_days before the run: older occurrences can never make a member,
    see coaching_segment_membership, so they are not materialized), in the
    segment interface of coaching_segment_columns(); coaching_segment_membership
    keeps the latest per learner, course and segment. Adding a segment of an
    existing trigger type is a seed change only. Trigger types and their
    parameters are documented in the doc block coaching_segments.

    Cost: the event triggers (item, module, quiz) read the events of the
    longest window of their types and, for the learner-course pairs with a
    completion in it, the full history of their item completions (to know an
    item's first completion and a module's progress); the state triggers read
    int_coaching_enrollments_summarized, which scans the events once.
-#}

with

segments as (

    select * from {{ ref('coaching_segments') }}

),

-- read twice (recent events; the completion history of their learner-courses),
-- each with its own filters: not materialized
events as {{ inline_cte() }} (

    select * from {{ ref('stg_raw__events') }}

),

items as (

    select * from {{ ref('stg_raw__course_items') }}

),

goals as (

    select * from {{ ref('stg_raw__learner_goals') }}

),

enrollments as (

    select * from {{ ref('int_coaching_enrollments_summarized') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

-- the start of the longest window among the event-trigger segments
event_window as (

    select
        min(
            {{ dbt.dateadd('day', '-segments.window_days', 'runs.as_of') }}
        ) as window_start
    from segments
    cross join runs
    where segments.trigger_type in ('item_completed', 'module_completed', 'quiz_failed')

),

recent_events as (

    select
        events.learner_id,
        events.course_id,
        events.item_id,
        events.event_type,
        events.score,
        events.occurred_at
    from events
    cross join runs
    cross join event_window
    where
        events.event_type in ('item_complete', 'quiz_submit')
        and events.occurred_at > event_window.window_start
        and events.occurred_at <= runs.as_of

),

-- learner-course pairs with an item completed in the window: only they can
-- have an item or module completion trigger in it
recent_learner_courses as (

    select distinct
        learner_id,
        course_id
    from recent_events
    where event_type = 'item_complete'

),

-- item_completed: the first completion of an item (over all history).
item_completions as (

    select
        events.learner_id,
        events.course_id,
        events.item_id,
        items.module_number,
        min(events.occurred_at) as completed_at
    from events
    cross join runs
    inner join recent_learner_courses
        on events.learner_id = recent_learner_courses.learner_id
            and events.course_id = recent_learner_courses.course_id
    inner join items
        on events.item_id = items.item_id
            and events.course_id = items.course_id
    where
        events.event_type = 'item_complete'
        and events.occurred_at <= runs.as_of
    group by
        events.learner_id,
        events.course_id,
        events.item_id,
        items.module_number

),

item_completed as (

    select
        item_completions.learner_id,
        item_completions.course_id,
        segments.segment_id,
        item_completions.completed_at as triggered_at,
        item_completions.item_id,
        item_completions.module_number,
        cast(null as bigint) as goal_id,
        cast(null as integer) as days_inactive,
        cast(null as integer) as days_to_target
    from item_completions
    cross join runs
    {{ coaching_segment_join(
        'item_completed', 'item_completions', 'item_completions.completed_at',
        ['course_id', 'item_id', 'module_number']
    ) }}

),

-- module_completed: every item of the module completed; triggered by the last one.
module_sizes as (

    select
        course_id,
        module_number,
        count(*) as n_items
    from items
    group by
        course_id,
        module_number

),

module_progress as (

    select
        learner_id,
        course_id,
        module_number,
        count(*) as n_items_completed,
        max(completed_at) as completed_at
    from item_completions
    group by
        learner_id,
        course_id,
        module_number

),

module_completed as (

    select
        module_progress.learner_id,
        module_progress.course_id,
        segments.segment_id,
        module_progress.completed_at as triggered_at,
        cast(null as bigint) as item_id,
        module_progress.module_number,
        cast(null as bigint) as goal_id,
        cast(null as integer) as days_inactive,
        cast(null as integer) as days_to_target
    from module_progress
    cross join runs
    inner join module_sizes
        on module_progress.course_id = module_sizes.course_id
            and module_progress.module_number = module_sizes.module_number
    {{ coaching_segment_join(
        'module_completed', 'module_progress', 'module_progress.completed_at',
        ['course_id', 'module_number']
    ) }}
    where module_progress.n_items_completed = module_sizes.n_items

),

-- quiz_failed: a submission below the item's passing score, not passed since
-- (a pass after a submission in the window is in the window too).
quiz_submissions as (

    select
        recent_events.learner_id,
        recent_events.course_id,
        recent_events.item_id,
        items.module_number,
        recent_events.occurred_at,
        recent_events.score < items.passing_score as is_failed
    from recent_events
    inner join items
        on recent_events.item_id = items.item_id
            and recent_events.course_id = items.course_id
    where
        recent_events.event_type = 'quiz_submit'
        and recent_events.score is not null
        and items.passing_score is not null

),

last_passes as (

    select
        learner_id,
        item_id,
        max(occurred_at) as passed_at
    from quiz_submissions
    where not is_failed
    group by
        learner_id,
        item_id

),

quiz_failed as (

    select
        quiz_submissions.learner_id,
        quiz_submissions.course_id,
        segments.segment_id,
        quiz_submissions.occurred_at as triggered_at,
        quiz_submissions.item_id,
        quiz_submissions.module_number,
        cast(null as bigint) as goal_id,
        cast(null as integer) as days_inactive,
        cast(null as integer) as days_to_target
    from quiz_submissions
    cross join runs
    {{ coaching_segment_join(
        'quiz_failed', 'quiz_submissions', 'quiz_submissions.occurred_at',
        ['course_id', 'item_id', 'module_number']
    ) }}
    left join last_passes
        on quiz_submissions.learner_id = last_passes.learner_id
            and quiz_submissions.item_id = last_passes.item_id
            and quiz_submissions.occurred_at <= last_passes.passed_at
    where
        quiz_submissions.is_failed
        and last_passes.learner_id is null

),

-- inactive: enrolled, not completed, nothing done in the course for `days` days.
inactive as (

    select
        enrollments.learner_id,
        enrollments.course_id,
        segments.segment_id,
        {{ dbt.dateadd('day', 'segments.days', 'enrollments.last_activity_at') }} as triggered_at,
        cast(null as bigint) as item_id,
        cast(null as integer) as module_number,
        enrollments.latest_goal_id as goal_id,
        cast(
            {{ dbt.datediff('enrollments.last_activity_at', 'runs.as_of', 'day') }}
            as integer
        ) as days_inactive,
        cast(null as integer) as days_to_target
    from enrollments
    cross join runs
    {{ coaching_segment_join(
        'inactive', 'enrollments', dbt.dateadd('day', 'segments.days', 'enrollments.last_activity_at'),
        ['course_id']
    ) }}
    where
        not enrollments.is_completed
        and {{ dbt.dateadd('day', 'segments.days', 'enrollments.last_activity_at') }} <= runs.as_of

),

-- enrolled_without_goal: enrolled for `days` days, not completed, no goal for the course.
enrolled_without_goal as (

    select
        enrollments.learner_id,
        enrollments.course_id,
        segments.segment_id,
        {{ dbt.dateadd('day', 'coalesce(segments.days, 0)', 'enrollments.enrolled_at') }} as triggered_at,
        cast(null as bigint) as item_id,
        cast(null as integer) as module_number,
        cast(null as bigint) as goal_id,
        cast(null as integer) as days_inactive,
        cast(null as integer) as days_to_target
    from enrollments
    cross join runs
    {{ coaching_segment_join(
        'enrolled_without_goal', 'enrollments',
        dbt.dateadd('day', 'coalesce(segments.days, 0)', 'enrollments.enrolled_at'),
        ['course_id']
    ) }}
    where
        not enrollments.is_completed
        and enrollments.latest_goal_id is null
        and {{ dbt.dateadd('day', 'coalesce(segments.days, 0)', 'enrollments.enrolled_at') }} <= runs.as_of

),

goals_until_now as (

    select goals.*
    from goals
    cross join runs
    where goals.created_at <= runs.as_of

),

-- goal_stale: a goal `days` days old whose course is not completed.
goal_stale as (

    select
        goals_until_now.learner_id,
        goals_until_now.course_id,
        segments.segment_id,
        {{ dbt.dateadd('day', 'segments.days', 'goals_until_now.created_at') }} as triggered_at,
        cast(null as bigint) as item_id,
        cast(null as integer) as module_number,
        goals_until_now.goal_id,
        cast(null as integer) as days_inactive,
        cast(
            {{ dbt.datediff('runs.as_of_date', 'goals_until_now.target_date', 'day') }}
            as integer
        ) as days_to_target
    from goals_until_now
    cross join runs
    inner join enrollments
        on goals_until_now.learner_id = enrollments.learner_id
            and goals_until_now.course_id = enrollments.course_id
    {{ coaching_segment_join(
        'goal_stale', 'goals_until_now', dbt.dateadd('day', 'segments.days', 'goals_until_now.created_at'),
        ['course_id']
    ) }}
    where
        not enrollments.is_completed
        and {{ dbt.dateadd('day', 'segments.days', 'goals_until_now.created_at') }} <= runs.as_of

),

-- goal_target_near: the target date of a goal not achieved is 0..`days` days away.
goal_target_near as (

    select
        goals_until_now.learner_id,
        goals_until_now.course_id,
        segments.segment_id,
        cast({{ dbt.dateadd('day', '-segments.days', 'goals_until_now.target_date') }} as timestamp) as triggered_at,
        cast(null as bigint) as item_id,
        cast(null as integer) as module_number,
        goals_until_now.goal_id,
        cast(null as integer) as days_inactive,
        cast(
            {{ dbt.datediff('runs.as_of_date', 'goals_until_now.target_date', 'day') }}
            as integer
        ) as days_to_target
    from goals_until_now
    cross join runs
    inner join enrollments
        on goals_until_now.learner_id = enrollments.learner_id
            and goals_until_now.course_id = enrollments.course_id
    {{ coaching_segment_join(
        'goal_target_near', 'goals_until_now',
        'cast(' ~ dbt.dateadd('day', '-segments.days', 'goals_until_now.target_date') ~ ' as timestamp)',
        ['course_id']
    ) }}
    where
        not enrollments.is_completed
        and goals_until_now.target_date >= runs.as_of_date
        and {{ dbt.dateadd('day', '-segments.days', 'goals_until_now.target_date') }} <= runs.as_of_date

),

-- course_completed: the course completed; the latest goal is context for the congratulation.
course_completed as (

    select
        enrollments.learner_id,
        enrollments.course_id,
        segments.segment_id,
        enrollments.completed_at as triggered_at,
        cast(null as bigint) as item_id,
        cast(null as integer) as module_number,
        enrollments.latest_goal_id as goal_id,
        cast(null as integer) as days_inactive,
        cast(null as integer) as days_to_target
    from enrollments
    cross join runs
    {{ coaching_segment_join(
        'course_completed', 'enrollments', 'enrollments.completed_at', ['course_id']
    ) }}
    where enrollments.is_completed

),

unioned as (

    select * from item_completed
    union all
    select * from module_completed
    union all
    select * from quiz_failed
    union all
    select * from inactive
    union all
    select * from enrolled_without_goal
    union all
    select * from goal_stale
    union all
    select * from goal_target_near
    union all
    select * from course_completed

),

final as (

    select
        {{ coaching_segment_columns_cast('unioned') }}
    from unioned

)

select * from final
