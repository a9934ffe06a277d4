{#-
    Custom segment `repeat_quiz_failure` (an example of a segment that needs
    arbitrary SQL): the learner failed the same quiz at least twice in the 7
    days up to the coaching run and has not passed it since. Follows the
    segment interface (see the doc block coaching_segment_interface): tagged
    `coaching_segment` and listed in var coaching_custom_segment_models, so
    coaching_segment_membership picks it up without being edited; its segment_id is declared in the seed coaching_segments with
    trigger_type `custom`.
-#}
{{ config(materialized='view', tags=['coaching_segment']) }}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

items as (

    select * from {{ ref('stg_raw__course_items') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

submissions as (

    select
        events.learner_id,
        events.course_id,
        events.item_id,
        items.module_number,
        events.occurred_at,
        events.score < items.passing_score as is_failed
    from events
    inner join items
        on events.item_id = items.item_id
            and events.course_id = items.course_id
    cross join runs
    where
        events.event_type = 'quiz_submit'
        and events.score is not null
        and items.passing_score is not null
        and events.occurred_at <= runs.as_of
        and events.occurred_at > {{ dbt.dateadd('day', -7, 'runs.as_of') }}

),

per_quiz as (

    select
        learner_id,
        course_id,
        item_id,
        module_number,
        sum(case when is_failed then 1 else 0 end) as n_failed,
        max(case when is_failed then occurred_at end) as last_failed_at,
        max(case when not is_failed then occurred_at end) as last_passed_at
    from submissions
    group by
        learner_id,
        course_id,
        item_id,
        module_number

),

final as (

    select
        -- ids
        learner_id,
        course_id,
        cast('repeat_quiz_failure' as {{ dbt.type_string() }}) as segment_id,
        item_id,
        module_number,
        cast(null as bigint) as goal_id,

        -- numerics
        cast(null as integer) as days_inactive,
        cast(null as integer) as days_to_target,

        -- timestamps
        last_failed_at as triggered_at
    from per_quiz
    where
        n_failed >= 2
        and (last_passed_at is null or last_passed_at < last_failed_at)

)

select * from final
