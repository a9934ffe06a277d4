"""``dataproducts.connect()``: the data products as a small, read-only Python API.

These examples run in the test suite (``test_client.py``) against a published build of
the ``tiny`` dataset:

>>> import dataproducts
>>> client = dataproducts.connect()  # the current published snapshot
>>> client.build_id  # doctest: +ELLIPSIS
'20...-...-...'
>>> recs = client.recommendations.for_learner(1, module="popular", limit=3)
>>> [(r.module, r.rank) for r in recs]
[('popular', 1), ('popular', 2), ('popular', 3)]
>>> recs[0]  # doctest: +ELLIPSIS
Recommendation(learner_id=1, module='popular', rank=1, course_id=..., score=..., ...)
>>> client.recommendations.for_learner(-1)  # an unknown learner: nothing, not an error
[]
>>> [s.rank for s in client.recommendations.similar(1, limit=3)]
[1, 2, 3]
>>> client.experiments.assign("exp_completion_nudge", 42)
'treatment'
>>> health = client.experiments.health("exp_completion_nudge")  # read it before the results
>>> health.experiment_name, type(health.is_healthy)
('Weekly progress nudge', <class 'bool'>)
>>> client.experiments.results("exp_completion_nudge").columns[:3].tolist()
['experiment_id', 'metric_id', 'variant']
>>> client.experiments.health("exp_nope")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
dataproducts.errors.UnknownExperimentError: unknown experiment 'exp_nope'; snapshot ... has: exp_aa_homepage, ...
>>> queue = client.coaching.queue()  # bulk reads are DataFrames
>>> first = client.coaching.queue_for(int(queue.learner_id[0]))[0]
>>> "{" in first.rendered_text  # rendered: no template token left
False
>>> goals = client.goals.frame()
>>> {g.learner_id for g in client.goals.for_learner(int(goals.learner_id[0]))} == {goals.learner_id[0]}
True
>>> popular = client.recommendations.frame(module="popular", limit=1)  # one row per learner
>>> len(popular) == popular.learner_id.nunique()
True
>>> snap = client.pinned()  # several reads of one build, whatever gets published meanwhile
>>> snap.build_id == client.build_id
True
>>> client.close()

What ``connect`` reads:

- nothing: the current published snapshot of the embedded DuckDB warehouse
  (``warehouse/published/``, or ``$DATAPRODUCTS_PUBLISHED_DIR``), following the pointer:
  when a new build is published, the next call reads it;
- a published directory (one holding ``CURRENT``) or one snapshot's directory;
- a DuckDB file: a snapshot's ``snapshot.duckdb`` (pinned), or a warehouse dbt built
  (its ``marts`` and ``reference`` schemas; do not read a file dbt is writing);
- a PostgreSQL URL (``postgresql://user@host:5432/db``, or a libpq ``key=value``
  string): its current published snapshot, or with ``schema="marts"`` the live build.

At connect, and whenever the pointer moves, the snapshot's tables are compared with the
contract published with them (dbt's, copied into the snapshot manifest) and with what this
package reads: a difference raises :class:`~dataproducts.errors.ContractError` naming the
table and the column. Lookups are parameterized queries; one call reads one build. A client
is safe to share between threads (each thread gets its own cursor or connection).
"""

from __future__ import annotations

import os
from typing import Any

from .coaching import CoachingMessage, CoachingReader, GoalsReader, LearnerGoal
from .connection import FixedSource, Handle, Requirements, Source, open_source
from .errors import DataProductsError
from .experiments import ExperimentHealth, ExperimentsReader
from .recommendations import Recommendation, RecommendationsReader, SimilarCourse

_READERS = (RecommendationsReader, ExperimentsReader, CoachingReader, GoalsReader)

__all__ = [
    "Client",
    "CoachingMessage",
    "ExperimentHealth",
    "LearnerGoal",
    "Recommendation",
    "SimilarCourse",
    "connect",
]


def requirements() -> Requirements:
    """Every table and column the package reads, with the Python type it expects."""
    out: dict[str, dict[str, type]] = {}
    for reader in _READERS:
        for table, columns in reader.REQUIRES.items():
            out.setdefault(table, {}).update(columns)
    return out


class Client:
    """A read-only connection to the data products. Use :func:`connect` to make one.

    ``recommendations``, ``experiments``, ``coaching`` and ``goals`` are the product
    readers. Close it (or use ``with``) to release the files and connections.
    """

    def __init__(self, source: Source):
        self._source = source
        self.recommendations = RecommendationsReader(source)
        self.experiments = ExperimentsReader(source)
        self.coaching = CoachingReader(source)
        self.goals = GoalsReader(source)

    @property
    def build_id(self) -> str | None:
        """The build being served now (None for a warehouse file or a live schema)."""
        return self._source.handle().build_id

    @property
    def manifest(self) -> dict[str, Any] | None:
        """The manifest of the snapshot being served (None for a warehouse or live schema)."""
        manifest = self._source.handle().manifest
        return dict(manifest) if manifest is not None else None

    def tables(self) -> dict[str, int | None]:
        """Relations readable now, with their row counts when the manifest records them."""
        handle = self._source.handle()
        return {name: t.rows for name, t in sorted(handle.tables.items())}

    def pinned(self) -> Client:
        """A client fixed on the snapshot served now, for several reads of one build.

        >>> snap = client.pinned()  # doctest: +SKIP
        >>> recs = snap.recommendations.for_learner(17)  # doctest: +SKIP
        >>> similar = snap.recommendations.similar(recs[0].course_id)  # same build as recs  # doctest: +SKIP
        """
        return Client(FixedSource(self._source.handle(), owned=False))

    def handle(self) -> Handle:
        """The connection layer's handle of the snapshot served now (advanced use)."""
        return self._source.handle()

    def close(self) -> None:
        """Release files and connections; calls on a closed client fail."""
        self._source.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            description = self._source.handle().description
        except DataProductsError as exc:
            description = f"(unavailable: {type(exc).__name__})"
        return f"<dataproducts.Client {description}>"


def connect(
    target: str | os.PathLike[str] | None = None,
    *,
    schema: str | None = None,
    poll_interval: float = 1.0,
) -> Client:
    """Open the data products read-only (see the module docstring for ``target``).

    ``schema``: PostgreSQL only — read that schema (``"marts"``: the live build) instead
    of the published snapshot. ``poll_interval``: PostgreSQL only — seconds between
    checks of the snapshot pointer (0: every call).

    Raises :class:`~dataproducts.errors.NotPublishedError` when nothing is published
    yet, :class:`~dataproducts.errors.SnapshotCorruptError` when the pointer or the
    snapshot is damaged (the message says how to recover),
    :class:`~dataproducts.errors.WarehouseError` when the target cannot be opened,
    :class:`~dataproducts.errors.ContractError` when a table differs from its contract,
    :class:`~dataproducts.errors.ConfigurationError` for a PostgreSQL connection string
    libpq cannot parse and :class:`~dataproducts.errors.InvalidArgumentError` for an
    argument of the wrong type. No password is ever part of a message.
    """
    return Client(open_source(target, requirements(), schema=schema, poll_interval=poll_interval))
