"""``experiment_slice_results``: the experiment results by a dimension of the registry.

One row per experiment, dimension, value, metric and treatment variant; the same
statistics as ``experiment_results`` (probabilities in [0, 1], intervals ordered, the
adjusted p-value never below the one it corrects); a slice always names its dimension
and value.
"""

from __future__ import annotations

from ._rules import MartSuite, not_null
from .experiment_results import breakdown_rules

KEY = ("experiment_id", "dimension_id", "dimension_value", "metric_id", "variant")

SUITE = MartSuite(
    mart="experiment_slice_results",
    purpose="Per-variant statistics of every experiment metric by slice of a dimension.",
    key=KEY,
    rules=(*breakdown_rules(*KEY), not_null("dimension_id", "dimension_value")),
)
