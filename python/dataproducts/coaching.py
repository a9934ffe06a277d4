"""The coaching product, engineering side: read the published queue and goals
(``client.coaching``, :class:`CoachingReader`; ``client.goals``, :class:`GoalsReader`).

>>> import dataproducts
>>> client = dataproducts.connect()  # doctest: +SKIP
>>> [m.message_id for m in client.coaching.queue_for(17)]  # doctest: +SKIP
['quiz_retry_tip']
>>> [(g.goal_id, g.status) for g in client.goals.for_learner(17)]  # doctest: +SKIP
[(4, 'active')]

The reference implementations of the rules the dbt models apply (rendering, holdout,
Thompson draws), which the tests check the SQL against, are build-side:
:mod:`dataproducts_pipeline.coaching`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

import pandas as pd

from .connection import Reader, Requirements, as_id, dataclass_columns, reading

# --- reading the published tables -------------------------------------------------------


@dataclass(frozen=True)
class CoachingMessage:
    """One row of the public table ``marts.coaching_queue``: a message to send."""

    learner_id: int
    course_id: int
    message_id: str
    variant: str
    message_type: str
    segment_id: str
    rendered_text: str
    priority: int
    send_after: datetime
    reason: str
    generated_at: datetime


#: The name :func:`queue_for` used before :func:`dataproducts.connect`: the same class.
QueuedMessage = CoachingMessage


@dataclass(frozen=True)
class LearnerGoal:
    """One row of the public table ``marts.learner_goals``."""

    goal_id: int
    learner_id: int
    course_id: int
    queued_message_id: str | None
    goal_text: str | None
    status: str
    next_surfacing: str | None
    target_date: date | None
    created_at: datetime | None
    completed_at: datetime | None
    reminder_due_at: datetime | None
    nudge_due_at: datetime | None
    congratulation_due_at: datetime | None
    last_reminded_at: datetime | None
    last_nudged_at: datetime | None
    congratulated_at: datetime | None


_QUEUE_COLUMNS = ", ".join(f.name for f in fields(CoachingMessage))
_GOAL_COLUMNS = ", ".join(f.name for f in fields(LearnerGoal))


class CoachingReader(Reader):
    """``client.coaching``: the coaching queue and the feedback loop."""

    REQUIRES: ClassVar[Requirements] = {"coaching_queue": dataclass_columns(CoachingMessage)}

    def queue_for(self, learner_id: int, course_id: int | None = None) -> list[CoachingMessage]:
        """The messages queued for a learner (one course, or all), by send time then course;
        empty for an unknown learner, and for one in the coaching holdout."""
        sql = f"select {_QUEUE_COLUMNS} from {{coaching_queue}} where learner_id = ?"
        params: list[object] = [as_id(learner_id, "learner_id")]
        if course_id is not None:
            sql += " and course_id = ?"
            params.append(as_id(course_id, "course_id"))
        rows = self._handle().rows(sql, params)
        rows.sort(key=lambda r: (r[8], r[1], -r[7], r[2]))  # send_after, course, priority, id
        return [CoachingMessage(*r) for r in rows]

    def queue(self) -> pd.DataFrame:
        """The whole queue, by send time, learner, course and message."""
        return self._handle().frame(
            "select * from {coaching_queue} order by send_after, learner_id, course_id, message_id"
        )

    def performance(self) -> pd.DataFrame:
        """``marts.coaching_message_performance``: feedback, posterior, suppression per
        message and variant (when the snapshot publishes it)."""
        return self._handle().frame(
            "select * from {coaching_message_performance} order by message_id, grain, variant"
        )


class GoalsReader(Reader):
    """``client.goals``: learners' goals and how coaching surfaces them."""

    REQUIRES: ClassVar[Requirements] = {"learner_goals": dataclass_columns(LearnerGoal)}

    def for_learner(self, learner_id: int) -> list[LearnerGoal]:
        """The learner's goals, oldest first (empty for an unknown learner)."""
        rows = self._handle().rows(
            f"select {_GOAL_COLUMNS} from {{learner_goals}} where learner_id = ?",
            [as_id(learner_id, "learner_id")],
        )
        rows.sort(key=lambda r: (r[8] is None, r[8] or datetime.min, r[0]))
        return [LearnerGoal(*r) for r in rows]

    def frame(self) -> pd.DataFrame:
        """Every goal, by learner and goal."""
        return self._handle().frame("select * from {learner_goals} order by learner_id, goal_id")


# --- one DuckDB warehouse, without a client (scripts and tests) ---------------------------


def queue(duckdb_path: str | Path | None = None) -> pd.DataFrame:
    """``CoachingReader.queue`` on one DuckDB file (default ``$DATAPRODUCTS_DUCKDB``)."""
    with reading(CoachingReader, duckdb_path) as reader:
        return reader.queue()


def queue_for(learner_id: int, duckdb_path: str | Path | None = None) -> list[CoachingMessage]:
    """``CoachingReader.queue_for`` on one DuckDB file (empty for an unknown or holdout
    learner)."""
    with reading(CoachingReader, duckdb_path) as reader:
        return reader.queue_for(learner_id)


def message_performance(duckdb_path: str | Path | None = None) -> pd.DataFrame:
    """``CoachingReader.performance`` on one DuckDB file: feedback, posterior, suppression."""
    with reading(CoachingReader, duckdb_path) as reader:
        return reader.performance()
