-- Rule: experiment_unit_metrics has exactly one row per analysis unit and metric
-- definition (units x metrics), with a value for every row.
-- Why: a unit without events must count as 0, not disappear; losing zero rows would
-- inflate every mean and bias every comparison.

with

units as (

    select * from {{ ref('int_experiment_units_assigned') }}

),

metrics as (

    select * from {{ ref('metric_definitions') }}

),

unit_metrics as (

    select * from {{ ref('experiment_unit_metrics') }}

),

expected as (

    select count(*) as expected_rows
    from units
    cross join metrics

),

actual as (

    select
        count(*) as actual_rows,
        sum(case when numerator_value is null then 1 else 0 end) as null_values
    from unit_metrics

),

final as (

    select
        expected.expected_rows,
        actual.actual_rows,
        actual.null_values
    from expected
    cross join actual
    where
        expected.expected_rows <> actual.actual_rows
        or actual.null_values > 0

)

select * from final
