{#-
    The posterior CDF of the helpfulness rate of every message variant
    (rows of int_coaching_feedback_counted at grain 'variant', the ones
    Thompson sampling draws from), evaluated exactly (macro
    coaching_beta_cdf) on a grid: grid_points + 1 equally spaced points over
    mean +- 12 sd clipped to [0, 1], plus the end points 0 and 1. Linear
    interpolation between grid points gives the Thompson-sampling quantile
    table (int_coaching_posterior_quantiles_tabulated). The credible
    interval of coaching_message_performance does not use the grid: it solves
    for its two quantiles directly (macro coaching_beta_quantile).
-#}
{%- set grid_points = var('coaching_posterior_grid_points', 1000) | int -%}

with

counts as (

    select * from {{ ref('int_coaching_feedback_counted') }}

),

variant_counts as (

    select * from counts
    where grain = 'variant'

),

moments as (

    select
        performance_key,
        posterior_alpha as alpha,
        posterior_beta as beta,
        {{ stats_double('posterior_alpha') }} / (posterior_alpha + posterior_beta) as posterior_mean,
        sqrt(
            {{ stats_double('posterior_alpha') }} * posterior_beta
            / (
                {{ stats_double('posterior_alpha + posterior_beta') }}
                * (posterior_alpha + posterior_beta)
                * (posterior_alpha + posterior_beta + 1)
            )
        ) as posterior_sd
    from variant_counts

),

ranges as (

    select
        performance_key,
        alpha,
        beta,
        greatest(0.0, posterior_mean - 12.0 * posterior_sd) as x_lo,
        least(1.0, posterior_mean + 12.0 * posterior_sd) as x_hi
    from moments

),

points as (

    select
        ranges.performance_key,
        grid.i + 1 as point_index,
        ranges.alpha,
        ranges.beta,
        ranges.x_lo + (ranges.x_hi - ranges.x_lo) * grid.i / {{ grid_points }}.0 as x
    from ranges
    {{ coaching_join_integer_range('0', grid_points, 'grid', 'i') }}

    union all

    select
        performance_key,
        0 as point_index,
        alpha,
        beta,
        0.0 as x
    from ranges

    union all

    select
        performance_key,
        {{ grid_points + 2 }} as point_index,
        alpha,
        beta,
        1.0 as x
    from ranges

),

cdfs as (

    {{ coaching_beta_cdf('points', ['performance_key', 'point_index']) }}

),

final as (

    select
        -- ids
        performance_key,
        cast(point_index as integer) as point_index,

        -- numerics
        cast(x as {{ dataproducts_type('double') }}) as x,
        -- running max: the CDF is non-decreasing; this removes rounding noise
        cast(max(cdf) over (
            partition by performance_key
            order by x, point_index
            rows between unbounded preceding and current row
        ) as {{ dataproducts_type('double') }}) as cdf
    from cdfs

)

select * from final
