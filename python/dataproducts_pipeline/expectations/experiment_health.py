"""``experiment_health``: the checks the scorecard shows before any result.

One row per experiment; the sample-ratio-mismatch p-value and the mismatch and
multiple-exposure shares are probabilities; counts are never negative; alarms never null.
"""

from __future__ import annotations

from ._rules import MartSuite, between, columns_present, not_null, probability

ALARMS = ("is_srm_alarm", "is_allocation_mismatch_alarm", "is_multiple_exposure_alarm")

SUITE = MartSuite(
    mart="experiment_health",
    purpose="Validity checks per experiment (sample ratio, allocation, multiple exposure).",
    key=("experiment_id",),
    rules=(
        columns_present(
            "experiment_id",
            "units_by_variant",
            "units_analysed",
            "srm_p_value",
            "allocation_mismatch_share",
            "multiple_variant_share",
            "days_running",
            *ALARMS,
        ),
        probability("srm_p_value", "allocation_mismatch_share", "multiple_variant_share"),
        between("units_analysed", 0),
        between("exposures_logged", 0),
        between("days_running", 0),
        between("srm_chi_square", 0, what="a chi-square statistic is never negative"),
        not_null("units_by_variant", *ALARMS),
    ),
)
