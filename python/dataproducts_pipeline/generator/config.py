"""Sizes, planted effects and bad-row kinds of the synthetic data generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dataproducts.errors import ConfigurationError

DEFAULT_END = datetime(2026, 11, 1)
#: The world is simulated this many days past its span (sign-ups, launches and organic
#: views happen in the span; what they lead to goes on): ``generate --append`` can extend
#: data that ended at the span's end by up to this many days.
HORIZON_DAYS = 60


@dataclass(frozen=True)
class Scale:
    learners: int
    courses: int
    days: int
    approx_events: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(200, 30, 120, 10_000),
    "small": Scale(5_000, 200, 180, 300_000),
    "medium": Scale(100_000, 2_000, 365, 10_000_000),
    "large": Scale(1_000_000, 5_000, 365, 100_000_000),
}


@dataclass(frozen=True)
class Sizes:
    scale: str
    learners: int
    courses: int
    days: int

    @classmethod
    def resolve(
        cls, scale: str, learners: int | None, courses: int | None, days: int | None
    ) -> Sizes:
        if scale not in SCALES:
            raise ConfigurationError(
                f"unknown scale {scale!r}; choose one of {', '.join(SCALES)} "
                "(or override with learners=, courses=, days=)."
            )
        preset = SCALES[scale]
        sizes = cls(
            scale=scale,
            learners=preset.learners if learners is None else int(learners),
            courses=preset.courses if courses is None else int(courses),
            days=preset.days if days is None else int(days),
        )
        for name in ("learners", "courses", "days"):
            if getattr(sizes, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1, got {getattr(sizes, name)}.")
        return sizes

    @property
    def mean_views(self) -> float:
        """Mean number of courses an active learner views: grows with the history length.

        Calibrated so that the presets land near their event counts (≈ 45 events per
        learner over 120 days, ≈ 100 over a year)."""
        return 5.5 * (self.days / 120.0) ** 0.4


@dataclass(frozen=True)
class Planted:
    """Every planted effect, in one place (tests and the docs read these numbers)."""

    #: Share of learners with no event at all (cold start).
    cold_start_share: float = 0.10
    #: Share of course views chosen among the learner's interest domains.
    in_domain_share: float = 0.70
    #: Probability of enrolling after a view: base, + interest match, + language match.
    enroll_base: float = 0.25
    enroll_interest_bonus: float = 0.30
    enroll_language_bonus: float = 0.10
    #: Enrollment probability for the next course of a specialization viewed after finishing one.
    enroll_next_in_specialization: float = 0.85
    #: Probability that finishing course k of a specialization leads to viewing course k+1.
    next_in_specialization: float = 0.60
    #: Per-item drop-out hazard by difficulty (multiplied by the learner's grit factor).
    hazard: dict[str, float] = field(
        default_factory=lambda: {"beginner": 0.045, "intermediate": 0.06, "advanced": 0.08}
    )
    #: Hazard multiplier when the course is in one of the learner's interest domains.
    interest_hazard_multiplier: float = 0.80
    #: exp_completion_nudge: hazard multiplier of enrollments started after exposure
    #: (and before the experiment ends) in a non-control variant.
    nudge_hazard_multiplier: float = 0.55
    nudge_experiment: str = "exp_completion_nudge"
    #: exp_srm_checkout: share of non-control learners whose exposures are lost from the log.
    srm_experiment: str = "exp_srm_checkout"
    srm_loss: float = 0.20
    #: Share of exposed learners who also get an exposure with a different variant.
    cross_variant_share: float = 0.005
    #: Probability that a later course view inside the window logs a repeat exposure.
    repeat_exposure_prob: float = 0.25
    #: Coaching: learners in the holdout (bucket(salt, learner_id) < threshold) get nothing.
    holdout_salt: str = "coaching-holdout-v1"
    holdout_buckets: int = 1000
    #: Mean coaching deliveries per enrolled (learner, course).
    deliveries_per_enrollment: float = 1.5
    #: P(clicked), P(feedback) per delivery; share of feedback that is `dismissed`.
    click_prob: float = 0.30
    feedback_prob: float = 0.55
    dismiss_share: float = 0.20
    #: P(helpful | helpful or not_helpful) by message type (others: `default`).
    helpful_by_type: dict[str, float] = field(
        default_factory=lambda: {
            "growth_mindset": 0.70,
            "goal_setting": 0.70,
            "goal_reminder": 0.70,
            "goal_congratulation": 0.70,
            "study_tip": 0.35,
            "encouragement": 0.50,
            "self_assessment": 0.50,
            "default": 0.50,
        }
    )
    #: In the first message (by message_id) with exactly two active variants, the first
    #: variant's helpful rate is raised and the second's lowered by this much.
    variant_gap: float = 0.15
    #: Share of learners with a goal.
    goal_share: float = 0.15


PLANTED = Planted()

# Bad-row kinds per raw table, each with the staging reason it must produce
# (`superseded` is a fate, not a quarantine reason: the older copy of a re-sent row).
BAD_ROW_KINDS: dict[str, dict[str, str]] = {
    "learners": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "future_timestamp": "future_timestamp",
        "invalid_text": "invalid_text",
    },
    "courses": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "invalid_enum": "invalid_difficulty",
        "future_timestamp": "future_timestamp",
        "invalid_text": "invalid_text",
    },
    "course_items": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "invalid_enum": "invalid_item_type",
        "orphan": "orphan_course_id",
        "score_out_of_range": "score_out_of_range",
        "invalid_text": "invalid_text",
    },
    "events": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "invalid_enum": "invalid_event_type",
        "orphan": "orphan_learner_id",
        "future_timestamp": "future_timestamp",
        "score_out_of_range": "score_out_of_range",
    },
    "experiment_exposures": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "orphan": "orphan_learner_id",
        "future_timestamp": "future_timestamp",
    },
    "coaching_deliveries": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "orphan": "orphan_learner_id",
        "future_timestamp": "future_timestamp",
    },
    "coaching_responses": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "invalid_enum": "invalid_response",
        "orphan": "orphan_delivery_id",
        "future_timestamp": "future_timestamp",
    },
    "learner_goals": {
        "null_key": "null_key",
        "duplicate": "superseded",
        "orphan": "orphan_learner_id",
        "future_timestamp": "future_timestamp",
        "invalid_text": "invalid_text",
    },
}

#: The flat mapping the tests import: (table, kind) → expected staging reason / fate.
BAD_ROW_REASONS: dict[tuple[str, str], str] = {
    (table, kind): reason
    for table, kinds in BAD_ROW_KINDS.items()
    for kind, reason in kinds.items()
}
