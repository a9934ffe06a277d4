"""Every public method of the readers, given hostile arguments, raises only the package's
typed errors (``dataproducts.errors``), never DuckDB's, psycopg2's or Python's own.

The sweep calls each method of ``client.recommendations``, ``.experiments``,
``.coaching``, ``.goals``, the client itself, ``connect``, and the module-level readers
with each argument replaced in turn by each hostile value (None, bool, float, NaN, inf,
list, dict, bytes, str for an int, int for a str, negative, ids beyond 2^63, NUL, a
semicolon). A call may succeed (an unknown learner is an empty list, not an error) or
raise a :class:`~dataproducts.errors.DataProductsError`; nothing else. Where the
argument is of the wrong type the error must be an InvalidArgumentError naming it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["client_fixtures"]  # published_duckdb, published_postgres, published

import dataproducts  # noqa: E402
from dataproducts import coaching, experiments, recommendations  # noqa: E402
from dataproducts.errors import DataProductsError, InvalidArgumentError  # noqa: E402

HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    12.0,
    math.nan,
    math.inf,
    -(2**63) - 1,
    2**63,
    2**64 + 5,
    10**30,
    "",
    "17",
    "1; drop table marts.recommendations_v1",
    "a\x00b",
    "x" * 5000,
    b"17",
    [1, 2],
    [],
    {"a": 1},
    {1},
    (1,),
    object(),
    Path("/nonexistent"),
]

#: (name, call, the good arguments, the ones that must be of a given type)
EXP = "exp_completion_nudge"


def methods(client: Any) -> list[tuple[str, Any, tuple, dict]]:
    r, e, c, g = client.recommendations, client.experiments, client.coaching, client.goals
    return [
        ("recommendations.for_learner", r.for_learner, (1,), {"module": "popular", "limit": 3}),
        ("recommendations.similar", r.similar, (1,), {"limit": 3}),
        ("recommendations.frame", r.frame, ([1, 2],), {"module": "popular", "limit": 2}),
        ("experiments.assign", e.assign, (EXP, 17), {}),
        ("experiments.health", e.health, (EXP,), {}),
        ("experiments.results", e.results, (EXP,), {}),
        ("experiments.scorecard", e.scorecard, (EXP,), {}),
        ("coaching.queue_for", c.queue_for, (1,), {"course_id": 1}),
        ("goals.for_learner", g.for_learner, (1,), {}),
    ]


def calls(client: Any):
    """Each method with one argument replaced by each hostile value."""
    for name, method, args, kwargs in methods(client):
        for i in range(len(args)):
            for value in HOSTILE:
                bad = (*args[:i], value, *args[i + 1 :])
                yield (
                    f"{name} arg {i} = {value!r:.40}",
                    lambda m=method, a=bad, k=kwargs: m(*a, **k),
                )
        for key in kwargs:
            for value in HOSTILE:
                bad_kwargs = {**kwargs, key: value}
                yield (
                    f"{name} {key} = {value!r:.40}",
                    lambda m=method, a=args, k=bad_kwargs: m(*a, **k),
                )


def assert_typed(label: str, call: Any) -> Any:
    try:
        return call()
    except DataProductsError:
        return None
    except BaseException as exc:  # pragma: no cover - the failure being tested
        pytest.fail(f"{label}: raised {type(exc).__module__}.{type(exc).__name__}: {exc}")


def test_every_reader_method_raises_only_typed_errors(published) -> None:
    with published.connect() as client:
        n = 0
        for label, call in calls(client):
            assert_typed(label, call)
            n += 1
        assert n > 400
        # the client still works after all that
        assert client.experiments.assign(EXP, 17) in {"control", "treatment"}


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.experiments.health(1),
        lambda c: c.experiments.results([EXP]),
        lambda c: c.experiments.results({"a": 1}),
        lambda c: c.experiments.scorecard(None),
        lambda c: c.experiments.health("a\x00b"),
        lambda c: c.experiments.assign(EXP, 1.5),
        lambda c: c.experiments.assign(EXP, None),
        lambda c: c.experiments.assign(EXP, True),
        lambda c: c.experiments.assign(EXP, "1; drop"),
        lambda c: c.experiments.assign(["x"], 1),
        lambda c: c.recommendations.for_learner(2**64),
        lambda c: c.recommendations.for_learner("17"),
        lambda c: c.recommendations.for_learner(17, module=["popular"]),
        lambda c: c.recommendations.for_learner(17, module={"popular": 1}),
        lambda c: c.recommendations.for_learner(17, limit=math.nan),
        lambda c: c.recommendations.for_learner(17, limit=2**63),
        lambda c: c.recommendations.frame(17),
        lambda c: c.recommendations.frame("17"),
        lambda c: c.recommendations.frame({1: 2}),
        lambda c: c.recommendations.frame([1, None]),
        lambda c: c.recommendations.similar(1.0),
        lambda c: c.coaching.queue_for(1, course_id="2"),
        lambda c: c.goals.for_learner([1]),
    ],
)
def test_wrong_types_are_invalid_argument_errors(published, call) -> None:
    """The issue's examples (`health(1)`, `results([...])` raised DuckDB's exceptions)."""
    with published.connect() as client, pytest.raises(InvalidArgumentError):
        call(client)


def test_bulk_reads_and_properties_raise_only_typed_errors(published) -> None:
    with published.connect() as client:
        for call in (
            client.recommendations.evaluation,
            client.coaching.queue,
            client.coaching.performance,
            client.goals.frame,
            client.experiments.ids,
            client.experiments.registry,
            client.tables,
            client.pinned,
            lambda: client.build_id,
            lambda: client.manifest,
            lambda: repr(client),
        ):
            assert_typed(repr(call), call)
    # a closed client: typed errors (or an answer), never the engine's
    client = published.connect()
    client.close()
    for call in (
        lambda: client.recommendations.for_learner(1),
        lambda: client.experiments.health(EXP),
        lambda: client.coaching.queue(),
        lambda: repr(client),
    ):
        assert_typed("closed client", call)


CONNECT_HOSTILE: list[Any] = [
    1,
    1.5,
    True,
    [],
    ["/tmp"],
    {"a": 1},
    b"/tmp",
    object(),
    "",
    "   ",
    "a\x00b",
    "/nonexistent/dir",
    "postgresql://[::1",
    "postgresql://",
    "postgresql://user@[::1]:notaport/db",
    "postgres://u:p@host:99999999/db",
    "host=127.0.0.1 port=1 dbname=x connect_timeout=1",
    "dbname='unterminated",
    "host=127.0.0.1 port=abc dbname=x",
    "host=h\x00 dbname=x",
]


@pytest.mark.parametrize("target", CONNECT_HOSTILE, ids=repr)
def test_connect_raises_only_typed_errors(target: Any) -> None:
    with pytest.raises(DataProductsError):
        dataproducts.connect(target)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"schema": 1},
        {"schema": ["marts"]},
        {"schema": ""},
        {"poll_interval": "1"},
        {"poll_interval": -1},
        {"poll_interval": math.nan},
        {"poll_interval": True},
        {"poll_interval": None},
    ],
    ids=repr,
)
def test_connect_options_of_the_wrong_type(published_duckdb, kwargs) -> None:
    with pytest.raises(InvalidArgumentError):
        dataproducts.connect(published_duckdb.target, **kwargs)


@pytest.mark.parametrize("value", [1, [], {"a": 1}, b"x", "a\x00b", 1.5], ids=repr)
def test_module_level_readers_raise_only_typed_errors(value: Any, duckdb_build) -> None:
    for call in (
        lambda: experiments.results(duckdb_path=value),
        lambda: experiments.health(EXP, duckdb_path=value),
        lambda: experiments.scorecard(value, duckdb_path=duckdb_build.path),
        lambda: experiments.health(value, duckdb_path=duckdb_build.path),
        lambda: coaching.queue(duckdb_path=value),
        lambda: coaching.queue_for(value, duckdb_path=duckdb_build.path),
        lambda: coaching.message_performance(duckdb_path=value),
        lambda: recommendations.recommendations_for(value, duckdb_path=duckdb_build.path),
        lambda: recommendations.recommendations_for(1, module=value, duckdb_path=duckdb_build.path),
    ):
        assert_typed(f"module-level reader with {value!r}", call)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("DATAPRODUCTS_", "DBT_")):
            monkeypatch.delenv(key)
