"""``recommendations``: what course pages, the home page and the package rely on.

The package answers ``for_learner(learner_id, module, limit)`` with the first ``limit``
ranks of one list: it needs one row per learner, module and rank, ranks 1..n without a
gap, a course at most once per list, a finite score, and a reason it can show as is.
Every rule holds within one learner's rows (the keys and the rank partitions start with
``learner_id``) but one, a single ``generated_at``: the mart is validated in parts by
learner when it is big (see :attr:`MartSuite.part_by`).
"""

from __future__ import annotations

from ._rules import (
    MartSuite,
    between,
    columns_present,
    finite,
    no_tokens,
    not_null,
    one_of,
    ranks_contiguous,
    single_value,
    unique,
)

MODULES = (
    "recent_activity",
    "because_you_viewed",
    "popular",
    "next_in_specialization",
    "als",
    "for_you",
)

SUITE = MartSuite(
    mart="recommendations",
    purpose="Ranked course lists per learner and home-page module.",
    key=("learner_id", "module", "rank"),
    rules=(
        columns_present(
            "learner_id",
            "module",
            "rank",
            "course_id",
            "score",
            "algorithm",
            "reason",
            "anchor_course_id",
            "model_version",
            "generated_at",
        ),
        unique("learner_id", "module", "course_id", why="A course appears once per list."),
        ranks_contiguous("rank", partition_by=("learner_id", "module")),
        between("rank", 1, what="ranks are 1-based"),
        not_null("course_id", "algorithm", "reason", "model_version", "generated_at"),
        one_of("module", MODULES),
        finite("score"),
        no_tokens("reason"),
        single_value("generated_at", "one build, one serving snapshot"),
    ),
    # 50 million rows at `large`: validated a few million learners' rows at a time
    part_by="learner_id",
)
