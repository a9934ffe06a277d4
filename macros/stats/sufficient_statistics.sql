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
    {#- Mean of the raw values: shift + sum(v - shift) / n; null when n = 0. Exactly 0 when the sum is less
        than 1e-12 of the shift away from cancelling it: the values are all 0 and the rest is rounding
        (a relative lift over a control mean of 1e-17 is not a lift). -#}
    (case
        when abs({{ shift }} + {{ stats_safe_divide(sum_shifted, n) }}) <= 1e-12 * abs({{ shift }}) then 0.0
        else {{ shift }} + {{ stats_safe_divide(sum_shifted, n) }}
    end)
{%- endmacro %}


{% macro stats_variance_from_sums(n, sum_shifted, sum_sq_shifted) -%}
    {#- Sample variance (n - 1 denominator) from n, sum(v - k), sum((v - k)^2); null when n < 2; never negative.
        Exactly 0 when the subtraction leaves less than 1e-12 of sum((v - k)^2): what is left is rounding (values
        all equal, a shift k away from them, e.g. a slice’s or a day’s units shifted by the overall mean), and
        a variance of 1e-17 would make a test of identical values "significant". -#}
    (case when {{ n }} >= 2 then
        case
            when {{ stats_double(sum_sq_shifted) }} - {{ stats_double(sum_shifted) }} * {{ stats_double(sum_shifted) }} / {{ stats_double(n) }}
                <= 1e-12 * {{ stats_double(sum_sq_shifted) }} then 0.0
            else ({{ stats_double(sum_sq_shifted) }} - {{ stats_double(sum_shifted) }} * {{ stats_double(sum_shifted) }} / {{ stats_double(n) }})
                / ({{ stats_double(n) }} - 1.0)
        end end)
{%- endmacro %}


{% macro stats_covariance_from_sums(n, sum_x_shifted, sum_y_shifted, sum_xy_shifted, sum_xx_shifted=none, sum_yy_shifted=none) -%}
    {#- Sample covariance (n - 1 denominator) from n, sum(x - k), sum(y - l), sum((x - k)(y - l)); null when n < 2.
        With the sums of squares too: exactly 0 when the subtraction leaves less than 1e-12 of
        sqrt(sum((x - k)^2) sum((y - l)^2)) (rounding: one of the two is constant, shifted away from its value). -#}
    {%- set centred = '(' ~ stats_double(sum_xy_shifted) ~ ' - ' ~ stats_double(sum_x_shifted) ~ ' * '
        ~ stats_double(sum_y_shifted) ~ ' / ' ~ stats_double(n) ~ ')' %}
    (case when {{ n }} >= 2 then
        {%- if sum_xx_shifted is not none and sum_yy_shifted is not none %}
        case
            when abs({{ centred }}) <= 1e-12 * sqrt({{ stats_double(sum_xx_shifted) }} * {{ stats_double(sum_yy_shifted) }})
                then 0.0
            else {{ centred }} / ({{ stats_double(n) }} - 1.0)
        end
        {%- else %}
        {{ centred }} / ({{ stats_double(n) }} - 1.0)
        {%- endif %}
    end)
{%- endmacro %}
