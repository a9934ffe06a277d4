-- The arms of every experiment x metric as they stood at the end of each day since the
-- experiment started (breakdown 'day'): the sufficient statistics and moments of
-- int_experiment_metric_arms_aggregated, over the units first exposed by then, each with
-- the events of its window that had happened by then. Day 0 is the start's UTC date; day
-- N ends at midnight UTC after the Nth date. The series of every metric of an experiment
-- runs until every window of every metric has closed (the experiment's end plus the
-- window; open-ended windows never close) or the as-of time (var experiments_as_of, by
-- default the latest staged event), whichever comes first, and at most var
-- experiments_series_max_days days; its last day is the overall result.
--
-- A unit's value only grows with its events, so the sums are kept as increments: a unit
-- adds 1 to n (and its shifted zero value and its covariate) on the day of its first
-- exposure, and on each day with events the change of its shifted value, square and
-- cross-products; the running totals over the days are the day's sums. The shifts are
-- the overall means of the experiment's units (as in int_experiment_metric_arms_aggregated).

{%- set max_days = var('experiments_series_max_days') %}
{%- set running = 'partition by unit_days.experiment_id, unit_days.learner_id, unit_days.metric_id'
    ~ ' order by unit_days.day_number rows between unbounded preceding and current row' %}

with

unit_metrics as (

    select * from {{ ref('experiment_unit_metrics') }}

),

matched_events as (

    select * from {{ ref('int_experiment_events_matched') }}

),

metrics as (

    select * from {{ ref('metric_definitions') }}

),

experiments as (

    select * from {{ ref('experiments') }}

),

units as (

    select
        unit_metrics.experiment_id,
        unit_metrics.learner_id,
        unit_metrics.metric_id,
        unit_metrics.variant,
        unit_metrics.is_control,
        unit_metrics.metric_type,
        unit_metrics.first_exposed_at,
        cast(unit_metrics.first_exposed_at as date) as exposure_date,
        cast(experiments.start_at as date) as start_date,
        coalesce(unit_metrics.covariate_value, 0.0) as c,
        unit_metrics.covariate_value is not null as has_covariate,
        avg(unit_metrics.numerator_value)
            over (partition by unit_metrics.experiment_id, unit_metrics.metric_id) as shift_y,
        avg(coalesce(unit_metrics.denominator_value, 0.0))
            over (partition by unit_metrics.experiment_id, unit_metrics.metric_id) as shift_x,
        avg(coalesce(unit_metrics.covariate_value, 0.0))
            over (partition by unit_metrics.experiment_id, unit_metrics.metric_id) as shift_c
    from unit_metrics
    inner join experiments
        on unit_metrics.experiment_id = experiments.experiment_id

),

-- the events in the windows after the exposures, with their UTC date
window_events as (

    select
        learner_id,
        first_exposed_at,
        metric_id,
        event_role,
        contribution,
        cast(occurred_at as date) as event_date
    from matched_events
    where is_after_exposure

),

-- each unit's events, on the day of the experiment they happened
unit_events as (

    select
        units.experiment_id,
        units.learner_id,
        units.metric_id,
        window_events.event_role,
        window_events.contribution,
        {{ dbt.datediff('units.start_date', 'window_events.event_date', 'day') }}
            as day_number
    from units
    inner join window_events
        on
            units.learner_id = window_events.learner_id
            and units.first_exposed_at = window_events.first_exposed_at
            and units.metric_id = window_events.metric_id

),

-- per unit and day with events: what the events of that day add
unit_days as (

    select
        experiment_id,
        learner_id,
        metric_id,
        day_number,
        sum(case when event_role = 'numerator' then contribution end) as numerator_sum,
        count(case when event_role = 'numerator' then 1 end) as numerator_events,
        sum(case when event_role = 'denominator' then contribution end) as denominator_sum,
        count(case when event_role = 'denominator' then 1 end) as denominator_events
    from unit_events
    group by
        experiment_id,
        learner_id,
        metric_id,
        day_number

),

-- the unit's running totals, and its value (y, and x for ratio metrics) at the end of the day
unit_running as (

    select
        unit_days.experiment_id,
        unit_days.learner_id,
        unit_days.metric_id,
        unit_days.day_number,
        {{ experiments_finalize_value(
            'metrics.numerator_aggregation',
            'sum(unit_days.numerator_sum) over (' ~ running ~ ')',
            'sum(unit_days.numerator_events) over (' ~ running ~ ')'
        ) }} as y,
        case
            when metrics.metric_type = 'ratio'
                then {{ experiments_finalize_value(
                    'metrics.denominator_aggregation',
                    'sum(unit_days.denominator_sum) over (' ~ running ~ ')',
                    'sum(unit_days.denominator_events) over (' ~ running ~ ')'
                ) }}
            else 0.0
        end as x
    from unit_days
    inner join metrics
        on unit_days.metric_id = metrics.metric_id

),

unit_changes as (

    select
        experiment_id,
        learner_id,
        metric_id,
        day_number,
        y,
        x,
        lag(y, 1, 0.0) over (partition by experiment_id, learner_id, metric_id order by day_number) as previous_y,
        lag(x, 1, 0.0) over (partition by experiment_id, learner_id, metric_id order by day_number) as previous_x
    from unit_running

),

-- the increments of the shifted sums: a unit's first exposure, then its days with events
increments as (

    select
        experiment_id,
        metric_id,
        variant,
        is_control,
        metric_type,
        {{ dbt.datediff('start_date', 'exposure_date', 'day') }}
            as day_number,
        has_covariate,
        1 as units,
        -shift_y as sum_y,
        shift_y * shift_y as sum_yy,
        -shift_x as sum_x,
        shift_x * shift_x as sum_xx,
        shift_x * shift_y as sum_xy,
        c - shift_c as sum_c,
        (c - shift_c) * (c - shift_c) as sum_cc,
        -(c - shift_c) * shift_y as sum_cy
    from units

    union all

    select
        units.experiment_id,
        units.metric_id,
        units.variant,
        units.is_control,
        units.metric_type,
        unit_changes.day_number,
        units.has_covariate,
        0 as units,
        unit_changes.y - unit_changes.previous_y as sum_y,
        (unit_changes.y - units.shift_y) * (unit_changes.y - units.shift_y)
        - (unit_changes.previous_y - units.shift_y) * (unit_changes.previous_y - units.shift_y) as sum_yy,
        unit_changes.x - unit_changes.previous_x as sum_x,
        (unit_changes.x - units.shift_x) * (unit_changes.x - units.shift_x)
        - (unit_changes.previous_x - units.shift_x) * (unit_changes.previous_x - units.shift_x) as sum_xx,
        (unit_changes.x - units.shift_x) * (unit_changes.y - units.shift_y)
        - (unit_changes.previous_x - units.shift_x) * (unit_changes.previous_y - units.shift_y) as sum_xy,
        0.0 as sum_c,
        0.0 as sum_cc,
        (units.c - units.shift_c) * (unit_changes.y - unit_changes.previous_y) as sum_cy
    from unit_changes
    inner join units
        on
            unit_changes.experiment_id = units.experiment_id
            and unit_changes.learner_id = units.learner_id
            and unit_changes.metric_id = units.metric_id

),

daily_increments as (

    select
        experiment_id,
        metric_id,
        variant,
        is_control,
        metric_type,
        day_number,
        max(case when has_covariate then 1 else 0 end) as has_covariate,
        sum(units) as units,
        sum(sum_y) as sum_y,
        sum(sum_yy) as sum_yy,
        sum(sum_x) as sum_x,
        sum(sum_xx) as sum_xx,
        sum(sum_xy) as sum_xy,
        sum(sum_c) as sum_c,
        sum(sum_cc) as sum_cc,
        sum(sum_cy) as sum_cy
    from increments
    group by
        experiment_id,
        metric_id,
        variant,
        is_control,
        metric_type,
        day_number

),

-- the days of each experiment: from day 0 until every window of every metric has closed
-- (a metric whose window closed earlier stays as it was) or the as-of time
metric_series_ends as (

    select
        experiments.experiment_id,
        {{ dbt.datediff(
            'cast(experiments.start_at as date)',
            'cast(case when metrics.window_days is null then ' ~ experiments_as_of() ~ ' else least('
                ~ experiments_as_of() ~ ', ' ~ dbt.dateadd('day', 'metrics.window_days', 'experiments.end_at')
                ~ ') end as date)',
            'day'
        ) }} as last_day
    from experiments
    cross join metrics

),

series_ends as (

    select
        experiment_id,
        max(last_day) as last_day
    from metric_series_ends
    group by experiment_id

),

day_numbers as (

    select cast(generated_number as integer) - 1 as day_number
    from ({{ dbt.generate_series(max_days) }}) as series

),

arms as (

    select distinct
        experiment_id,
        metric_id,
        variant,
        is_control,
        metric_type
    from units

),

arm_days as (

    select
        arms.experiment_id,
        arms.metric_id,
        arms.variant,
        arms.is_control,
        arms.metric_type,
        day_numbers.day_number
    from arms
    inner join series_ends
        on arms.experiment_id = series_ends.experiment_id
    inner join day_numbers
        on series_ends.last_day >= day_numbers.day_number

),

shifts as (

    select distinct
        experiment_id,
        metric_id,
        shift_y,
        shift_x,
        shift_c
    from units

),

-- the running totals: each day's sums over the units exposed by its end
sums as (

    select
        arm_days.experiment_id,
        arm_days.metric_id,
        {{ dbt.concat(["'day:'", 'cast(arm_days.day_number as ' ~ dataproducts_type('string') ~ ')']) }}
            as breakdown_key,
        arm_days.day_number,
        arm_days.variant,
        arm_days.is_control,
        arm_days.metric_type,
        shifts.shift_y,
        shifts.shift_x,
        shifts.shift_c,
        sum(coalesce(daily_increments.has_covariate, 0)) over running_total as has_covariate,
        sum(coalesce(daily_increments.units, 0)) over running_total as units,
        sum(coalesce(daily_increments.sum_y, 0)) over running_total as sum_y,
        sum(coalesce(daily_increments.sum_yy, 0)) over running_total as sum_yy,
        sum(coalesce(daily_increments.sum_x, 0)) over running_total as sum_x,
        sum(coalesce(daily_increments.sum_xx, 0)) over running_total as sum_xx,
        sum(coalesce(daily_increments.sum_xy, 0)) over running_total as sum_xy,
        sum(coalesce(daily_increments.sum_c, 0)) over running_total as sum_c,
        sum(coalesce(daily_increments.sum_cc, 0)) over running_total as sum_cc,
        sum(coalesce(daily_increments.sum_cy, 0)) over running_total as sum_cy
    from arm_days
    inner join shifts
        on
            arm_days.experiment_id = shifts.experiment_id
            and arm_days.metric_id = shifts.metric_id
    left join daily_increments
        on
            arm_days.experiment_id = daily_increments.experiment_id
            and arm_days.metric_id = daily_increments.metric_id
            and arm_days.variant = daily_increments.variant
            and arm_days.day_number = daily_increments.day_number
    window running_total as (
        partition by arm_days.experiment_id, arm_days.metric_id, arm_days.variant
        order by arm_days.day_number
        rows between unbounded preceding and current row
    )

),

-- an arm enters the series on the first day it has a unit
entered as (

    select
        experiment_id,
        metric_id,
        breakdown_key,
        day_number,
        variant,
        is_control,
        metric_type,
        shift_y,
        shift_x,
        shift_c,
        has_covariate > 0 as has_covariate,
        units,
        sum_y,
        sum_yy,
        sum_x,
        sum_xx,
        sum_xy,
        sum_c,
        sum_cc,
        sum_cy
    from sums
    where units > 0

),

moments as (

    {{ experiments_arm_moments(
        'entered', ['experiment_id', 'metric_id', 'breakdown_key'], carry=['day_number']
    ) }}

),

final as (

    select
        -- ids
        experiment_id,
        metric_id,
        variant,
        breakdown_key,

        -- strings
        cast('day' as {{ dataproducts_type('string') }}) as breakdown,
        cast(null as {{ dataproducts_type('string') }}) as dimension_id,
        cast(null as {{ dataproducts_type('string') }}) as dimension_value,
        metric_type,

        -- numerics
        cast(day_number as integer) as day_number,
        {%- for column in experiments_arm_moment_columns() %}
            {{ column }},
        {%- endfor %}

        -- booleans
        is_control,
        has_covariate

    from moments

)

select * from final
