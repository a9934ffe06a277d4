"""The recommendations product, engineering side: read the API tables
(``client.recommendations``, :class:`RecommendationsReader`).

The kernels the build runs (the SAR similarity of ``int_course_similarities_computed``)
and the reference implementations the tests check the SQL against (ranking metrics) are
build-side: :mod:`dataproducts_pipeline.recommendations`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pandas as pd

from .connection import Reader, Requirements, as_id, as_limit, dataclass_columns, reading
from .errors import InvalidArgumentError


@dataclass(frozen=True)
class Recommendation:
    """One row of the public table ``marts.recommendations`` (contract version 1)."""

    learner_id: int
    module: str
    rank: int
    course_id: int
    score: float
    algorithm: str
    reason: str
    anchor_course_id: int | None
    model_version: str
    generated_at: datetime


@dataclass(frozen=True)
class SimilarCourse:
    """One row of the public table ``marts.similar_courses``."""

    course_id: int
    similar_course_id: int
    rank: int
    similarity: float
    method: str


#: The modules of ``marts.recommendations`` (its accepted values).
MODULES = (
    "recent_activity",
    "because_you_viewed",
    "popular",
    "next_in_specialization",
    "als",
    "for_you",
)

_REC_COLUMNS = ", ".join(f.name for f in fields(Recommendation))
_SIMILAR_COLUMNS = ", ".join(f.name for f in fields(SimilarCourse))


def _module_and_limit(module: str | None, limit: int | None) -> tuple[str, list[object]]:
    """The ``and ...`` conditions (and their parameters) for one module and ranks 1..limit."""
    sql = ""
    params: list[object] = []
    if module is not None:
        if not isinstance(module, str) or module not in MODULES:
            raise InvalidArgumentError(
                f"unknown module {module!r}: use one of {', '.join(MODULES)}"
            )
        sql += " and module = ?"
        params.append(module)
    if limit is not None:
        sql += " and rank <= ?"
        params.append(as_limit(limit))
    return sql, params


class RecommendationsReader(Reader):
    """``client.recommendations``: the published recommendation lists.

    >>> import dataproducts
    >>> client = dataproducts.connect()  # doctest: +SKIP
    >>> [(r.module, r.rank, r.course_id) for r in client.recommendations.for_learner(17, "popular", limit=2)]  # doctest: +SKIP
    [('popular', 1, 3), ('popular', 2, 11)]
    """

    REQUIRES: ClassVar[Requirements] = {
        "recommendations": dataclass_columns(Recommendation),
        "similar_courses": dataclass_columns(SimilarCourse),
    }

    def for_learner(
        self, learner_id: int, module: str | None = None, limit: int | None = 10
    ) -> list[Recommendation]:
        """The learner's lists, by module then rank: ranks 1..``limit`` of each module
        (``None``: all), one module if ``module`` is given. Empty for an unknown learner."""
        learner_id = as_id(learner_id, "learner_id")
        sql = f"select {_REC_COLUMNS} from {{recommendations}} where learner_id = ?"
        params: list[object] = [learner_id]
        where, more = _module_and_limit(module, limit)
        sql += where
        params += more
        rows = self._handle().rows(sql, params)
        rows.sort(key=lambda r: (r[1], r[2]))  # module, rank (unique per learner)
        return [Recommendation(*r) for r in rows]

    def similar(self, course_id: int, limit: int | None = 10) -> list[SimilarCourse]:
        """The courses most similar to ``course_id``, by rank (empty for an unknown course)."""
        sql = f"select {_SIMILAR_COLUMNS} from {{similar_courses}} where course_id = ?"
        params: list[object] = [as_id(course_id, "course_id")]
        if limit is not None:
            sql += " and rank <= ?"
            params.append(as_limit(limit))
        rows = self._handle().rows(sql, params)
        rows.sort(key=lambda r: r[2])
        return [SimilarCourse(*r) for r in rows]

    def frame(
        self,
        learner_ids: Iterable[int] | None = None,
        module: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Many learners' lists as one DataFrame (every learner by default), ordered by
        learner, module and rank; the columns of the contract."""
        sql = "select * from {recommendations} where true"
        params: list[object] = []
        if learner_ids is not None:
            if isinstance(learner_ids, str | bytes | Mapping) or not isinstance(
                learner_ids, Iterable
            ):
                raise InvalidArgumentError(
                    f"learner_ids must be a list (or other iterable) of integer ids, got "
                    f"{type(learner_ids).__name__} {learner_ids!r:.80}"
                )
            ids = [as_id(i, "learner_ids") for i in learner_ids]
            if not ids:
                return self._handle().frame(sql + " and false")
            sql += " and learner_id in (select unnest(?))"
            params.append(ids)
        where, more = _module_and_limit(module, limit)
        sql += where
        params += more
        return self._handle().frame(sql + " order by learner_id, module, rank", params)

    def evaluation(self) -> pd.DataFrame:
        """``marts.recommendation_evaluation``: offline metrics per module."""
        return self._handle().frame("select * from {recommendation_evaluation} order by module")


def recommendations_for(
    learner_id: int, module: str | None = None, duckdb_path: str | Path | None = None
) -> list[Recommendation]:
    """Every rank of the learner's lists in one DuckDB warehouse (empty for an unknown learner).

    Kept for scripts written before :func:`dataproducts.connect`; reads ``duckdb_path``
    (default ``$DATAPRODUCTS_DUCKDB``). New code: ``connect().recommendations.for_learner``.
    """
    with reading(RecommendationsReader, duckdb_path) as reader:
        return reader.for_learner(learner_id, module, limit=None)
