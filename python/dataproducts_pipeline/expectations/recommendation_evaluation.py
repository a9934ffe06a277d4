"""``recommendation_evaluation``: offline metrics per module, read by the docs and dashboards.

Ranking metrics (precision, recall, NDCG, MAP at k, their popular baseline) and the
backfilled share are proportions in [0, 1]; coverage and novelty are non-negative.
"""

from __future__ import annotations

from ._rules import MartSuite, between, columns_present, probability

METRICS = ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k")

SUITE = MartSuite(
    mart="recommendation_evaluation",
    purpose="Offline evaluation of each recommendation module against a popular baseline.",
    key=("module",),
    rules=(
        columns_present(
            "module",
            "k",
            "n_learners_evaluated",
            *METRICS,
            *(f"baseline_{m}" for m in METRICS),
            "catalog_coverage",
            "novelty",
            "share_backfilled",
        ),
        probability(*METRICS, *(f"baseline_{m}" for m in METRICS), "share_backfilled"),
        between("k", 1, what="a list has at least one slot"),
        between("n_learners_evaluated", 0),
        between("catalog_coverage", 0),
        between("novelty", 0, what="-log2 of a share is never negative"),
    ),
)
