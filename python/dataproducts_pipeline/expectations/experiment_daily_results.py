"""``experiment_daily_results``: the cumulative daily series of the experiment results.

One row per experiment, metric, treatment variant and day since the start; the same
statistics as ``experiment_results`` (probabilities in [0, 1], intervals ordered, the
adjusted p-value never below the one it corrects); days never negative.
"""

from __future__ import annotations

from ._rules import MartSuite, between, not_null
from .experiment_results import breakdown_rules

KEY = ("experiment_id", "metric_id", "variant", "day_number")

SUITE = MartSuite(
    mart="experiment_daily_results",
    purpose="Per-variant statistics of every experiment metric as they stood each day.",
    key=KEY,
    rules=(*breakdown_rules(*KEY), between("day_number", 0), not_null("day_ends_at")),
)
