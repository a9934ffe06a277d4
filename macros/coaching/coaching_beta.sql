{#-
    The CDF of a Beta(alpha, beta) distribution with INTEGER parameters, exactly,
    on every engine (documented in _coaching__macros.yml and the doc block
    coaching_beta_posterior).

    With a Beta(1, 1) prior and integer counts the posterior parameters are
    always integers, and then the regularized incomplete beta function is a
    binomial tail (Abramowitz & Stegun 26.5.24, 6.6.4):

        F(x) = I_x(alpha, beta) = P(Binomial(n, x) >= alpha)
             = sum_{j = alpha}^{n} C(n, j) x^j (1 - x)^(n - j),   n = alpha + beta - 1

    a finite sum of positive terms: the lower tail itself is summed, never
    1 - (the rest), so small probabilities keep their relative precision. Each
    term is exp(ln C(n, j) + j ln x + (n - j) ln(1 - x)), ln C from the shared
    stats_ln_gamma (Lanczos, |error| < 2e-10). Terms farther than
    12 sd + 60 from the binomial mean n x are skipped: by Bernstein's inequality
    their total is below 2 e^-36 < 1e-15, and the work per point is
    O(sqrt(n)) instead of O(n).

    points_relation: a CTE or relation with the key_columns, `alpha`, `beta`
    (integers >= 1) and `x` (double precision). Returns a SELECT of the
    key_columns, alpha, beta, x and `cdf` (0 at x <= 0, 1 at x >= 1).
-#}
{% macro coaching_beta_cdf(points_relation, key_columns) -%}
    {%- set keys = key_columns | join(', ') -%}
    {%- set n = "(beta_points.alpha + beta_points.beta - 1)" -%}
    {%- set nx = stats_double(n) ~ " * beta_points.x" -%}
    {%- set halfwidth = "(12.0 * sqrt(" ~ nx ~ " * (1.0 - beta_points.x)) + 60.0)" %}
    select
        {%- for key in key_columns %}
        beta_points.{{ key }},
        {%- endfor %}
        beta_points.alpha,
        beta_points.beta,
        beta_points.x,
        case
            when beta_points.x <= 0 then 0.0
            when beta_points.x >= 1 then 1.0
            else least(1.0, coalesce(beta_sums.cdf, 0.0))
        end as cdf
    from {{ points_relation }} as beta_points
    left join (
        select
            {%- for key in key_columns %}
            beta_windows.{{ key }},
            {%- endfor %}
            sum({{ stats_safe_exp(
                "beta_windows.ln_n_factorial"
                ~ " - " ~ stats_ln_gamma("beta_terms.j + 1")
                ~ " - " ~ stats_ln_gamma("beta_windows.n - beta_terms.j + 1")
                ~ " + beta_terms.j * ln(beta_windows.x)"
                ~ " + (beta_windows.n - beta_terms.j) * ln(1.0 - beta_windows.x)"
            ) }}) as cdf
        from (
            select
                {%- for key in key_columns %}
                beta_points.{{ key }},
                {%- endfor %}
                beta_points.x,
                {{ n }} as n,
                {{ stats_ln_gamma(n ~ " + 1") }} as ln_n_factorial,
                greatest(beta_points.alpha, floor({{ nx }} - {{ halfwidth }})) as j_lo,
                least({{ n }}, ceil({{ nx }} + {{ halfwidth }})) as j_hi
            from {{ points_relation }} as beta_points
            where beta_points.x > 0 and beta_points.x < 1
        ) as beta_windows
        {{ coaching_join_integer_range('beta_windows.j_lo', 'beta_windows.j_hi', 'beta_terms', 'j') }}
        group by
            {%- for key in key_columns %}
            beta_windows.{{ key }}{{ "," if not loop.last }}
            {%- endfor %}
    ) as beta_sums
        on
        {%- for key in key_columns %}
        beta_points.{{ key }} = beta_sums.{{ key }}{{ " and" if not loop.last }}
        {%- endfor %}
{%- endmacro %}
