{#-
    Who is in which coaching segment as of the coaching run, since when, and
    with the context the message needs. Members come from the rule-based
    segments (seed coaching_segments, evaluated in
    int_coaching_segment_triggers_evaluated) and from every custom segment model
    (tagged `coaching_segment` and listed in var coaching_custom_segment_models:
    adding one needs no edit here). A trigger counts while it is at most window_days old
    (seed) and the learner is still enrolled in the course; one row per
    learner, course and segment, with the latest trigger as context.
-#}

with

rule_based as (

    select * from {{ ref('int_coaching_segment_triggers_evaluated') }}

),

segments as (

    select * from {{ ref('coaching_segments') }}

),

enrollments as (

    select * from {{ ref('int_coaching_enrollments_summarized') }}

),

learners as (

    select * from {{ ref('int_coaching_learners_allocated') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

custom as (

    {{ coaching_union_custom_segments() }}

),

unioned as (

    select
        {{ coaching_segment_columns_cast('rule_based') }},
        cast('int_coaching_segment_triggers_evaluated' as {{ dbt.type_string() }}) as source_model
    from rule_based

    union all

    select * from custom

),

in_window as (

    select
        unioned.*,
        segments.trigger_type
    from unioned
    cross join runs
    left join segments
        on unioned.segment_id = segments.segment_id
    inner join enrollments
        on unioned.learner_id = enrollments.learner_id
            and unioned.course_id = enrollments.course_id
    where
        enrollments.is_enrolled
        and unioned.triggered_at <= runs.as_of
        and (
            -- a segment_id the seed does not declare is kept, so that the
            -- relationships test on this model names it
            segments.segment_id is null
            or unioned.triggered_at > {{ dbt.dateadd('day', '-segments.window_days', 'runs.as_of') }}
        )

),

ranked as (

    select
        in_window.*,
        row_number() over (
            partition by in_window.learner_id, in_window.course_id, in_window.segment_id
            order by
                in_window.triggered_at desc,
                in_window.item_id desc nulls last,
                in_window.goal_id desc nulls last,
                in_window.source_model asc
        ) as trigger_rank,
        min(in_window.triggered_at) over (
            partition by in_window.learner_id, in_window.course_id, in_window.segment_id
        ) as member_since,
        count(*) over (
            partition by in_window.learner_id, in_window.course_id, in_window.segment_id
        ) as n_triggers
    from in_window

),

final as (

    select
        -- ids
        ranked.learner_id,
        ranked.course_id,
        ranked.segment_id,
        ranked.item_id,
        ranked.goal_id,

        -- strings
        ranked.trigger_type,
        ranked.source_model,

        -- numerics
        ranked.module_number,
        ranked.days_inactive,
        ranked.days_to_target,
        cast(ranked.n_triggers as integer) as n_triggers,

        -- booleans
        learners.is_holdout,

        -- timestamps
        ranked.member_since,
        ranked.triggered_at
    from ranked
    inner join learners
        on ranked.learner_id = learners.learner_id
    where ranked.trigger_rank = 1

)

select * from final
