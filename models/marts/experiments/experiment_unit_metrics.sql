-- One row per experiment x analysis unit (learner) x metric of seed metric_definitions:
-- the numerator (and denominator) after first exposure and the same metric before
-- exposure as CUPED covariate. Generic over the seed: a new metric is a new seed row.
--
-- A unit's values depend only on its learner, its first exposure time and the metric,
-- and several experiments often expose a learner at the same course view: the events
-- are matched once per distinct (learner, first exposure) "exposure moment" and the
-- values are then given to every unit of that moment. Only events of an event type some
-- metric reads and inside the time span the windows cover are kept; an event is compared
-- only with the windows of its own learner and event type (both are hash-join keys).
-- Open-ended metrics (empty window_days) count events up to the as-of time (var
-- experiments_as_of, by default the latest staged event); events after the as-of time
-- never count.

{%- set as_of_var = var('experiments_as_of', none) %}

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

-- the event types each metric reads: its numerator and, for ratio metrics, its denominator
metric_events as (

    select
        metric_id,
        'numerator' as event_role,
        numerator_event_type as event_type,
        numerator_aggregation as aggregation
    from metrics

    union all

    select
        metric_id,
        'denominator' as event_role,
        denominator_event_type as event_type,
        denominator_aggregation as aggregation
    from metrics
    where metric_type = 'ratio'

),

metric_event_types as (

    select distinct event_type
    from metric_events

),

exposure_moments as (

    select distinct
        learner_id,
        first_exposed_at
    from units

),

-- per exposure moment x metric x event role: the window after exposure (end exclusive,
-- null = open-ended) and the start of the CUPED lookback before it
moment_windows as (

    select
        exposure_moments.learner_id,
        exposure_moments.first_exposed_at,
        metrics.metric_id,
        metric_events.event_role,
        metric_events.event_type,
        metric_events.aggregation,
        case
            when metrics.window_days is not null
                then {{ dbt.dateadd('day', 'metrics.window_days', 'exposure_moments.first_exposed_at') }}
        end as window_end_at,
        case
            when metrics.cuped_enabled and metrics.metric_type <> 'ratio'
                then {{ dbt.dateadd('day', '-1 * metrics.cuped_lookback_days', 'exposure_moments.first_exposed_at') }}
            else exposure_moments.first_exposed_at
        end as covariate_start_at
    from exposure_moments
    cross join metrics
    inner join metric_events
        on metrics.metric_id = metric_events.metric_id

),

-- the time span all the windows cover together (prunes the event scan)
window_span as (

    select
        min(covariate_start_at) as span_start_at,
        max(window_end_at) as span_end_at,
        count(*) - count(window_end_at) as open_windows
    from moment_windows

),

typed_events as (

    select
        events.learner_id,
        events.item_id,
        events.event_type,
        events.score,
        events.occurred_at
    from events
    inner join metric_event_types
        on events.event_type = metric_event_types.event_type
    cross join window_span
    where
        events.occurred_at >= window_span.span_start_at
        and (window_span.open_windows > 0 or events.occurred_at < window_span.span_end_at)
    {%- if as_of_var %}
        and events.occurred_at <= {{ experiments_as_of() }}
    {%- endif %}

),

-- the item's passing score is only needed for scored events (count_passed compares the
-- two): only those are joined with the items
relevant_events as (

    select
        typed_events.learner_id,
        typed_events.event_type,
        typed_events.score,
        typed_events.occurred_at,
        course_items.passing_score
    from typed_events
    left join course_items
        on typed_events.item_id = course_items.item_id
    where typed_events.score is not null

    union all

    select
        learner_id,
        event_type,
        score,
        occurred_at,
        cast(null as {{ dataproducts_type('double') }}) as passing_score
    from typed_events
    where score is null

),

matched_events as (

    select
        moment_windows.learner_id,
        moment_windows.first_exposed_at,
        moment_windows.metric_id,
        moment_windows.event_role,
        relevant_events.occurred_at >= moment_windows.first_exposed_at as is_after_exposure,
        {{ experiments_event_contribution(
            'moment_windows.aggregation', 'relevant_events.score', 'relevant_events.passing_score'
        ) }} as contribution
    from moment_windows
    inner join relevant_events
        on
            moment_windows.learner_id = relevant_events.learner_id
            and moment_windows.event_type = relevant_events.event_type
            and moment_windows.covariate_start_at <= relevant_events.occurred_at
            and (
                moment_windows.window_end_at is null
                or moment_windows.window_end_at > relevant_events.occurred_at
            )

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
