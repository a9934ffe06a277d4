{#-
    Always-valid (anytime) inference: the asymptotic confidence sequences of Waudby-Smith,
    Wu, Ramdas, Karampatziakis and Mineiro ("Anytime-valid off-policy inference" /
    "Time-uniform central limit theory", arXiv 2103.06476v7), as GrowthBook's engine
    implements them (gbstats SequentialTwoSidedTTest). An interval that holds at every
    sample size at once: a data scientist may look every day and stop whenever it
    excludes 0, and the chance that it ever excludes a true 0 stays below alpha.

    With N the units of both arms, V the variance of the estimate (so N·V estimates the
    unit-level variance s²), τ the tuning parameter (the N where the sequence is
    tightest) and ρ² = (−2 ln α + ln(1 − 2 ln α)) / τ (eq. 161):
        half-width = sqrt(N V) · sqrt(2 (N ρ² + 1) ln(sqrt(N ρ² + 1) / α) / (N ρ)²)   (eq. 9)
        p = min(1, sqrt(N ρ² + 1) · exp(−ρ² (x² N / V) / (2 (N ρ² + 1))))            (eq. 155)
    Expressions repeat their arguments: pass column names. Null where V is null or not
    positive, N is not positive, or (for p) the estimate is null.
-#}

{% macro stats_sequential_rho_squared(alpha, tuning) -%}
    {#- ρ² of the confidence sequence tightest at N = tuning (eq. 161). -#}
    ((-2.0 * ln({{ stats_double(alpha) }}) + ln(1.0 - 2.0 * ln({{ stats_double(alpha) }}))) / {{ stats_double(tuning) }})
{%- endmacro %}


{% macro stats_sequential_halfwidth(variance, n, alpha, tuning) -%}
    {#- The half-width of the (1 − alpha) asymptotic confidence sequence (eq. 9). -#}
    {%- set r2 = stats_sequential_rho_squared(alpha, tuning) -%}
    {%- set nn = stats_double(n) -%}
    (case when {{ variance }} > 0 and {{ n }} > 0 then
        sqrt({{ nn }} * {{ stats_double(variance) }})
        * sqrt(
            2.0 * ({{ nn }} * {{ r2 }} + 1.0)
            * ln(sqrt({{ nn }} * {{ r2 }} + 1.0) / {{ stats_double(alpha) }})
            / ({{ nn }} * {{ nn }} * {{ r2 }})
        )
    end)
{%- endmacro %}


{% macro stats_sequential_p(estimate, variance, n, alpha, tuning) -%}
    {#- The always-valid p-value of estimate = 0 (eq. 155; 1 / the e-value, at most 1). -#}
    {%- set r2 = stats_sequential_rho_squared(alpha, tuning) -%}
    {%- set nn = stats_double(n) -%}
    (case when {{ variance }} > 0 and {{ n }} > 0 and {{ estimate }} is not null then
        least(
            1.0,
            sqrt({{ nn }} * {{ r2 }} + 1.0)
            * {{ stats_safe_exp(
                "-" ~ r2 ~ " * " ~ stats_double(estimate) ~ " * " ~ stats_double(estimate) ~ " * " ~ nn
                ~ " / " ~ stats_double(variance) ~ " / (2.0 * (" ~ nn ~ " * " ~ r2 ~ " + 1.0))"
            ) }}
        )
    end)
{%- endmacro %}
