"""``learner_goals``: ``client.goals.for_learner()``.

One row per goal; a status the package can switch on; the surfacing due, if any, from a
known set. ``goal_text`` is the learner's own words (untrusted, may hold braces): it is
not checked for tokens here — the queue renders it escaped.
"""

from __future__ import annotations

from ._rules import MartSuite, columns_present, not_null, one_of

SUITE = MartSuite(
    mart="learner_goals",
    purpose="Learner goals with their status and coaching surfacing.",
    key=("goal_id",),
    # Few learners set goals: an empty table is legitimate.
    min_rows=0,
    rules=(
        columns_present(
            "goal_id", "learner_id", "course_id", "goal_text", "status", "next_surfacing"
        ),
        not_null("learner_id", "course_id", "status"),
        one_of("status", ("achieved", "abandoned", "overdue", "active")),
        one_of("next_surfacing", ("congratulation", "deadline_nudge", "reminder")),
    ),
)
