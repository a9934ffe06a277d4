-- Sufficient statistics of every experiment x metric x variant (arm), from the unit
-- values: n, and sums, sums of squares and cross-products of the numerator y, the
-- denominator x (ratio metrics) and the pre-exposure covariate c, each shifted by its
-- mean over the experiment's units (precision; see macro stats_variance_from_sums).
-- Then the arm's moments, and the moments pooled over the arms that CUPED needs.
--
-- Each arm once over all its units (breakdown 'overall') and once per value of every
-- dimension of seed experiment_dimensions (breakdown 'slice'): a learner attribute of
-- stg_raw__learners; a unit whose learner has no value (or no staged row) is in the
-- slice '(unknown)', so the slices of a dimension partition the units.

with

unit_metrics as (

    select * from {{ ref('experiment_unit_metrics') }}

),

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

dimensions as (

    select * from {{ ref('experiment_dimensions') }}

),

shifted as (

    select
        experiment_id,
        learner_id,
        metric_id,
        variant,
        is_control,
        metric_type,
        numerator_value as y,
        coalesce(denominator_value, 0.0) as x,
        coalesce(covariate_value, 0.0) as c,
        covariate_value is not null as has_covariate,
        avg(numerator_value) over (partition by experiment_id, metric_id) as shift_y,
        avg(coalesce(denominator_value, 0.0)) over (partition by experiment_id, metric_id) as shift_x,
        avg(coalesce(covariate_value, 0.0)) over (partition by experiment_id, metric_id) as shift_c
    from unit_metrics

),

-- every unit's value of every registered dimension
unit_slices as (

    select distinct
        unit_metrics.experiment_id,
        unit_metrics.learner_id,
        dimensions.dimension_id,
        coalesce(
            case dimensions.learner_attribute
                when 'language' then learners.language
                when 'country_code' then learners.country_code
                when 'timezone' then learners.timezone
            end,
            '(unknown)'
        ) as dimension_value
    from unit_metrics
    cross join dimensions
    left join learners
        on unit_metrics.learner_id = learners.learner_id

),

broken_down as (

    select
        shifted.*,
        'overall' as breakdown,
        'overall' as breakdown_key,
        cast(null as {{ dataproducts_type('string') }}) as dimension_id,
        cast(null as {{ dataproducts_type('string') }}) as dimension_value
    from shifted

    union all

    select
        shifted.*,
        'slice' as breakdown,
        {{ dbt.concat(["'slice:'", 'unit_slices.dimension_id', "'='", 'unit_slices.dimension_value']) }}
            as breakdown_key,
        unit_slices.dimension_id,
        unit_slices.dimension_value
    from shifted
    inner join unit_slices
        on
            shifted.experiment_id = unit_slices.experiment_id
            and shifted.learner_id = unit_slices.learner_id

),

sums as (

    select
        experiment_id,
        metric_id,
        breakdown_key,
        breakdown,
        dimension_id,
        dimension_value,
        variant,
        is_control,
        metric_type,
        max(shift_y) as shift_y,
        max(shift_x) as shift_x,
        max(shift_c) as shift_c,
        max(case when has_covariate then 1 else 0 end) = 1 as has_covariate,
        count(*) as units,
        sum(y - shift_y) as sum_y,
        sum((y - shift_y) * (y - shift_y)) as sum_yy,
        sum(x - shift_x) as sum_x,
        sum((x - shift_x) * (x - shift_x)) as sum_xx,
        sum((x - shift_x) * (y - shift_y)) as sum_xy,
        sum(c - shift_c) as sum_c,
        sum((c - shift_c) * (c - shift_c)) as sum_cc,
        sum((c - shift_c) * (y - shift_y)) as sum_cy
    from broken_down
    group by
        experiment_id,
        metric_id,
        breakdown_key,
        breakdown,
        dimension_id,
        dimension_value,
        variant,
        is_control,
        metric_type

),

moments as (

    {{ experiments_arm_moments(
        'sums', ['experiment_id', 'metric_id', 'breakdown_key'], carry=['breakdown', 'dimension_id', 'dimension_value']
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
        breakdown,
        dimension_id,
        dimension_value,
        metric_type,

        -- numerics
        cast(null as integer) as day_number,
        {%- for column in experiments_arm_moment_columns() %}
            {{ column }},
        {%- endfor %}

        -- booleans
        is_control,
        has_covariate

    from moments

)

select * from final
