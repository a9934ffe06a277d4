-- Per experiment x metric x treatment variant, the comparison with the control arm over
-- all the experiment's units: arm estimates, difference and relative lift (delta
-- method), each with its 95% interval and p-value (Student's t at the Welch df for all
-- of them), the CUPED-adjusted estimate, always-valid confidence sequences of both
-- effects, the decision effect (relative by default) with the multiple-testing
-- correction over the decision (non-guardrail) metrics and the guardrail-breach flag,
-- and the Bayesian view of that effect. Computed in int_experiment_effects (breakdown
-- 'overall'), with the slices and the daily series; formulas: doc block
-- experiments_statistics and the macros in macros/stats/.

with

effects as (

    select * from {{ ref('int_experiment_effects') }}

),

final as (

    select
        experiment_id,
        metric_id,
        variant,
        control_variant,
        metric_type,
        direction,
        correction_method,
        control_units,
        treatment_units,
        control_mean,
        treatment_mean,
        control_std_dev,
        treatment_std_dev,
        absolute_difference,
        absolute_difference_ci_lower,
        absolute_difference_ci_upper,
        relative_lift,
        relative_lift_ci_lower,
        relative_lift_ci_upper,
        relative_lift_p_value,
        standard_error,
        t_statistic,
        degrees_of_freedom,
        p_value,
        cuped_theta,
        cuped_absolute_difference,
        cuped_absolute_difference_ci_lower,
        cuped_absolute_difference_ci_upper,
        cuped_relative_lift,
        cuped_relative_lift_ci_lower,
        cuped_relative_lift_ci_upper,
        cuped_relative_lift_p_value,
        cuped_p_value,
        cuped_variance_reduction,
        sequential_tuning_parameter,
        sequential_relative_lift_ci_lower,
        sequential_relative_lift_ci_upper,
        sequential_relative_lift_p_value,
        sequential_absolute_difference_ci_lower,
        sequential_absolute_difference_ci_upper,
        sequential_absolute_difference_p_value,
        decision_effect,
        decision_p_value,
        adjusted_p_value,
        family_size,
        chance_to_beat_control,
        risk_of_shipping,
        risk_of_keeping_control,
        credible_interval_lower,
        credible_interval_upper,
        is_primary_metric,
        is_guardrail,
        is_cuped_applied,
        is_significant,
        is_guardrail_breached
    from effects
    where breakdown = 'overall'

)

select * from final
