-- One row per experiment x analysis unit (learner) x metric of seed metric_definitions:
-- the numerator (and denominator) after first exposure and the same metric before
-- exposure as CUPED covariate. Generic over the seed: a new metric is a new seed row.

with

units as (

    select * from {{ ref('int_experiment_units_assigned') }}

),

metrics as (

    select * from {{ ref('metric_definitions') }}

),

events as (

    select * from {{ ref('stg_raw__events') }}

),

course_items as (

    select * from {{ ref('stg_raw__course_items') }}

),

scored_events as (

    select
        events.learner_id,
        events.event_type,
        events.score,
        events.occurred_at,
        course_items.passing_score
    from events
    left join course_items
        on events.item_id = course_items.item_id

),

unit_metrics as (

    select
        units.experiment_id,
        units.learner_id,
        units.variant,
        units.is_control,
        units.first_exposed_at,
        metrics.metric_id,
        metrics.metric_type,
        metrics.numerator_event_type,
        metrics.numerator_aggregation,
        metrics.denominator_event_type,
        metrics.denominator_aggregation,
        metrics.cuped_enabled,
        {{ dbt.dateadd('day', 'metrics.window_days', 'units.first_exposed_at') }} as window_end_at,
        case
            when metrics.cuped_enabled and metrics.metric_type <> 'ratio'
                then {{ dbt.dateadd('day', '-1 * metrics.cuped_lookback_days', 'units.first_exposed_at') }}
            else units.first_exposed_at
        end as covariate_start_at
    from units
    cross join metrics

),

matched_events as (

    select
        unit_metrics.experiment_id,
        unit_metrics.learner_id,
        unit_metrics.metric_id,
        unit_metrics.numerator_event_type,
        unit_metrics.numerator_aggregation,
        unit_metrics.denominator_event_type,
        unit_metrics.denominator_aggregation,
        scored_events.event_type,
        scored_events.score,
        scored_events.passing_score,
        scored_events.occurred_at >= unit_metrics.first_exposed_at as is_after_exposure
    from unit_metrics
    inner join scored_events
        on
            unit_metrics.learner_id = scored_events.learner_id
            and scored_events.occurred_at >= unit_metrics.covariate_start_at
            and scored_events.occurred_at < unit_metrics.window_end_at
            and (
                scored_events.event_type = unit_metrics.numerator_event_type
                or scored_events.event_type = unit_metrics.denominator_event_type
            )

),

aggregated as (

    select
        experiment_id,
        learner_id,
        metric_id,
        sum(case when is_after_exposure and event_type = numerator_event_type
            then {{ experiments_event_contribution('numerator_aggregation', 'score', 'passing_score') }} end)
            as numerator_sum,
        count(case when is_after_exposure and event_type = numerator_event_type then 1 end)
            as numerator_events,
        sum(case when is_after_exposure and event_type = denominator_event_type
            then {{ experiments_event_contribution('denominator_aggregation', 'score', 'passing_score') }} end)
            as denominator_sum,
        count(case when is_after_exposure and event_type = denominator_event_type then 1 end)
            as denominator_events,
        sum(case when not is_after_exposure and event_type = numerator_event_type
            then {{ experiments_event_contribution('numerator_aggregation', 'score', 'passing_score') }} end)
            as covariate_sum,
        count(case when not is_after_exposure and event_type = numerator_event_type then 1 end)
            as covariate_events
    from matched_events
    group by
        experiment_id,
        learner_id,
        metric_id

),

valued as (

    select
        unit_metrics.experiment_id,
        unit_metrics.learner_id,
        unit_metrics.metric_id,
        unit_metrics.variant,
        unit_metrics.is_control,
        unit_metrics.metric_type,
        unit_metrics.first_exposed_at,
        unit_metrics.window_end_at,
        {{ experiments_finalize_value('unit_metrics.numerator_aggregation', 'aggregated.numerator_sum', 'aggregated.numerator_events') }}
            as numerator_value,
        case when unit_metrics.metric_type = 'ratio' then
            {{ experiments_finalize_value('unit_metrics.denominator_aggregation', 'aggregated.denominator_sum', 'aggregated.denominator_events') }}
        end as denominator_value,
        case when unit_metrics.cuped_enabled and unit_metrics.metric_type <> 'ratio' then
            {{ experiments_finalize_value('unit_metrics.numerator_aggregation', 'aggregated.covariate_sum', 'aggregated.covariate_events') }}
        end as covariate_value
    from unit_metrics
    left join aggregated
        on
            unit_metrics.experiment_id = aggregated.experiment_id
            and unit_metrics.learner_id = aggregated.learner_id
            and unit_metrics.metric_id = aggregated.metric_id

),

final as (

    select
        -- ids
        cast(experiment_id as varchar) as experiment_id,
        cast(learner_id as bigint) as learner_id,
        cast(metric_id as varchar) as metric_id,

        -- strings
        cast(variant as varchar) as variant,
        cast(metric_type as varchar) as metric_type,

        -- numerics
        cast(numerator_value as double precision) as numerator_value,
        cast(denominator_value as double precision) as denominator_value,
        cast(
            case
                when metric_type <> 'ratio' then numerator_value
                when denominator_value > 0 then numerator_value / denominator_value
            end as double precision
        ) as metric_value,
        cast(covariate_value as double precision) as covariate_value,

        -- booleans
        is_control,

        -- timestamps
        cast(first_exposed_at as timestamp) as first_exposed_at,
        cast(window_end_at as timestamp) as window_end_at

    from valued

)

select * from final
