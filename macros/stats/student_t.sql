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


{% macro stats_t_critical(relation, df, alpha, partition_by, output='t_critical', t=none, p_output='p') -%}
    {#-
        select *, q as <output> from <relation>: q > 0 the two-sided critical value of
        Student’s t with <df> degrees of freedom (a column of <relation>; real df >= 1),
        P(|T| > q) = alpha, i.e. the 1 - alpha/2 quantile; <partition_by>: the columns
        that identify a row of <relation>. An interval estimate ± q · se then uses the
        distribution of the Welch p-value of the same estimate. With <t> (a column),
        also <p_output> = P(|T| > |t|) at the same df (stats_t_two_sided_p): the p-value
        and the critical value of a test share one copy of the long tail expression.

        1. Start: G. W. Hill’s approximation (CACM algorithm 396, 1970, as R’s qt uses
           it), exact at df = 1 (Cauchy) and df = 2, and below df = 1.03 (where Hill’s
           start is off by up to 20%) ln q interpolated between those two. Within 15%
           everywhere, within 1e-5 relative for df >= 2.5.
        2. The tail of stats_t_two_sided_p at 129 points q0 · exp(-0.16 + 0.0025 k),
           k = 0..128, as rows (one copy of the long tail expression for all of them,
           and for |t|, as the row k = -1), and the point whose tail is nearest alpha
           (within 0.125% of q in ln).
        3. One second-order Taylor step from that point (Hill 1981, as R’s qt
           refines): the tail error over the density, e = (P(|T| > q) - alpha) / 2 /
           f(q), then q + e (1 + e q (df + 1) / (2 (q^2 + df))).
        Within 1e-8 relative of scipy.stats.t.isf for df in [1, 1e7] and alpha from
        0.2 to 1e-4 (test_experiments_stats_macros.py). Null when df is null or below
        1 (a Welch df is at least 1 when each arm has two units). Helper columns named
        _tq_* are selected too. The selects are fenced (stats_subquery_fence): no
        planner substitutes one into the next.
    -#}
    {%- set n = "_tq_n" -%}
    {%- set p = "_tq_p" -%}
    {%- set x = "_tq_x" -%}
    {%- set y = "_tq_y" -%}
    {%- set d = "_tq_d" -%}
    {%- set a = "(1.0 / (" ~ n ~ " - 0.5))" -%}
    {%- set b = "(48.0 / (" ~ a ~ " * " ~ a ~ "))" -%}
    {%- set c = "(((20700.0 * " ~ a ~ " / " ~ b ~ " - 98.0) * " ~ a ~ " - 16.0) * " ~ a ~ " + 96.36)" -%}
    {#- Hill’s asymptotic inverse expansion about the normal (his P > P0(df) branch) -#}
    {%- set c_small = "(" ~ c ~ " + case when " ~ n ~ " < 5 then 0.3 * (" ~ n ~ " - 4.5) * (" ~ x ~ " + 0.6) else 0.0 end)" -%}
    {%- set c_near = "((((0.05 * " ~ d ~ " * " ~ x ~ " - 5.0) * " ~ x ~ " - 7.0) * " ~ x ~ " - 2.0) * " ~ x ~ " + " ~ b ~ " + " ~ c_small ~ ")" -%}
    {%- set xx = "(" ~ x ~ " * " ~ x ~ ")" -%}
    {%- set y_near = "((((((0.4 * " ~ xx ~ " + 6.3) * " ~ xx ~ " + 36.0) * " ~ xx ~ " + 94.5) / " ~ c_near ~ " - " ~ xx ~ " - 3.0) / " ~ b ~ " + 1.0) * " ~ x ~ ")" -%}
    {%- set q_near = "sqrt(" ~ n ~ " * (exp(" ~ a ~ " * " ~ y_near ~ " * " ~ y_near ~ ") - 1.0))" -%}
    {#- ... and his tail branch -#}
    {%- set y_tail = "(((1.0 / (((" ~ n ~ " + 6.0) / (" ~ n ~ " * " ~ y ~ ") - 0.089 * " ~ d ~ " - 0.822) * (" ~ n ~ " + 2.0) * 3.0) + 0.5 / (" ~ n ~ " + 4.0)) * " ~ y ~ " - 1.0) * (" ~ n ~ " + 1.0) / (" ~ n ~ " + 2.0) + 1.0 / " ~ y ~ ")" -%}
    {%- set q_tail = "sqrt(" ~ n ~ " * " ~ y_tail ~ ")" -%}
    {%- set q_one = "tan(1.5707963267948966 * (1.0 - " ~ p ~ "))" -%}
    {%- set q_two = "sqrt(2.0 / (" ~ p ~ " * (2.0 - " ~ p ~ ")) - 2.0)" -%}
    {%- set start = "case when " ~ n ~ " is null or " ~ p ~ " <= 0 or " ~ p ~ " >= 1 then null"
        ~ " when " ~ n ~ " = 1 then " ~ q_one
        ~ " when " ~ n ~ " = 2 then " ~ q_two
        ~ " when " ~ n ~ " < 1.03 then exp(ln(" ~ q_one ~ ") + (" ~ n ~ " - 1.0) * (ln(" ~ q_two ~ ") - ln(" ~ q_one ~ ")))"
        ~ " when (" ~ n ~ " < 2.1 and " ~ p ~ " > 0.5) or " ~ y ~ " > 0.05 + " ~ a ~ " then " ~ q_near
        ~ " else " ~ q_tail ~ " end" -%}
    {#- the step from the grid point q with its tail pq -#}
    {%- set ln_density = stats__ln_gamma_half_ratio("(0.5 * " ~ n ~ ")") ~ " - 0.5 * ln(" ~ n ~ " * 3.141592653589793) - 0.5 * (" ~ n ~ " + 1.0) * ln(1.0 + _tq_q * _tq_q / " ~ n ~ ")" -%}
    {%- set correction = "coalesce(" ~ stats_safe_divide("0.5 * (_tq_pq - " ~ p ~ ")", stats_safe_exp(ln_density)) ~ ", 0.0)" -%}
    {%- set twelve = [] -%}
    {%- for i in range(12) -%}{%- do twelve.append("select " ~ i ~ " as i") -%}{%- endfor -%}
    {%- set twelve = "(" ~ twelve | join(" union all ") ~ ")" -%}
    {%- set fence = stats_subquery_fence() -%}
    {%- set keys = partition_by | join(", ") -%}
    {%- set level = namespace(sql="select *, case when " ~ stats_double(df) ~ " >= 1 then " ~ stats_double(df) ~ " end as " ~ n
        ~ ", " ~ stats_double(alpha) ~ " as " ~ p
        ~ ", " ~ stats_double(df) ~ " as _tq_df"
        ~ ", " ~ ("abs(" ~ stats_double(t) ~ ")" if t is not none else "cast(null as " ~ dataproducts_type('double') ~ ")") ~ " as _tq_t"
        ~ ", " ~ stats_normal_quantile("0.5 * " ~ stats_double(alpha)) ~ " as " ~ x ~ " from " ~ relation) -%}
    {%- for name, expression in [
        (d, "((94.5 / (" ~ b ~ " + " ~ c ~ ") - 3.0) / " ~ b ~ " + 1.0) * sqrt(" ~ a ~ " * 1.5707963267948966) * " ~ n),
        (y, "power(" ~ d ~ " * " ~ p ~ ", 2.0 / " ~ n ~ ")"),
        ("_tq_0", start),
    ] -%}
        {%- set level.sql = "select *, " ~ expression ~ " as " ~ name ~ " from (" ~ level.sql ~ " " ~ fence ~ ") as _tq_level_" ~ loop.index -%}
    {%- endfor -%}
    select *, case when _tq_q is null then null else _tq_q + _tq_e * (1.0 + _tq_e * _tq_q * ({{ n }} + 1.0) / (2.0 * (_tq_q * _tq_q + {{ n }}))) end as {{ output }}
    from (
        select *, {{ correction }} as _tq_e
        from (
            select
                *,
                row_number() over (
                    partition by {{ keys }}
                    order by
                        case when _tq_k < 0 then 1 else 0 end,
                        abs({{ stats_safe_ln("_tq_pq") }} - {{ stats_safe_ln(p) }}),
                        _tq_k
                ) as _tq_rank
                {%- if t is not none %},
                max(case when _tq_k < 0 then _tq_pq end) over (partition by {{ keys }}) as {{ p_output }}
                {%- endif %}
            from (
                select *, {{ stats_t_two_sided_p("_tq_q", "_tq_nu") }} as _tq_pq
                from (
                    select
                        _tq_start.*,
                        _tq_grid.k as _tq_k,
                        case
                            when _tq_grid.k < 0 then _tq_start._tq_t
                            else _tq_start._tq_0 * exp(-0.16 + 0.0025 * _tq_grid.k)
                        end as _tq_q,
                        case when _tq_grid.k < 0 then _tq_start._tq_df else _tq_start.{{ n }} end as _tq_nu
                    from ({{ level.sql }} {{ fence }}) as _tq_start
                    cross join (
                        select tens.i * 12 + ones.i - {{ 1 if t is not none else 0 }} as k
                        from {{ twelve }} as tens
                        cross join {{ twelve }} as ones
                        where tens.i * 12 + ones.i <= {{ 129 if t is not none else 128 }}
                    ) as _tq_grid
                    {{ fence }}
                ) as _tq_points
                {{ fence }}
            ) as _tq_tails
            {{ fence }}
        ) as _tq_ranked
        where _tq_rank = 1
        {{ fence }}
    ) as _tq_nearest
{%- endmacro %}
