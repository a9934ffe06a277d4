{#-
    Volume control: of the candidates (one per trigger, variant drawn), a
    learner gets at most var coaching_max_per_course_per_day messages per course
    per day and var coaching_max_per_week across courses per week, counting the
    deliveries already made (day = the 24 hours up to the coaching run, week =
    the 7 days up to it; rolling windows, the same in every time zone). The
    candidates kept are the most important: priority, then expected
    helpfulness, then the most recent trigger; ties by course, segment and
    message ids.
-#}
{%- set per_day = var('coaching_max_per_course_per_day') | int -%}
{%- set per_week = var('coaching_max_per_week') | int -%}

with

candidates as (

    select * from {{ ref('int_coaching_candidates_filtered') }}

),

variants as (

    select * from {{ ref('int_coaching_variants_drawn') }}

),

deliveries as (

    select * from {{ ref('stg_raw__coaching_deliveries') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

recent_by_course as (

    select
        deliveries.learner_id,
        deliveries.course_id,
        count(*) as n_delivered
    from deliveries
    cross join runs
    where
        deliveries.delivered_at <= runs.as_of
        and deliveries.delivered_at > {{ dbt.dateadd('day', -1, 'runs.as_of') }}
    group by
        deliveries.learner_id,
        deliveries.course_id

),

recent_by_learner as (

    select
        deliveries.learner_id,
        count(*) as n_delivered
    from deliveries
    cross join runs
    where
        deliveries.delivered_at <= runs.as_of
        and deliveries.delivered_at > {{ dbt.dateadd('day', -7, 'runs.as_of') }}
    group by deliveries.learner_id

),

with_variant as (

    select
        candidates.*,
        variants.variant,
        variants.selection_method,
        coalesce(recent_by_course.n_delivered, 0) as n_delivered_course_day,
        coalesce(recent_by_learner.n_delivered, 0) as n_delivered_week
    from candidates
    inner join variants
        on candidates.learner_id = variants.learner_id
            and candidates.message_id = variants.message_id
    left join recent_by_course
        on candidates.learner_id = recent_by_course.learner_id
            and candidates.course_id = recent_by_course.course_id
    left join recent_by_learner
        on candidates.learner_id = recent_by_learner.learner_id

),

course_ranked as (

    select
        with_variant.*,
        row_number() over (
            partition by with_variant.learner_id, with_variant.course_id
            order by
                with_variant.priority asc,
                with_variant.expected_helpfulness desc,
                with_variant.triggered_at desc,
                with_variant.segment_id asc,
                with_variant.message_id asc
        ) as course_rank
    from with_variant

),

course_capped as (

    select * from course_ranked
    where course_rank <= {{ per_day }} - n_delivered_course_day

),

learner_ranked as (

    select
        course_capped.*,
        row_number() over (
            partition by course_capped.learner_id
            order by
                course_capped.priority asc,
                course_capped.expected_helpfulness desc,
                course_capped.triggered_at desc,
                course_capped.course_id asc,
                course_capped.segment_id asc,
                course_capped.message_id asc
        ) as learner_rank
    from course_capped

),

final as (

    select
        -- ids
        learner_id,
        course_id,
        segment_id,
        message_id,
        variant,
        item_id,
        goal_id,

        -- strings
        trigger_type,
        message_type,
        selection_method,

        -- numerics
        priority,
        expected_helpfulness,
        module_number,
        days_inactive,
        days_to_target,
        cast(n_delivered_course_day as integer) as n_delivered_course_day,
        cast(n_delivered_week as integer) as n_delivered_week,
        cast(learner_rank as integer) as learner_rank,

        -- timestamps
        triggered_at
    from learner_ranked
    where learner_rank <= {{ per_week }} - n_delivered_week

)

select * from final
