{#-
    The posterior quantile function of every message variant’s helpfulness
    rate at levels (k + 0.5) / n_levels, k = 0 .. n_levels - 1 (n_levels =
    1000), by linear interpolation of the gridded CDF. Thompson sampling draws
    from the posterior by inverse-transform sampling: a deterministic uniform
    number u picks level k = floor(u * n_levels), and the draw is its quantile.
    Exactly n_levels rows per message variant (tested).
-#}
{%- set n_levels = 1000 -%}

with

grid as (

    select * from {{ ref('int_coaching_posterior_cdfs_gridded') }}

),

counts as (

    select * from {{ ref('int_coaching_feedback_counted') }}

),

intervals as (

    select
        performance_key,
        x as x_lo,
        cdf as cdf_lo,
        lead(x) over (partition by performance_key order by x, point_index) as x_hi,
        lead(cdf) over (partition by performance_key order by x, point_index) as cdf_hi
    from grid

),

-- level k belongs to the interval where cdf_lo <= (k + 0.5) / n < cdf_hi
level_ranges as (

    select
        intervals.*,
        ceil({{ n_levels }} * intervals.cdf_lo - 0.5) as k_lo,
        ceil({{ n_levels }} * intervals.cdf_hi - 0.5) - 1 as k_hi
    from intervals
    where intervals.cdf_hi > intervals.cdf_lo

),

levels as (

    select
        level_ranges.performance_key,
        level_grid.k as level_index,
        level_ranges.x_lo
        + ((level_grid.k + 0.5) / {{ n_levels }}.0 - level_ranges.cdf_lo)
        / (level_ranges.cdf_hi - level_ranges.cdf_lo)
        * (level_ranges.x_hi - level_ranges.x_lo) as quantile
    from level_ranges
    {{ coaching_join_integer_range(
        'greatest(level_ranges.k_lo, 0)',
        'least(level_ranges.k_hi, ' ~ (n_levels - 1) ~ ')',
        'level_grid',
        'k'
    ) }}

),

final as (

    select
        -- ids
        levels.performance_key,
        counts.message_id,
        counts.variant,

        -- numerics
        cast(levels.level_index as integer) as level_index,
        cast(levels.quantile as {{ dataproducts_type('double') }}) as quantile
    from levels
    inner join counts
        on levels.performance_key = counts.performance_key
    where counts.grain = 'variant'

)

select * from final
