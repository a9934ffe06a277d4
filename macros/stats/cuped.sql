{#-
    CUPED (Deng, Xu, Kohavi & Walker 2013): variance reduction with a pre-exposure
    covariate x of the same unit. With theta estimated on all units of the comparison
    pooled (both arms, so the adjustment is the same for both and the difference stays
    unbiased),

        theta          = cov(y, x) / var(x)                       (pooled over arms)
        y_adj          = y - theta * (x - xbar_pooled)
        mean_adj(arm)  = ybar(arm) - theta * (xbar(arm) - xbar_pooled)
        var_adj(arm)   = s_y^2 - 2 theta s_xy + theta^2 s_x^2     (within the arm)

    Then compare arms with Welch's test on (mean_adj, var_adj, n): exactly the Welch
    test of the unit-level y_adj values. The variance reduction achieved is
    1 - se_adj^2 / se^2 of the difference in means. theta is 0 (no adjustment) when
    the covariate has no variance.
-#}

{% macro stats_cuped_theta(cov_yx, var_x) -%}
    (case when {{ var_x }} > 0 then {{ cov_yx }} / {{ var_x }} else 0.0 end)
{%- endmacro %}


{% macro stats_cuped_adjusted_mean(mean_y, mean_x, pooled_mean_x, theta) -%}
    ({{ mean_y }} - {{ theta }} * ({{ mean_x }} - {{ pooled_mean_x }}))
{%- endmacro %}


{% macro stats_cuped_adjusted_variance(var_y, var_x, cov_yx, theta) -%}
    greatest(0.0, {{ var_y }} - 2.0 * {{ theta }} * {{ cov_yx }} + {{ theta }} * {{ theta }} * {{ var_x }})
{%- endmacro %}
