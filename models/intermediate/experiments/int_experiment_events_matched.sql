-- Every event a metric of seed metric_definitions reads, matched with the windows of the
-- exposure moments it falls in: one row per distinct (learner, first exposure) "exposure
-- moment" x metric x event role (numerator, denominator) x event, inside the CUPED
-- lookback before the exposure or the metric window after it, with the event's
-- contribution (macro experiments_event_contribution) and its time. Several experiments
-- often expose a learner at the same course view: the events are matched once per
-- moment. Only events of an event type some metric reads and inside the time span the
-- windows cover are kept; an event is compared only with the windows of its own learner
-- and event type (both are hash-join keys). Events after the as-of time (var
-- experiments_as_of, by default the latest staged event) never count.
-- Read by experiment_unit_metrics (per unit) and int_experiment_metric_arms_daily (per
-- day); a view: not stored.

{{ config(materialized='view') }}

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
        relevant_events.occurred_at,
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

)

select * from matched_events
