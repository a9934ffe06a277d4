{#-
    The comparison columns experiment_slice_results and experiment_daily_results publish
    after their keys: a subset of experiment_results’ columns (int_experiment_effects),
    all but the last (is_guardrail_breached, written after the list: a select list
    ends without a comma).
-#}

{% macro experiments_breakdown_columns() -%}
    {{ return([
        'control_variant', 'metric_type', 'direction', 'correction_method',
        'control_units', 'treatment_units', 'control_mean', 'treatment_mean',
        'absolute_difference', 'absolute_difference_ci_lower', 'absolute_difference_ci_upper', 'p_value',
        'relative_lift', 'relative_lift_ci_lower', 'relative_lift_ci_upper', 'relative_lift_p_value',
        'cuped_relative_lift', 'cuped_relative_lift_ci_lower', 'cuped_relative_lift_ci_upper',
        'sequential_relative_lift_ci_lower', 'sequential_relative_lift_ci_upper',
        'sequential_absolute_difference_ci_lower', 'sequential_absolute_difference_ci_upper',
        'decision_effect', 'decision_p_value', 'adjusted_p_value', 'family_size', 'chance_to_beat_control',
        'is_primary_metric', 'is_guardrail', 'is_cuped_applied', 'is_significant',
    ]) }}
{%- endmacro %}
