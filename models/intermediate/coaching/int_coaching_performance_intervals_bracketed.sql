{#-
    The first half of the credible-interval computation of
    coaching_message_performance: for every performance key and interval bound
    (lower, upper), the Beta posterior quantile's bracket and estimate after
    the coarse bracket and the first three safeguarded Newton steps (macros
    coaching_beta_quantile_start_ctes and coaching_beta_quantile_step_ctes, as
    top-level CTEs). coaching_message_performance runs the last three steps:
    the same six steps as coaching_beta_quantile in one statement, split in
    two so that Spark's analyzer, which stops at its iteration limit on the
    whole chain, takes each half.
-#}
{%- set level = var('coaching_credible_level') | float -%}
{%- if not (0 < level < 1) -%}
    {{ exceptions.raise_compiler_error(
        "var coaching_credible_level must be within (0, 1); got " ~ level
    ) }}
{%- endif -%}

with

counts as (

    select * from {{ ref('int_coaching_feedback_counted') }}

),

interval_levels as (

    select
        levels.bound,
        levels.probability
    from (
        values
        ('lower', {{ (1 - level) / 2 }}),
        ('upper', {{ (1 + level) / 2 }})
    ) as levels (bound, probability)

),

interval_points as (

    select
        counts.performance_key,
        interval_levels.bound,
        counts.posterior_alpha as alpha,
        counts.posterior_beta as beta,
        interval_levels.probability
    from counts
    cross join interval_levels

),

{{ coaching_beta_quantile_start_ctes('interval_points', ['performance_key', 'bound']) }},

{{ coaching_beta_quantile_step_ctes(['performance_key', 'bound'], 1, 3) }},

final as (

    select
        performance_key,
        bound,
        alpha,
        beta,
        probability,
        ln_beta_function,
        bracket_lo,
        bracket_hi,
        x
    from quantile_step_3

)

select * from final
