{#-
    Upper tail of the chi-square distribution with an integer number of degrees of
    freedom (what goodness-of-fit tests such as the sample-ratio-mismatch check need),
    by the closed forms of the regularized upper incomplete gamma Q(k/2, x/2), y = x/2:

        even k:  Q = exp(-y) * sum_{i=0}^{k/2-1} y^i / i!
        odd  k:  Q = erfc(sqrt y) + exp(-y) * sum_{i=1}^{(k-1)/2} y^(i-1/2) / Gamma(i+1/2)

    Every term is positive (no cancellation) and is computed in log space, so the
    tail is accurate far out (p = 1e-100 is fine), with the relative accuracy of erfc
    (1.2e-7) for odd k. Degrees of freedom from 1 to max_df (default 40) are
    supported; the result is null outside.
-#}

{% macro stats_chi_square_upper_tail(x, df, max_df=40) -%}
    {%- set xx = stats_double(x) -%}
    {%- set k = "cast((" ~ df ~ ") as integer)" -%}
    {%- set y = "(0.5 * " ~ xx ~ ")" -%}
    {%- set ln_y = stats_safe_ln(y) -%}
    {%- set ns = namespace(even="", odd="", fact=1.0, gamma_half=1.7724538509055159) -%}
    {#- even k: terms i = 0 .. max_df/2 - 1, term i kept when i < k/2 -#}
    {%- for i in range(0, (max_df // 2)) -%}
        {%- if i > 0 -%}{%- set ns.fact = ns.fact * i -%}{%- endif -%}
        {%- set ns.even = ns.even ~ " + (case when " ~ (2 * i) ~ " < " ~ k ~ " then " ~ stats_safe_exp("-" ~ y ~ " + " ~ i ~ ".0 * " ~ ln_y ~ " - ln(" ~ ns.fact ~ ")") ~ " else 0.0 end)" -%}
    {%- endfor -%}
    {#- odd k: terms i = 1 .. (max_df-1)/2, kept when i <= (k-1)/2; Gamma(i + 1/2) = Gamma(i - 1/2) * (i - 1/2) -#}
    {%- for i in range(1, ((max_df - 1) // 2) + 1) -%}
        {%- set ns.gamma_half = ns.gamma_half * (i - 0.5) -%}
        {%- set ns.odd = ns.odd ~ " + (case when " ~ (2 * i + 1) ~ " <= " ~ k ~ " then " ~ stats_safe_exp("-" ~ y ~ " + " ~ (i - 0.5) ~ " * " ~ ln_y ~ " - ln(" ~ ns.gamma_half ~ ")") ~ " else 0.0 end)" -%}
    {%- endfor -%}
    (case
        when {{ xx }} is null or {{ k }} is null or {{ k }} < 1 or {{ k }} > {{ max_df }} then null
        when {{ xx }} <= 0 then 1.0
        when mod({{ k }}, 2) = 0 then least(1.0, 0.0{{ ns.even }})
        else least(1.0, {{ stats_erfc("sqrt(" ~ y ~ ")") }}{{ ns.odd }})
    end)
{%- endmacro %}
