{#-
    The CDF of a Beta(alpha, beta) distribution with INTEGER parameters, exactly,
    on every engine (documented in _coaching__macros.yml and the doc block
    coaching_beta_posterior).

    With a Beta(1, 1) prior and integer counts the posterior parameters are
    always integers, and then the regularized incomplete beta function is a
    binomial tail (Abramowitz & Stegun 26.5.24, 6.6.4):

        F(x) = I_x(alpha, beta) = P(Binomial(n, x) >= alpha)
             = sum_{j = alpha}^{n} C(n, j) x^j (1 - x)^(n - j),   n = alpha + beta - 1

    a finite sum of positive terms. Where F(x) is small (n x < alpha: the
    binomial mean is below alpha) the tail itself is summed, never 1 - (the
    rest), so small probabilities keep their relative precision. Where
    n x >= alpha, F(x) >= 1/2 (alpha - 1 is below the binomial median) and it
    is computed as 1 - P(Binomial(n, x) <= alpha - 1): an absolute error of
    1e-16 on a value >= 1/2, and only the terms on one side of alpha are ever
    summed, which halves the work on average. Each term is
    exp(ln C(n, j) + j ln x + (n - j) ln(1 - x)), ln C from the shared
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
            when {{ nx }} >= beta_points.alpha then greatest(0.0, 1.0 - coalesce(beta_sums.tail, 0.0))
            else least(1.0, coalesce(beta_sums.tail, 0.0))
        end as cdf
    from {{ points_relation }} as beta_points
    left join (
        select
            {%- for key in key_columns %}
            beta_terms.{{ key }},
            {%- endfor %}
            sum({{ stats_safe_exp("beta_terms.ln_term") }}) as tail
        from (
            select
                {%- for key in key_columns %}
                beta_series.{{ key }},
                {%- endfor %}
                beta_series.ln_n_factorial
                - {{ stats_ln_gamma("beta_series.j + 1") }}
                - {{ stats_ln_gamma("beta_series.n - beta_series.j + 1") }}
                + beta_series.j * ln(beta_series.x)
                + (beta_series.n - beta_series.j) * ln(1.0 - beta_series.x) as ln_term
            from (
                select
                    beta_windows.*,
                    {{ coaching_integer_series('beta_windows.j_lo', 'beta_windows.j_hi') }} as j
                from (
                    select
                        {%- for key in key_columns %}
                        beta_points.{{ key }},
                        {%- endfor %}
                        beta_points.x,
                        {{ n }} as n,
                        {{ stats_ln_gamma(n ~ " + 1") }} as ln_n_factorial,
                        {#- n x < alpha: P(X >= alpha), j = alpha .. n x + halfwidth;
                            n x >= alpha: P(X <= alpha - 1), j = n x - halfwidth .. alpha - 1 -#}
                        case
                            when {{ nx }} >= beta_points.alpha then greatest(0, floor({{ nx }} - {{ halfwidth }}))
                            else beta_points.alpha
                        end as j_lo,
                        case
                            when {{ nx }} >= beta_points.alpha then beta_points.alpha - 1
                            else least({{ n }}, ceil({{ nx }} + {{ halfwidth }}))
                        end as j_hi
                    from {{ points_relation }} as beta_points
                    where beta_points.x > 0 and beta_points.x < 1
                ) as beta_windows
            ) as beta_series
        ) as beta_terms
        group by
            {%- for key in key_columns %}
            beta_terms.{{ key }}{{ "," if not loop.last }}
            {%- endfor %}
    ) as beta_sums
        on
        {%- for key in key_columns %}
        beta_points.{{ key }} = beta_sums.{{ key }}{{ " and" if not loop.last }}
        {%- endfor %}
{%- endmacro %}


{#-
    Quantiles of Beta(alpha, beta) distributions with INTEGER parameters, to
    double precision (documented in _coaching__macros.yml and the doc block
    coaching_beta_posterior): the root of F(x) = probability, F the exact CDF
    of coaching_beta_cdf.

    1. Bracket: F on coarse_points + 1 equally spaced cuts over mean +- 12 sd
       clipped to [0, 1], plus x = 0 and x = 1 (so every probability in (0, 1)
       is bracketed), once per distinct (alpha, beta); the cut interval with
       F(lo) <= probability < F(hi), and the linear interpolation in it as the
       first estimate.
    2. newton_steps safeguarded Newton steps, x - (F(x) - probability) / f(x)
       with the exact density f (stats_ln_gamma): each step also narrows the
       bracket to the side of x that holds the root, and a step that would
       leave the (closed) bracket, or a density that underflows, bisects it
       instead. Once converged, the step is 0 (or rounding noise) and x stays.
       Newton converges quadratically from the interpolated start; the
       defaults (64 cuts, 6 steps) agree with scipy.stats.beta.ppf within
       3e-12 on 390 cases with alpha, beta in 1 .. 20,000 and probabilities
       0.0005 .. 0.9995 (fewer cuts or steps leave the skewed small-count
       tails unconverged). Cost: coarse_points + 3 CDF evaluations per
       distinct (alpha, beta) and newton_steps per row, instead of a fine grid.

    points_relation: a CTE or relation with the key_columns (unique per row),
    `alpha`, `beta` (integers >= 1) and `probability` (in (0, 1)). Returns a
    SELECT of the key_columns, alpha, beta, probability and `quantile`.
-#}
{% macro coaching_beta_quantile(points_relation, key_columns, coarse_points=64, newton_steps=6) -%}
    with

    {{ coaching_beta_quantile_start_ctes(points_relation, key_columns, coarse_points) }},
    {{ coaching_beta_quantile_step_ctes(key_columns, 1, newton_steps) }}

    select
        {%- for key in key_columns %}
        {{ key }},
        {%- endfor %}
        alpha,
        beta,
        probability,
        x as quantile
    from quantile_step_{{ newton_steps }}
{%- endmacro %}


{#-
    The same computation split in two statements, for engines whose analyzer
    cannot take the whole chain of Newton steps in one (Spark stops at its
    iteration limit): a model lists, among its own top-level CTEs (not inside a
    nested WITH, which Spark analyzes far less well),
    coaching_beta_quantile_start_ctes and coaching_beta_quantile_step_ctes(1, k)
    and materializes quantile_step_k (key columns, alpha, beta, probability,
    ln_beta_function, bracket_lo, bracket_hi, x); a second model defines
    `quantile_step_0 as (select * from <that model>)` and
    coaching_beta_quantile_step_ctes(1, newton_steps - k). The result is exactly
    coaching_beta_quantile's (int_coaching_performance_intervals_bracketed and
    coaching_message_performance).
-#}

{#- The CTEs of coaching_beta_quantile up to quantile_step_0 (bracket and first estimate). -#}
{% macro coaching_beta_quantile_start_ctes(points_relation, key_columns, coarse_points=64) -%}
    {%- set ab = "(quantile_params.alpha + quantile_params.beta)" -%}
    {%- set cut_keys = ['param_alpha', 'param_beta', 'quantile_cut'] -%}
    -- the coarse cuts depend on (alpha, beta) only: computed once per pair
    quantile_params as (

        select distinct
            quantile_points.alpha,
            quantile_points.beta
        from {{ points_relation }} as quantile_points

    ),

    quantile_ranges as (

        select
            quantile_params.alpha,
            quantile_params.beta,
            {{ stats_double('quantile_params.alpha') }} / {{ ab }} as posterior_mean,
            sqrt(
                {{ stats_double('quantile_params.alpha') }} * quantile_params.beta
                / ({{ stats_double(ab) }} * {{ ab }} * ({{ ab }} + 1))
            ) as posterior_sd
        from quantile_params

    ),

    quantile_cuts as (

        select
            quantile_ranges.alpha as param_alpha,
            quantile_ranges.beta as param_beta,
            cut.i as quantile_cut,
            quantile_ranges.alpha,
            quantile_ranges.beta,
            case
                when cut.i < 0 then 0.0
                when cut.i > {{ coarse_points }} then 1.0
                else
                    greatest(0.0, quantile_ranges.posterior_mean - 12.0 * quantile_ranges.posterior_sd)
                    + (
                        least(1.0, quantile_ranges.posterior_mean + 12.0 * quantile_ranges.posterior_sd)
                        - greatest(0.0, quantile_ranges.posterior_mean - 12.0 * quantile_ranges.posterior_sd)
                    ) * cut.i / {{ coarse_points }}.0
            end as x
        from quantile_ranges
        {{ coaching_join_integer_range('-1', coarse_points + 1, 'cut', 'i') }}

    ),

    quantile_cut_cdfs as (

        {{ coaching_beta_cdf('quantile_cuts', cut_keys) }}

    ),

    quantile_cut_monotone as (

        select
            param_alpha,
            param_beta,
            quantile_cut,
            x,
            -- running max: F is non-decreasing; this removes rounding noise
            max(cdf) over (
                partition by param_alpha, param_beta
                order by x, quantile_cut
                rows between unbounded preceding and current row
            ) as cdf
        from quantile_cut_cdfs

    ),

    quantile_cut_intervals as (

        select
            param_alpha,
            param_beta,
            x as x_lo,
            cdf as cdf_lo,
            lead(x) over (partition by param_alpha, param_beta order by x, quantile_cut) as x_hi,
            lead(cdf) over (partition by param_alpha, param_beta order by x, quantile_cut) as cdf_hi
        from quantile_cut_monotone

    ),

    quantile_step_0 as (

        select
            {%- for key in key_columns %}
            quantile_points.{{ key }},
            {%- endfor %}
            quantile_points.alpha,
            quantile_points.beta,
            quantile_points.probability,
            {{ stats_ln_gamma('quantile_points.alpha') }}
            + {{ stats_ln_gamma('quantile_points.beta') }}
            - {{ stats_ln_gamma('quantile_points.alpha + quantile_points.beta') }} as ln_beta_function,
            quantile_cut_intervals.x_lo as bracket_lo,
            quantile_cut_intervals.x_hi as bracket_hi,
            quantile_cut_intervals.x_lo
            + (quantile_points.probability - quantile_cut_intervals.cdf_lo)
            -- never 0 in the result (cdf_lo <= probability < cdf_hi), but an engine may
            -- evaluate it before the join's condition (Spark, in ANSI mode, then raises)
            / nullif(quantile_cut_intervals.cdf_hi - quantile_cut_intervals.cdf_lo, 0.0)
            * (quantile_cut_intervals.x_hi - quantile_cut_intervals.x_lo) as x
        from {{ points_relation }} as quantile_points
        inner join quantile_cut_intervals
            on quantile_points.alpha = quantile_cut_intervals.param_alpha
                and quantile_points.beta = quantile_cut_intervals.param_beta
                and quantile_cut_intervals.cdf_lo <= quantile_points.probability
                and quantile_cut_intervals.cdf_hi > quantile_points.probability

    )
{%- endmacro %}


{#- The CTEs quantile_step_<first_step> .. quantile_step_<last_step> of coaching_beta_quantile
    (each a safeguarded Newton step on the one before; quantile_step_<first_step - 1> must exist). -#}
{% macro coaching_beta_quantile_step_ctes(key_columns, first_step, last_step) -%}
    {%- for step in range(first_step, last_step + 1) %}
        {%- set previous = 'quantile_step_' ~ (step - 1) %}

    quantile_step_{{ step }}_cdfs as (

        {{ coaching_beta_cdf(previous, key_columns) }}

    ),

    -- the bracket narrowed to the side of x that holds the root, and ln f(x)
    quantile_step_{{ step }}_moves as (

        select
            {%- for key in key_columns %}
            {{ previous }}.{{ key }},
            {%- endfor %}
            {{ previous }}.alpha,
            {{ previous }}.beta,
            {{ previous }}.probability,
            {{ previous }}.ln_beta_function,
            {{ previous }}.x,
            step_cdfs.cdf - {{ previous }}.probability as excess,
            case
                when step_cdfs.cdf < {{ previous }}.probability then {{ previous }}.x
                else {{ previous }}.bracket_lo
            end as bracket_lo,
            case
                when step_cdfs.cdf < {{ previous }}.probability then {{ previous }}.bracket_hi
                else {{ previous }}.x
            end as bracket_hi,
            ({{ previous }}.alpha - 1) * {{ stats_safe_ln(previous ~ '.x') }}
            + ({{ previous }}.beta - 1) * {{ stats_safe_ln('1.0 - ' ~ previous ~ '.x') }}
            - {{ previous }}.ln_beta_function as ln_density
        from {{ previous }}
        inner join quantile_step_{{ step }}_cdfs as step_cdfs
            on
            {%- for key in key_columns %}
            {{ previous }}.{{ key }} = step_cdfs.{{ key }}{{ " and" if not loop.last }}
            {%- endfor %}

    ),

    quantile_step_{{ step }}_newton as (

        select
            quantile_step_{{ step }}_moves.*,
            quantile_step_{{ step }}_moves.x
            - quantile_step_{{ step }}_moves.excess
            / nullif({{ stats_safe_exp('quantile_step_' ~ step ~ '_moves.ln_density') }}, 0.0) as newton_x
        from quantile_step_{{ step }}_moves

    ),

    quantile_step_{{ step }} as (

        select
            {%- for key in key_columns %}
            {{ key }},
            {%- endfor %}
            alpha,
            beta,
            probability,
            ln_beta_function,
            bracket_lo,
            bracket_hi,
            case
                when newton_x >= bracket_lo and newton_x <= bracket_hi then newton_x
                else (bracket_lo + bracket_hi) / 2.0
            end as x
        from quantile_step_{{ step }}_newton

    ){{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
