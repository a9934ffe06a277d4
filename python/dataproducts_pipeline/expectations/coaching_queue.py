"""``coaching_queue``: what the coaching sender delivers, as is, to learners.

The sender does no templating: ``rendered_text`` must be final (no ``{token}`` left, not
empty); one message per learner, course and message; a send time not before the run.
"""

from __future__ import annotations

from ._rules import MartSuite, at_least, between, columns_present, no_tokens, not_null, one_of

MESSAGE_TYPES = (
    "growth_mindset",
    "self_assessment",
    "goal_setting",
    "goal_reminder",
    "goal_congratulation",
    "encouragement",
    "study_tip",
)

SUITE = MartSuite(
    mart="coaching_queue",
    purpose="Personalized, scheduled coaching messages to send.",
    key=("learner_id", "course_id", "message_id"),
    # A day without a trigger leaves the queue empty: that is not an error.
    min_rows=0,
    rules=(
        columns_present(
            "learner_id",
            "course_id",
            "message_id",
            "variant",
            "message_type",
            "rendered_text",
            "priority",
            "send_after",
            "generated_at",
        ),
        no_tokens("rendered_text"),
        not_null(
            "variant", "message_type", "rendered_text", "priority", "send_after", "generated_at"
        ),
        one_of("message_type", MESSAGE_TYPES),
        between("priority", 1, what="1 is the most important"),
        at_least("send_after", "generated_at", "a message is never scheduled before its run"),
    ),
)
