"""``experiment_results``: the experiment scorecard and ``client.experiments.results()``.

One row per experiment, metric and treatment variant; every p-value (raw, CUPED,
decision, adjusted) and the chance to beat control in [0, 1]; intervals ordered; risks
never negative; the adjusted p-value never below the
one it corrects; flags never null, so the scorecard can colour a row without guessing.
"""

from __future__ import annotations

from ._rules import (
    MartSuite,
    at_least,
    between,
    columns_present,
    differ,
    not_null,
    one_of,
    probability,
)

P_VALUES = (
    "p_value",
    "relative_lift_p_value",
    "cuped_p_value",
    "cuped_relative_lift_p_value",
    "decision_p_value",
    "adjusted_p_value",
    "chance_to_beat_control",
    "sequential_relative_lift_p_value",
    "sequential_absolute_difference_p_value",
)
FLAGS = (
    "is_primary_metric",
    "is_guardrail",
    "is_cuped_applied",
    "is_significant",
    "is_guardrail_breached",
)

SUITE = MartSuite(
    mart="experiment_results",
    purpose="Per-variant statistics of every experiment metric against the control.",
    key=("experiment_id", "metric_id", "variant"),
    rules=(
        columns_present(
            "experiment_id",
            "metric_id",
            "variant",
            "control_variant",
            "control_units",
            "treatment_units",
            "control_mean",
            "treatment_mean",
            "relative_lift",
            "relative_lift_ci_lower",
            "relative_lift_ci_upper",
            "decision_effect",
            "risk_of_shipping",
            "risk_of_keeping_control",
            "credible_interval_lower",
            "credible_interval_upper",
            *P_VALUES,
            *FLAGS,
        ),
        probability(*P_VALUES),
        at_least("adjusted_p_value", "decision_p_value", "a correction never lowers a p-value"),
        at_least("relative_lift_ci_upper", "relative_lift_ci_lower", "an interval is ordered"),
        at_least(
            "absolute_difference_ci_upper", "absolute_difference_ci_lower", "an interval is ordered"
        ),
        at_least(
            "cuped_relative_lift_ci_upper",
            "cuped_relative_lift_ci_lower",
            "an interval is ordered",
        ),
        at_least("credible_interval_upper", "credible_interval_lower", "an interval is ordered"),
        at_least(
            "sequential_relative_lift_ci_upper",
            "sequential_relative_lift_ci_lower",
            "an interval is ordered",
        ),
        at_least(
            "sequential_absolute_difference_ci_upper",
            "sequential_absolute_difference_ci_lower",
            "an interval is ordered",
        ),
        between("sequential_tuning_parameter", 0, strict_min=True),
        between("risk_of_shipping", 0),
        between("risk_of_keeping_control", 0),
        differ("variant", "control_variant", "a treatment is compared with another arm"),
        between("control_units", 0),
        between("treatment_units", 0),
        between(
            "cuped_variance_reduction",
            max_value=1,
            what="a variance cannot drop by more than all of it",
        ),
        not_null("control_variant", "metric_type", "direction", *FLAGS),
        one_of("metric_type", ("proportion", "mean", "ratio")),
        one_of("direction", ("higher", "lower")),
        one_of("correction_method", ("holm", "bh")),
        one_of("decision_effect", ("relative", "absolute")),
    ),
)


#: The p-values and chances of the slice and daily marts (a subset of the columns).
BREAKDOWN_P_VALUES = (
    "p_value",
    "relative_lift_p_value",
    "decision_p_value",
    "adjusted_p_value",
    "chance_to_beat_control",
)


def breakdown_rules(*key: str) -> tuple:
    """The rules ``experiment_slice_results`` and ``experiment_daily_results`` share with
    this suite: the same comparison, on fewer columns."""
    return (
        columns_present(*key, "control_variant", "control_units", "treatment_units", *FLAGS),
        probability(*BREAKDOWN_P_VALUES),
        at_least("adjusted_p_value", "decision_p_value", "a correction never lowers a p-value"),
        at_least("relative_lift_ci_upper", "relative_lift_ci_lower", "an interval is ordered"),
        at_least(
            "absolute_difference_ci_upper", "absolute_difference_ci_lower", "an interval is ordered"
        ),
        at_least(
            "sequential_relative_lift_ci_upper",
            "sequential_relative_lift_ci_lower",
            "an interval is ordered",
        ),
        differ("variant", "control_variant", "a treatment is compared with another arm"),
        between("control_units", 0),
        between("treatment_units", 0),
        not_null("control_variant", "metric_type", "direction", *FLAGS),
        one_of("decision_effect", ("relative", "absolute")),
    )
