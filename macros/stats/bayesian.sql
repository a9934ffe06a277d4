{#-
    The Bayesian view of an effect, as GrowthBook's engine (gbstats, EffectBayesianABTest)
    computes it: a Gaussian likelihood of the effect (its estimate and the variance of the
    estimate, from the frequentist test), a Gaussian prior (improper, i.e. flat, by
    default), and from the posterior N(m, s²): the chance that the effect is favourable,
    the expected loss (risk) of each choice and the credible interval.

    Every expression is null where the posterior is undefined (a variance that is null
    or not positive), never (0, 0) or 0.5: an undefined statistic is no evidence.
-#}

{% macro stats_normal_density(z) -%}
    {#- φ(z), the standard normal density. -#}
    (0.3989422804014327 * {{ stats_safe_exp("-0.5 * " ~ stats_double(z) ~ " * " ~ stats_double(z)) }})
{%- endmacro %}


{% macro stats_gaussian_posterior_variance(variance, prior_variance, proper) -%}
    {#- s² = 1 / (1/v + 1/v0) with a proper prior of variance v0; v with the flat prior. -#}
    {%- if proper -%}
        (case when {{ variance }} > 0 then 1.0 / (1.0 / {{ stats_double(variance) }} + 1.0 / {{ stats_double(prior_variance) }}) end)
    {%- else -%}
        (case when {{ variance }} > 0 then {{ stats_double(variance) }} end)
    {%- endif -%}
{%- endmacro %}


{% macro stats_gaussian_posterior_mean(estimate, variance, prior_mean, prior_variance, proper) -%}
    {#- m = (x/v + μ0/v0) / (1/v + 1/v0) with a proper prior N(μ0, v0); x with the flat one. -#}
    {%- if proper -%}
        (case when {{ variance }} > 0 then
            ({{ stats_double(estimate) }} / {{ stats_double(variance) }} + {{ stats_double(prior_mean) }} / {{ stats_double(prior_variance) }})
            / (1.0 / {{ stats_double(variance) }} + 1.0 / {{ stats_double(prior_variance) }})
        end)
    {%- else -%}
        (case when {{ variance }} > 0 then {{ stats_double(estimate) }} end)
    {%- endif -%}
{%- endmacro %}


{% macro stats_gaussian_chance_and_risk(relation, mean, sd, chance='chance', risk='risk', risk_other='risk_other') -%}
    {#-
        select *, ... from <relation>: for δ ~ N(<mean>, <sd>²) (columns of <relation>),
        <chance> = P(δ > 0) = Φ(z), z = mean/sd; <risk> = E[max(−δ, 0)] = sd·φ(z) −
        mean·Φ(−z), the expected loss of choosing the option whose advantage is δ; and
        <risk_other> = E[max(δ, 0)] = sd·φ(z) + mean·Φ(z), the loss of the other option.
        One normal tail, of |z| (computed as a tail, so a chance of 1e-12 keeps its digits;
        the other side is 1 minus it), and one density per row; null unless sd > 0.
        Helper columns named _gr_* are selected too; the selects are fenced
        (stats_subquery_fence).
    -#}
    {%- set fence = stats_subquery_fence() %}
    select
        *,
        case when _gr_z >= 0 then 1.0 - _gr_tail else _gr_tail end as {{ chance }},
        {{ sd }} * _gr_density - {{ mean }} * (case when _gr_z >= 0 then _gr_tail else 1.0 - _gr_tail end)
            as {{ risk }},
        {{ sd }} * _gr_density + {{ mean }} * (case when _gr_z >= 0 then 1.0 - _gr_tail else _gr_tail end)
            as {{ risk_other }}
    from (
        select
            *,
            -- scaled so that the tail at 0 is exactly 1/2 (the erfc approximation gives
            -- 0.5 - 1.5e-8 there, a jump of 3e-8 in the chance where the mean crosses 0,
            -- e.g. by a rounding of ±1e-16 that differs by engine); within its 1.2e-7
            -- relative error elsewhere
            {{ stats_normal_upper_tail('abs(_gr_z)') }} * (0.5 / {{ stats_normal_upper_tail('0.0') }}) as _gr_tail,
            {{ stats_normal_density('_gr_z') }} as _gr_density
        from (
            select
                *,
                {{ stats_safe_divide(mean, 'case when ' ~ sd ~ ' > 0 then ' ~ sd ~ ' end') }} as _gr_z
            from {{ relation }}
            {{ fence }}
        ) as _gr_scaled
        {{ fence }}
    ) as _gr_tails
{%- endmacro %}
