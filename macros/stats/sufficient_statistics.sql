{#-
    Moments from sufficient statistics. Accumulate, per group, n, sum(v - k),
    sum((v - k)^2) and, for pairs, sum((v - k)(w - l)), where k and l are shifts
    close to the means (e.g. the mean over all groups of a comparison, from a window
    function): the textbook sum-of-squares formula loses every digit when the mean is
    large next to the standard deviation, and shifting by a constant removes that
    without a second pass. A variance computed from shifted sums is the variance of
    the raw values (the shift cancels); add the shift back to the mean.
-#}

{% macro stats_mean_from_sums(n, sum_shifted, shift=0) -%}
    {#- Mean of the raw values: shift + sum(v - shift) / n; null when n = 0. -#}
    ({{ shift }} + {{ stats_safe_divide(sum_shifted, n) }})
{%- endmacro %}


{% macro stats_variance_from_sums(n, sum_shifted, sum_sq_shifted) -%}
    {#- Sample variance (n - 1 denominator) from n, sum(v - k), sum((v - k)^2); null when n < 2; never negative. -#}
    (case when {{ n }} >= 2 then greatest(0.0,
        ({{ stats_double(sum_sq_shifted) }} - {{ stats_double(sum_shifted) }} * {{ stats_double(sum_shifted) }} / {{ stats_double(n) }})
        / ({{ stats_double(n) }} - 1.0)) end)
{%- endmacro %}


{% macro stats_covariance_from_sums(n, sum_x_shifted, sum_y_shifted, sum_xy_shifted) -%}
    {#- Sample covariance (n - 1 denominator) from n, sum(x - k), sum(y - l), sum((x - k)(y - l)); null when n < 2. -#}
    (case when {{ n }} >= 2 then
        ({{ stats_double(sum_xy_shifted) }} - {{ stats_double(sum_x_shifted) }} * {{ stats_double(sum_y_shifted) }} / {{ stats_double(n) }})
        / ({{ stats_double(n) }} - 1.0) end)
{%- endmacro %}
