{#-
    The standard normal distribution: upper tail, two-sided p-value, quantile.

    Tails are computed as tails (never 1 - cdf): erfc by the Chebyshev fit of
    Numerical Recipes (2nd ed., §6.2, "erfcc"), whose *relative* error is below
    1.2e-7 everywhere, so a p-value of 1e-12 is as accurate as one of 0.3.
-#}

{% macro stats_erfc(x) -%}
    {#- Complementary error function erfc(x), relative error < 1.2e-7, any real x. -#}
    {%- set ax = "abs(" ~ stats_double(x) ~ ")" -%}
    {%- set t = "(1.0 / (1.0 + 0.5 * " ~ ax ~ "))" -%}
    {%- set poly -%}
        (-1.26551223 + {{ t }} * (1.00002368 + {{ t }} * (0.37409196 + {{ t }} * (0.09678418
        + {{ t }} * (-0.18628806 + {{ t }} * (0.27886807 + {{ t }} * (-1.13520398
        + {{ t }} * (1.48851587 + {{ t }} * (-0.82215223 + {{ t }} * 0.17087277)))))))))
    {%- endset -%}
    {%- set upper = t ~ " * " ~ stats_safe_exp("-(" ~ ax ~ " * " ~ ax ~ ") + " ~ poly) -%}
    (case when {{ stats_double(x) }} >= 0 then {{ upper }} else 2.0 - {{ upper }} end)
{%- endmacro %}


{% macro stats_normal_upper_tail(z) -%}
    {#- P(Z > z) for a standard normal Z. -#}
    (0.5 * {{ stats_erfc(stats_double(z) ~ " * 0.7071067811865476") }})
{%- endmacro %}


{% macro stats_normal_two_sided_p(z) -%}
    {#- P(|Z| > |z|) = erfc(|z| / sqrt 2). -#}
    {{ stats_erfc("abs(" ~ stats_double(z) ~ ") * 0.7071067811865476") }}
{%- endmacro %}


{% macro stats_normal_quantile(p) -%}
    {#-
        The p-quantile of the standard normal (0 < p < 1), by P. J. Acklam’s rational
        approximation (relative error < 1.15e-9). Null outside (0, 1).
        Use stats_normal_quantile(0.975) = 1.959963985 for a two-sided 95% interval.
    -#}
    {%- set pp = stats_double(p) -%}
    {%- set a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00] -%}
    {%- set b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01] -%}
    {%- set c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00] -%}
    {%- set d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00] -%}
    {%- set q_low = "sqrt(-2.0 * " ~ stats_safe_ln(pp) ~ ")" -%}
    {%- set q_high = "sqrt(-2.0 * " ~ stats_safe_ln("1.0 - " ~ pp) ~ ")" -%}
    {%- set q_mid = "(" ~ pp ~ " - 0.5)" -%}
    {%- set r_mid = "(" ~ q_mid ~ " * " ~ q_mid ~ ")" -%}
    (case
        when {{ pp }} <= 0 or {{ pp }} >= 1 then null
        when {{ pp }} < 0.02425 then
            (((((({{ c[0] }}) * {{ q_low }} + ({{ c[1] }})) * {{ q_low }} + ({{ c[2] }})) * {{ q_low }} + ({{ c[3] }})) * {{ q_low }} + ({{ c[4] }})) * {{ q_low }} + ({{ c[5] }}))
            / (((({{ d[0] }} * {{ q_low }} + {{ d[1] }}) * {{ q_low }} + {{ d[2] }}) * {{ q_low }} + {{ d[3] }}) * {{ q_low }} + 1.0)
        when {{ pp }} > 0.97575 then
            -(((((({{ c[0] }}) * {{ q_high }} + ({{ c[1] }})) * {{ q_high }} + ({{ c[2] }})) * {{ q_high }} + ({{ c[3] }})) * {{ q_high }} + ({{ c[4] }})) * {{ q_high }} + ({{ c[5] }}))
            / (((({{ d[0] }} * {{ q_high }} + {{ d[1] }}) * {{ q_high }} + {{ d[2] }}) * {{ q_high }} + {{ d[3] }}) * {{ q_high }} + 1.0)
        else
            (((((({{ a[0] }}) * {{ r_mid }} + ({{ a[1] }})) * {{ r_mid }} + ({{ a[2] }})) * {{ r_mid }} + ({{ a[3] }})) * {{ r_mid }} + ({{ a[4] }})) * {{ r_mid }} + ({{ a[5] }})) * {{ q_mid }}
            / (((((({{ b[0] }}) * {{ r_mid }} + ({{ b[1] }})) * {{ r_mid }} + ({{ b[2] }})) * {{ r_mid }} + ({{ b[3] }})) * {{ r_mid }} + ({{ b[4] }})) * {{ r_mid }} + 1.0)
    end)
{%- endmacro %}
