{#-
    First-order (delta-method) variances.

    Ratio metric. A metric defined as sum(y) / sum(x) over the units of an arm (e.g.
    passed quiz submissions / quiz submissions, randomised by learner, not by
    submission) is the ratio of two means R = ybar / xbar; with n units,

        Var(R) ≈ (1/n) * ( s_y^2 / xbar^2  -  2 * ybar * s_xy / xbar^3  +  ybar^2 * s_x^2 / xbar^4 )

    where s_y^2, s_x^2 and s_xy are the unit-level sample variances and covariance
    (the covariance term is what treating submissions as independent would forget).

    Relative lift. For independent arms with estimates M_t, M_c and variances
    V_t, V_c (of the estimates, i.e. s^2/n for a mean), the lift L = M_t / M_c - 1 has

        Var(L) ≈ V_t / M_c^2  +  M_t^2 * V_c / M_c^4

    and a (1 - alpha) interval L ± z_{1-alpha/2} sqrt(Var(L)).
-#}

{% macro stats_delta_ratio_variance(n, mean_y, mean_x, var_y, var_x, cov_xy) -%}
    {#- Variance of the ratio of means ybar / xbar (the arm’s ratio estimate); null when xbar = 0.
        It is the variance of the linearised values, 0 when y is proportional to x; the three terms
        then cancel and rounding leaves ±1e-18, engine-dependent: below 1e-12 of the terms’ size the
        result is exactly 0 (never negative, and the same on every engine). -#}
    {%- set a = '(' ~ var_y ~ ' / (' ~ mean_x ~ ' * ' ~ mean_x ~ '))' %}
    {%- set b = '(2.0 * ' ~ mean_y ~ ' * ' ~ cov_xy ~ ' / (' ~ mean_x ~ ' * ' ~ mean_x ~ ' * ' ~ mean_x ~ '))' %}
    {%- set c = '(' ~ mean_y ~ ' * ' ~ mean_y ~ ' * ' ~ var_x ~ ' / (' ~ mean_x ~ ' * ' ~ mean_x ~ ' * ' ~ mean_x ~ ' * ' ~ mean_x ~ '))' %}
    (case when {{ mean_x }} <> 0 and {{ n }} > 0 then
        case
            when {{ a }} - {{ b }} + {{ c }} <= 1e-12 * ({{ a }} + abs({{ b }}) + {{ c }}) then 0.0
            else ({{ a }} - {{ b }} + {{ c }}) / {{ stats_double(n) }}
        end
    end)
{%- endmacro %}


{% macro stats_delta_relative_lift_variance(estimate_t, variance_t, estimate_c, variance_c) -%}
    {#- Variance of estimate_t / estimate_c - 1 for independent arms; null when estimate_c = 0. -#}
    (case when {{ estimate_c }} <> 0 then
        {{ variance_t }} / ({{ estimate_c }} * {{ estimate_c }})
        + {{ estimate_t }} * {{ estimate_t }} * {{ variance_c }}
          / ({{ estimate_c }} * {{ estimate_c }} * {{ estimate_c }} * {{ estimate_c }})
    end)
{%- endmacro %}
