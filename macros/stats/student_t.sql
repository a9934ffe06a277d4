{#-
    Student’s t distribution with real (non-integer) degrees of freedom, as Welch’s
    test needs, from the regularized incomplete beta function:

        P(|T| > |t|) = I_x(df/2, 1/2),   x = df / (df + t^2)

    I_x(a, b) is evaluated as in Numerical Recipes (§6.4, betai/betacf): the
    continued fraction is used directly when x < (a + 1) / (a + b + 2) (large |t|,
    small p: the tail itself, never 1 - cdf), and through the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) otherwise (p above ~0.15, where 1 - q is exact
    enough). The continued fraction is unrolled to a fixed depth (2 x 25 levels),
    evaluated from the bottom up, so the result is one plain SQL expression that
    every engine can run. Against scipy.stats.t.sf on 20,000 random (t, df) with
    df in [1, 1e6] and |t| in [1e-3, 60], the two-sided p-value is within 1.5e-9
    absolute and 1.2e-8 relative error (see python/tests/test_stats_macros.py).

    PostgreSQL 15 has no lgamma: ln Gamma is the Lanczos approximation (|error| <
    2e-10), and ln Gamma(a + 1/2) - ln Gamma(a), which cancels badly for large a,
    comes from its asymptotic series when a > 50 (error < 1e-11).
-#}

{% macro stats_ln_gamma(x) -%}
    {#- ln Gamma(x) for x > 0 (Lanczos, Numerical Recipes gammln; |error| < 2e-10). -#}
    {%- set xx = stats_double(x) -%}
    {%- set cof = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5] -%}
    (
        -(({{ xx }} + 5.5) - ({{ xx }} + 0.5) * ln({{ xx }} + 5.5))
        + ln(2.5066282746310005 * (1.000000000190015
        {%- for c in cof %} + ({{ c }}) / ({{ xx }} + {{ loop.index }}.0){% endfor %}) / {{ xx }})
    )
{%- endmacro %}


{% macro stats__ln_gamma_half_ratio(a) -%}
    {#- ln Gamma(a + 1/2) - ln Gamma(a) for a > 0, accurate for every a. -#}
    (case
        when {{ a }} > 50 then
            0.5 * ln({{ a }}) - 1.0 / (8.0 * {{ a }}) + 1.0 / (192.0 * power({{ a }}, 3))
            + 1.0 / (640.0 * power({{ a }}, 5)) - 17.0 / (14336.0 * power({{ a }}, 7))
        else {{ stats_ln_gamma("(" ~ a ~ " + 0.5)") }} - {{ stats_ln_gamma(a) }}
    end)
{%- endmacro %}


{% macro stats__beta_continued_fraction(a, b, x, depth=25) -%}
    {#-
        The continued fraction of I_x(a, b) (Numerical Recipes betacf), unrolled:
        1 / (1 + d1 / (1 + d2 / (1 + ...))), with
        d(2m+1) = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),  d(2m) = m(b-m) x / ((a+2m-1)(a+2m)).
        a, b and x must be double precision expressions (they are repeated).
    -#}
    {%- set ns = namespace(tail="1.0") -%}
    {%- for k in range(2 * depth, 0, -1) -%}
        {%- if k % 2 == 1 -%}
            {%- set m = (k - 1) // 2 -%}
            {%- set coef = "(-(" ~ a ~ " + " ~ m ~ ".0) * (" ~ a ~ " + " ~ b ~ " + " ~ m ~ ".0) / ((" ~ a ~ " + " ~ (2 * m) ~ ".0) * (" ~ a ~ " + " ~ (2 * m + 1) ~ ".0)))" -%}
        {%- else -%}
            {%- set m = k // 2 -%}
            {%- set coef = "(" ~ m ~ ".0 * (" ~ b ~ " - " ~ m ~ ".0) / ((" ~ a ~ " + " ~ (2 * m - 1) ~ ".0) * (" ~ a ~ " + " ~ (2 * m) ~ ".0)))" -%}
        {%- endif -%}
        {%- set ns.tail = "(1.0 + " ~ coef ~ " * " ~ x ~ " / " ~ ns.tail ~ ")" -%}
    {%- endfor -%}
    (1.0 / {{ ns.tail }})
{%- endmacro %}


{% macro stats_t_two_sided_p(t, df) -%}
    {#-
        Two-sided p-value P(|T| > |t|) of Student’s t with df > 0 degrees of freedom
        (real df allowed). Null when t or df is null or df <= 0. The arguments are
        repeated many times in the generated SQL: pass column names, not long
        expressions (compute them in an earlier CTE).
    -#}
    {%- set tt = "(" ~ stats_double(t) ~ " * " ~ stats_double(t) ~ ")" -%}
    {%- set nu = stats_double(df) -%}
    {%- set a = "(0.5 * " ~ nu ~ ")" -%}
    {%- set x = "(" ~ nu ~ " / (" ~ nu ~ " + " ~ tt ~ "))" -%}
    {%- set one_minus_x = "(" ~ tt ~ " / (" ~ nu ~ " + " ~ tt ~ "))" -%}
    {#- bt = x^a (1-x)^b / B(a, b) with b = 1/2; ln B(a, 1/2) = ln Gamma(a) + ln sqrt(pi) - ln Gamma(a + 1/2) -#}
    {%- set ln_bt = stats__ln_gamma_half_ratio(a) ~ " - 0.5723649429247001 + " ~ a ~ " * " ~ stats_safe_ln(x) ~ " + 0.5 * " ~ stats_safe_ln(one_minus_x) -%}
    {%- set bt = stats_safe_exp(ln_bt) -%}
    (case
        when {{ nu }} is null or {{ tt }} is null or {{ nu }} <= 0 then null
        when {{ tt }} = 0 then 1.0
        when {{ x }} < ({{ a }} + 1.0) / ({{ a }} + 2.5) then
            least(1.0, {{ bt }} * {{ stats__beta_continued_fraction(a, "0.5", x) }} / {{ a }})
        else
            greatest(0.0, 1.0 - 2.0 * {{ bt }} * {{ stats__beta_continued_fraction("0.5", a, one_minus_x) }})
    end)
{%- endmacro %}
