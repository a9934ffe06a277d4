{#-
    Welch's unequal-variance t-test of two independent means, from each arm's unit
    count n, mean and sample variance s^2 (what scipy.stats.ttest_ind(equal_var=False)
    computes):

        se = sqrt(s1^2/n1 + s2^2/n2)
        t  = (mean1 - mean2) / se
        df = (s1^2/n1 + s2^2/n2)^2 / ((s1^2/n1)^2/(n1-1) + (s2^2/n2)^2/(n2-1))   (Welch–Satterthwaite)
        p  = P(|T_df| > |t|)                                                    (two-sided)

    se, t, df and p are null when undefined (an arm with fewer than two units, or
    zero variance in both arms: scipy returns nan there too).
-#}

{% macro stats_welch_se(var1, n1, var2, n2) -%}
    sqrt({{ stats_safe_divide(var1, n1) }} + {{ stats_safe_divide(var2, n2) }})
{%- endmacro %}


{% macro stats_welch_t(mean1, var1, n1, mean2, var2, n2) -%}
    {{ stats_safe_divide("(" ~ mean1 ~ ") - (" ~ mean2 ~ ")", stats_welch_se(var1, n1, var2, n2)) }}
{%- endmacro %}


{% macro stats_welch_df(var1, n1, var2, n2) -%}
    {%- set v1 = stats_safe_divide(var1, n1) -%}
    {%- set v2 = stats_safe_divide(var2, n2) -%}
    {{ stats_safe_divide(
        "(" ~ v1 ~ " + " ~ v2 ~ ") * (" ~ v1 ~ " + " ~ v2 ~ ")",
        v1 ~ " * " ~ v1 ~ " / nullif(" ~ stats_double(n1) ~ " - 1.0, 0.0) + " ~ v2 ~ " * " ~ v2 ~ " / nullif(" ~ stats_double(n2) ~ " - 1.0, 0.0)"
    ) }}
{%- endmacro %}


{% macro stats_welch_p(t, df) -%}
    {#- Two-sided p-value of a Welch statistic t with df degrees of freedom (pass columns). -#}
    {{ stats_t_two_sided_p(t, df) }}
{%- endmacro %}
