-- One row per experiment x analysis unit (learner) x metric of seed metric_definitions:
-- the numerator (and denominator) after first exposure and the same metric before
-- exposure as CUPED covariate. Generic over the seed: a new metric is a new seed row.
--
-- A unit's values depend only on its learner, its first exposure time and the metric:
-- the events are matched once per distinct (learner, first exposure) "exposure moment"
-- (int_experiment_events_matched) and the values are then given to every unit of that
-- moment.
-- Open-ended metrics (empty window_days) count events up to the as-of time (var
-- experiments_as_of, by default the latest staged event); events after the as-of time
-- never count.

with

units as (

    select * from {{ ref('int_experiment_units_assigned') }}

),

metrics as (

    select * from {{ ref('metric_definitions') }}

),

matched_events as (

    select * from {{ ref('int_experiment_events_matched') }}

),

aggregated as (

    select
        learner_id,
        first_exposed_at,
        metric_id,
        sum(case when is_after_exposure and event_role = 'numerator' then contribution end)
            as numerator_sum,
        count(case when is_after_exposure and event_role = 'numerator' then 1 end)
            as numerator_events,
        sum(case when is_after_exposure and event_role = 'denominator' then contribution end)
            as denominator_sum,
        count(case when is_after_exposure and event_role = 'denominator' then 1 end)
            as denominator_events,
        sum(case when not is_after_exposure and event_role = 'numerator' then contribution end)
            as covariate_sum,
        count(case when not is_after_exposure and event_role = 'numerator' then 1 end)
            as covariate_events
    from matched_events
    group by
        learner_id,
        first_exposed_at,
        metric_id

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
        metrics.numerator_aggregation,
        metrics.denominator_aggregation,
        metrics.cuped_enabled,
        case
            when metrics.window_days is not null
                then {{ dbt.dateadd('day', 'metrics.window_days', 'units.first_exposed_at') }}
        end as window_end_at
    from units
    cross join metrics

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
        {{ experiments_finalize_value(
            'unit_metrics.numerator_aggregation', 'aggregated.numerator_sum', 'aggregated.numerator_events'
        ) }} as numerator_value,
        case when unit_metrics.metric_type = 'ratio' then
            {{ experiments_finalize_value(
                'unit_metrics.denominator_aggregation', 'aggregated.denominator_sum', 'aggregated.denominator_events'
            ) }}
        end as denominator_value,
        case when unit_metrics.cuped_enabled and unit_metrics.metric_type <> 'ratio' then
            {{ experiments_finalize_value(
                'unit_metrics.numerator_aggregation', 'aggregated.covariate_sum', 'aggregated.covariate_events'
            ) }}
        end as covariate_value
    from unit_metrics
    left join aggregated
        on
            unit_metrics.learner_id = aggregated.learner_id
            and unit_metrics.first_exposed_at = aggregated.first_exposed_at
            and unit_metrics.metric_id = aggregated.metric_id

),

final as (

    select
        -- ids
        cast(experiment_id as {{ dataproducts_type('string') }}) as experiment_id,
        cast(learner_id as bigint) as learner_id,
        cast(metric_id as {{ dataproducts_type('string') }}) as metric_id,

        -- strings
        cast(variant as {{ dataproducts_type('string') }}) as variant,
        cast(metric_type as {{ dataproducts_type('string') }}) as metric_type,

        -- numerics
        cast(numerator_value as {{ dataproducts_type('double') }}) as numerator_value,
        cast(denominator_value as {{ dataproducts_type('double') }}) as denominator_value,
        cast(
            case
                when metric_type <> 'ratio' then numerator_value
                when denominator_value > 0 then numerator_value / denominator_value
            end as {{ dataproducts_type('double') }}
        ) as metric_value,
        cast(covariate_value as {{ dataproducts_type('double') }}) as covariate_value,

        -- booleans
        is_control,

        -- timestamps
        cast(first_exposed_at as timestamp) as first_exposed_at,
        cast(window_end_at as timestamp) as window_end_at

    from valued

)

select * from final
