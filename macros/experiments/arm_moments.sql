{#-
    The moments of every arm from its (shifted) sufficient statistics, and the pooled
    moments CUPED needs: a select over `sums`, one row per row of `sums`. `sums` has, per
    arm: the key columns `keys` (the arm’s comparison, without the variant), variant,
    is_control, metric_type, has_covariate, units, the shifts shift_y / shift_x /
    shift_c and the shifted sums sum_y, sum_yy, sum_x, sum_xx, sum_xy, sum_c, sum_cc,
    sum_cy (see macro stats_variance_from_sums); the columns `carry` are passed through.
    The arms of one comparison (same `keys`) are pooled for CUPED.
-#}

{% macro experiments_arm_moments(sums, keys, carry=[]) -%}
    {%- set on = [] -%}
    {%- for key in keys -%}
        {%- do on.append('arm_sums.' ~ key ~ ' = pooled.' ~ key) -%}
    {%- endfor -%}
    select
        {%- for column in keys + carry %}
        {{ column }},
        {%- endfor %}
        variant,
        metric_type,
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
        is_control,
        has_covariate
    from (
        select
            {%- for column in keys + carry %}
            arm_sums.{{ column }},
            {%- endfor %}
            arm_sums.variant,
            arm_sums.metric_type,
            arm_sums.is_control,
            arm_sums.has_covariate,
            arm_sums.units,
            {{ stats_mean_from_sums('arm_sums.units', 'arm_sums.sum_y', 'arm_sums.shift_y') }} as mean_y,
            {{ stats_variance_from_sums('arm_sums.units', 'arm_sums.sum_y', 'arm_sums.sum_yy') }} as var_y,
            {{ stats_mean_from_sums('arm_sums.units', 'arm_sums.sum_x', 'arm_sums.shift_x') }} as mean_x,
            {{ stats_variance_from_sums('arm_sums.units', 'arm_sums.sum_x', 'arm_sums.sum_xx') }} as var_x,
            {{ stats_covariance_from_sums(
                'arm_sums.units', 'arm_sums.sum_x', 'arm_sums.sum_y', 'arm_sums.sum_xy', 'arm_sums.sum_xx', 'arm_sums.sum_yy'
            ) }}
                as cov_xy,
            {{ stats_mean_from_sums('arm_sums.units', 'arm_sums.sum_c', 'arm_sums.shift_c') }} as mean_c,
            {{ stats_variance_from_sums('arm_sums.units', 'arm_sums.sum_c', 'arm_sums.sum_cc') }} as var_c,
            {{ stats_covariance_from_sums(
                'arm_sums.units', 'arm_sums.sum_c', 'arm_sums.sum_y', 'arm_sums.sum_cy', 'arm_sums.sum_cc', 'arm_sums.sum_yy'
            ) }}
                as cov_cy,
            pooled.pooled_units,
            {{ stats_mean_from_sums('pooled.pooled_units', 'pooled.pooled_sum_c', 'arm_sums.shift_c') }}
                as pooled_mean_c,
            {{ stats_variance_from_sums('pooled.pooled_units', 'pooled.pooled_sum_c', 'pooled.pooled_sum_cc') }}
                as pooled_var_c,
            {{ stats_covariance_from_sums(
                'pooled.pooled_units', 'pooled.pooled_sum_c', 'pooled.pooled_sum_y', 'pooled.pooled_sum_cy',
                'pooled.pooled_sum_cc', 'pooled.pooled_sum_yy'
            ) }} as pooled_cov_cy
        from {{ sums }} as arm_sums
        inner join (
            select
                {%- for key in keys %}
                {{ key }},
                {%- endfor %}
                sum(units) as pooled_units,
                sum(sum_c) as pooled_sum_c,
                sum(sum_cc) as pooled_sum_cc,
                sum(sum_cy) as pooled_sum_cy,
                sum(sum_y) as pooled_sum_y,
            sum(sum_yy) as pooled_sum_yy
            from {{ sums }}
            group by {{ keys | join(', ') }}
        ) as pooled
            on {{ on | join(' and ') }}
    ) as arm_moments
{%- endmacro %}


{#-
    The columns experiments_arm_moments computes per arm, in its order (after the keys,
    variant and metric_type): what the arm models publish of it.
-#}

{% macro experiments_arm_moment_columns() -%}
    {{ return([
        'units', 'mean_y', 'var_y', 'mean_x', 'var_x', 'cov_xy', 'mean_c', 'var_c', 'cov_cy',
        'pooled_units', 'pooled_mean_c', 'pooled_var_c', 'pooled_cov_cy', 'cuped_theta',
        'estimate', 'estimate_variance',
    ]) }}
{%- endmacro %}
