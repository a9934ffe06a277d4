-- Sufficient statistics of every experiment x metric x variant (arm), from the unit
-- values: n, and sums, sums of squares and cross-products of the numerator y, the
-- denominator x (ratio metrics) and the pre-exposure covariate c, each shifted by its
-- mean over the experiment's units (precision; see macro stats_variance_from_sums).
-- Then the arm's moments, and the experiment-pooled moments CUPED needs.

with

unit_metrics as (

    select * from {{ ref('experiment_unit_metrics') }}

),

shifted as (

    select
        experiment_id,
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

sums as (

    select
        experiment_id,
        metric_id,
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
    from shifted
    group by
        experiment_id,
        metric_id,
        variant,
        is_control,
        metric_type

),

pooled as (

    select
        experiment_id,
        metric_id,
        sum(units) as pooled_units,
        sum(sum_c) as pooled_sum_c,
        sum(sum_cc) as pooled_sum_cc,
        sum(sum_cy) as pooled_sum_cy,
        sum(sum_y) as pooled_sum_y
    from sums
    group by
        experiment_id,
        metric_id

),

moments as (

    select
        sums.experiment_id,
        sums.metric_id,
        sums.variant,
        sums.is_control,
        sums.metric_type,
        sums.has_covariate,
        sums.units,
        {{ stats_mean_from_sums('sums.units', 'sums.sum_y', 'sums.shift_y') }} as mean_y,
        {{ stats_variance_from_sums('sums.units', 'sums.sum_y', 'sums.sum_yy') }} as var_y,
        {{ stats_mean_from_sums('sums.units', 'sums.sum_x', 'sums.shift_x') }} as mean_x,
        {{ stats_variance_from_sums('sums.units', 'sums.sum_x', 'sums.sum_xx') }} as var_x,
        {{ stats_covariance_from_sums('sums.units', 'sums.sum_x', 'sums.sum_y', 'sums.sum_xy') }} as cov_xy,
        {{ stats_mean_from_sums('sums.units', 'sums.sum_c', 'sums.shift_c') }} as mean_c,
        {{ stats_variance_from_sums('sums.units', 'sums.sum_c', 'sums.sum_cc') }} as var_c,
        {{ stats_covariance_from_sums('sums.units', 'sums.sum_c', 'sums.sum_y', 'sums.sum_cy') }} as cov_cy,
        pooled.pooled_units,
        {{ stats_mean_from_sums('pooled.pooled_units', 'pooled.pooled_sum_c', 'sums.shift_c') }} as pooled_mean_c,
        {{ stats_variance_from_sums('pooled.pooled_units', 'pooled.pooled_sum_c', 'pooled.pooled_sum_cc') }}
            as pooled_var_c,
        {{ stats_covariance_from_sums(
            'pooled.pooled_units', 'pooled.pooled_sum_c', 'pooled.pooled_sum_y', 'pooled.pooled_sum_cy'
        ) }} as pooled_cov_cy
    from sums
    inner join pooled
        on
            sums.experiment_id = pooled.experiment_id
            and sums.metric_id = pooled.metric_id

),

final as (

    select
        -- ids
        experiment_id,
        metric_id,
        variant,

        -- strings
        metric_type,

        -- numerics
        units,
        mean_y,
        var_y,
        mean_x,
        var_x,
        cov_xy,
        mean_c,
        var_c,
        cov_cy,
        pooled_units,
        pooled_mean_c,
        pooled_var_c,
        pooled_cov_cy,
        {{ stats_cuped_theta('pooled_cov_cy', 'pooled_var_c') }} as cuped_theta,
        -- the arm's estimate and its variance: the mean for proportion and mean
        -- metrics; for ratio metrics sum(y) / sum(x) with its delta-method variance
        case
            when metric_type = 'ratio' then {{ stats_safe_divide('mean_y', 'mean_x') }}
            else mean_y
        end as estimate,
        case
            when metric_type = 'ratio'
                then {{ stats_delta_ratio_variance('units', 'mean_y', 'mean_x', 'var_y', 'var_x', 'cov_xy') }}
            else {{ stats_safe_divide('var_y', 'units') }}
        end as estimate_variance,

        -- booleans
        is_control,
        has_covariate

    from moments

)

select * from final
