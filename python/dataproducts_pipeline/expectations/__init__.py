"""Consumer-side expectation suites: one per public mart.

dbt's tests say what the data scientists promise; these suites say what the engineering
side *relies on* when it reads a mart — keys unique, ranks contiguous, scores and
probabilities in range, rendered text without template tokens, a row count close to the
previous snapshot's. :func:`dataproducts_pipeline.validation.validate_build` runs them with
great-expectations before a build is published.

One module per public mart, each defining ``SUITE``. Adding a public mart means adding a
module here (a test fails on a public mart without a suite).

>>> from dataproducts_pipeline.expectations import SUITES
>>> sorted(SUITES)[:3]
['coaching_message_performance', 'coaching_queue', 'experiment_daily_results']
>>> SUITES["recommendations"].key
('learner_id', 'module', 'rank')
"""

from __future__ import annotations

from ._rules import Check, MartSuite, Rule


def _load() -> dict[str, MartSuite]:
    from . import (
        coaching_message_performance,
        coaching_queue,
        experiment_daily_results,
        experiment_health,
        experiment_results,
        experiment_slice_results,
        learner_goals,
        recommendation_evaluation,
        recommendations,
        similar_courses,
    )

    modules = (
        recommendations,
        similar_courses,
        recommendation_evaluation,
        experiment_results,
        experiment_slice_results,
        experiment_daily_results,
        experiment_health,
        coaching_queue,
        coaching_message_performance,
        learner_goals,
    )
    return {m.SUITE.mart: m.SUITE for m in modules}


#: Every suite, by mart name (the dbt model name, without a version suffix).
SUITES: dict[str, MartSuite] = _load()

__all__ = ["SUITES", "Check", "MartSuite", "Rule"]
