-- Rule: every p-value and chance to beat control of experiment_results lies in [0, 1],
-- every risk is at least 0, and every interval has its lower bound below its upper bound.
-- Why: the tails are computed by approximations in SQL; a value outside [0, 1] means
-- an approximation left its domain and every decision based on it is void.

with

results as (

    select * from {{ ref('experiment_results') }}

),

final as (

    select
        experiment_id,
        metric_id,
        variant,
        p_value,
        relative_lift_p_value,
        cuped_p_value,
        cuped_relative_lift_p_value,
        adjusted_p_value,
        chance_to_beat_control
    from results
    where
        p_value < 0 or p_value > 1
        or relative_lift_p_value < 0 or relative_lift_p_value > 1
        or cuped_p_value < 0 or cuped_p_value > 1
        or cuped_relative_lift_p_value < 0 or cuped_relative_lift_p_value > 1
        or adjusted_p_value < 0 or adjusted_p_value > 1
        or chance_to_beat_control < 0 or chance_to_beat_control > 1
        or sequential_relative_lift_p_value < 0 or sequential_relative_lift_p_value > 1
        or sequential_absolute_difference_p_value < 0 or sequential_absolute_difference_p_value > 1
        or risk_of_shipping < 0 or risk_of_keeping_control < 0
        or credible_interval_lower > credible_interval_upper
        or sequential_relative_lift_ci_lower > sequential_relative_lift_ci_upper
        or sequential_absolute_difference_ci_lower > sequential_absolute_difference_ci_upper
        or relative_lift_ci_lower > relative_lift_ci_upper
        or absolute_difference_ci_lower > absolute_difference_ci_upper
        or cuped_absolute_difference_ci_lower > cuped_absolute_difference_ci_upper
        or cuped_relative_lift_ci_lower > cuped_relative_lift_ci_upper

)

select * from final
