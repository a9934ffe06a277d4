"""``coaching_message_performance``: ``client.coaching.performance()``.

One row per message variant and one per message; counts never negative; rates, posterior
means, credible-interval ends and the probability below the threshold are probabilities;
the interval is ordered; suppression flags are never null (the sender relies on them).
"""

from __future__ import annotations

from ._rules import MartSuite, at_least, between, columns_present, not_null, one_of, probability

SUITE = MartSuite(
    mart="coaching_message_performance",
    purpose="Feedback loop per message and variant: rates, Beta posterior, suppression.",
    key=("performance_key",),
    rules=(
        columns_present(
            "performance_key",
            "message_id",
            "variant",
            "grain",
            "n_deliveries",
            "helpfulness_rate",
            "credible_interval_lower",
            "credible_interval_upper",
            "p_below_threshold",
            "is_suppressed",
        ),
        not_null("message_id", "grain", "n_deliveries", "is_suppressed"),
        one_of("grain", ("variant", "message")),
        between("n_deliveries", 0),
        between("n_votes", 0),
        probability(
            "engagement_rate",
            "helpfulness_rate",
            "posterior_mean",
            "credible_interval_lower",
            "credible_interval_upper",
            "p_below_threshold",
        ),
        at_least(
            "credible_interval_upper",
            "credible_interval_lower",
            why="a credible interval's upper end is never below its lower end",
        ),
    ),
)
