{#-
    The feedback loop: how each coaching message, and each of its variants,
    performs, and whether it is suppressed. One row per message and variant
    (grain = 'variant') and one per message over all its variants
    (grain = 'message', variant null).

    Rates: engagement = engaged / deliveries (clicked or voted), helpfulness
    = helpful / (helpful + not_helpful). The helpfulness rate has the posterior
    Beta(1 + helpful, 1 + not_helpful) (uniform prior); its equal-tailed
    credible interval and P(rate < threshold) are computed exactly (macro
    coaching_beta_cdf; the interval end points by safeguarded Newton steps on
    the exact CDF, |error| < 1e-11: the first three in
    int_coaching_performance_intervals_bracketed, the last three here, macro
    coaching_beta_quantile_step_ctes). A row is
    suppressed when P(rate < var coaching_suppression_threshold) > var
    coaching_suppression_probability with at least var
    coaching_suppression_min_responses votes; a variant is also suppressed
    when its message is.
-#}
{%- set level = var('coaching_credible_level') | float -%}
{%- set threshold = var('coaching_suppression_threshold') | float -%}
{%- if not (0 < level < 1) or not (0 < threshold < 1) -%}
    {{ exceptions.raise_compiler_error(
        "vars coaching_credible_level and coaching_suppression_threshold must be within (0, 1); got "
        ~ level ~ " and " ~ threshold
    ) }}
{%- endif -%}

with

counts as (

    select * from {{ ref('int_coaching_feedback_counted') }}

),

messages as (

    select * from {{ ref('coaching_messages') }}

),

message_types as (

    select distinct
        message_id,
        message_type
    from messages

),

threshold_points as (

    select
        performance_key,
        posterior_alpha as alpha,
        posterior_beta as beta,
        {{ threshold }} as x
    from counts

),

threshold_cdfs as (

    {{ coaching_beta_cdf('threshold_points', ['performance_key']) }}

),

-- the state after the first three Newton steps; the last three follow
quantile_step_0 as (

    select * from {{ ref('int_coaching_performance_intervals_bracketed') }}

),

{{ coaching_beta_quantile_step_ctes(['performance_key', 'bound'], 1, 3) }},

interval_bounds as (

    select
        performance_key,
        bound,
        x as quantile
    from quantile_step_3

),

scored as (

    select
        counts.*,
        threshold_cdfs.cdf as p_below_threshold,
        lower_bounds.quantile as credible_interval_lower,
        upper_bounds.quantile as credible_interval_upper,
        (
            threshold_cdfs.cdf > {{ var('coaching_suppression_probability') }}
            and counts.n_votes >= {{ var('coaching_suppression_min_responses') }}
        ) as is_suppressed_by_own_feedback
    from counts
    inner join threshold_cdfs
        on counts.performance_key = threshold_cdfs.performance_key
    left join interval_bounds as lower_bounds
        on counts.performance_key = lower_bounds.performance_key
            and lower_bounds.bound = 'lower'
    left join interval_bounds as upper_bounds
        on counts.performance_key = upper_bounds.performance_key
            and upper_bounds.bound = 'upper'

),

final as (

    select
        -- ids
        cast(scored.performance_key as {{ dbt.type_string() }}) as performance_key,
        cast(scored.message_id as {{ dbt.type_string() }}) as message_id,
        cast(scored.variant as {{ dbt.type_string() }}) as variant,

        -- strings
        cast(scored.grain as {{ dbt.type_string() }}) as grain,
        cast(message_types.message_type as {{ dbt.type_string() }}) as message_type,

        -- numerics
        cast(scored.n_deliveries as bigint) as n_deliveries,
        cast(scored.n_clicks as bigint) as n_clicks,
        cast(scored.n_helpful as bigint) as n_helpful,
        cast(scored.n_not_helpful as bigint) as n_not_helpful,
        cast(scored.n_dismissed as bigint) as n_dismissed,
        cast(scored.n_engaged as bigint) as n_engaged,
        cast(scored.n_votes as bigint) as n_votes,
        cast({{ stats_safe_divide('scored.n_engaged', 'scored.n_deliveries') }} as {{ dataproducts_type('double') }})
            as engagement_rate,
        cast({{ stats_safe_divide('scored.n_helpful', 'scored.n_votes') }} as {{ dataproducts_type('double') }})
            as helpfulness_rate,
        cast(scored.posterior_alpha as bigint) as posterior_alpha,
        cast(scored.posterior_beta as bigint) as posterior_beta,
        cast({{ stats_safe_divide(
            'scored.posterior_alpha', 'scored.posterior_alpha + scored.posterior_beta'
        ) }} as {{ dataproducts_type('double') }}) as posterior_mean,
        cast(scored.credible_interval_lower as {{ dataproducts_type('double') }}) as credible_interval_lower,
        cast(scored.credible_interval_upper as {{ dataproducts_type('double') }}) as credible_interval_upper,
        cast(scored.p_below_threshold as {{ dataproducts_type('double') }}) as p_below_threshold,

        -- booleans
        cast(scored.is_suppressed_by_own_feedback as boolean) as is_suppressed_by_own_feedback,
        cast(
            scored.is_suppressed_by_own_feedback
            or coalesce(message_rows.is_suppressed_by_own_feedback, false)
            as boolean
        ) as is_suppressed
    from scored
    inner join message_types
        on scored.message_id = message_types.message_id
    left join scored as message_rows
        on scored.grain = 'variant'
            and message_rows.grain = 'message'
            and scored.message_id = message_rows.message_id

)

select * from final
