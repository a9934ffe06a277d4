"""Incremental builds (issue 16): an incremental build holds what a full refresh holds.

The event-like base models (``base_raw__events``, ``_experiment_exposures``,
``_coaching_deliveries``, ``_coaching_responses``) are incremental by load day (see the
doc block ``staging_incremental``), and the daily sums of the events the affinities are
computed from (``int_learner_course_days_summarized``) by the day the events happened
(doc block ``day_incremental``). On each engine, a world is built the way a nightly job
builds it, and compared with a ``--full-refresh`` build of the same raw data:

1. raw data to D with staging built: a copy of the session's tiny build (DuckDB,
   PostgreSQL); on Spark, the session's build with another world (another seed, more bad
   rows) generated over its raw tables, so that Spark's first incremental run also
   replaces every load day (counts and fingerprints differ) and drops the days the new
   world does not have;
2. the next day appended, plus three rows by hand, loaded that day: a re-sent copy of an
   event staged before (it must supersede the older copy, loaded weeks earlier), a late
   event (it happened five days before), and an event of a learner who has not arrived
   yet (an orphan); built incrementally: the copy wins, the late event is staged on its
   load day, the orphan is quarantined;
3. built again with no new rows: nothing changes;
4. two more days appended, with the orphan's learner loaded in them, and a re-sent copy
   of an event that was alone on its day (added in step 2, 400 days before D) moving it
   to another day; built incrementally: the orphan is retried and staged, and the day
   left without events is gone from the daily sums;
5. every staging relation (every raw row's fate, the staged views, the quarantine), the
   daily sums and the affinities computed from them compared, as multisets of rows, with
   the same relations after ``dbt run --full-refresh``: identical (floating values to
   1e-9, relative);
6. (DuckDB) the half-life changed, built incrementally: every day is summed again with
   it (the table stores the vars it was built with), and the result is again a full
   refresh's.

The affinities are the only model the daily sums feed, and every other model downstream
is a full table computed from them and from staging: equal inputs, equal marts.

Then a table built before its model was incremental (no ``_loaded_date``) fails the run
saying to rebuild it with ``--full-refresh``, and a raw table that lost a contract column
fails the incremental run as it fails a full one, naming the table and the column.

Steps 3 and 4 and the two failures run on DuckDB only, through `dataproducts build`
(whose report of each incremental model is checked too): what they add is the same SQL on
every engine, and a dbt invocation costs PostgreSQL seconds and Spark about 40 s. Each
engine's own paths (delete+insert or the partition overwrite, its fingerprint, the
dropped days) are in steps 1, 2 and 5 everywhere. On Spark, the builds run and step 5
compares the incremental models alone (the other staging models are full tables and views:
the same however the increments are built), and the affinities.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TINY, DbtRunner

from dataproducts_pipeline.raw_contract import RAW_TABLES

ENGINES = ["duckdb", "postgres", "spark"]
#: The session builds' end (conftest.TINY), and the world generated over Spark's.
D = datetime(2026, 11, 1)
WORLD = {**TINY, "seed": 11, "bad_row_rate": 0.05, "progress": False}
#: What `dbt run --select staging` builds: every raw row's fate, the staged views, the
#: quarantine.
#: The incremental intermediate models (built and compared with the staging models).
INCREMENTAL_INTERMEDIATE = ["int_learner_course_days_summarized", "int_coaching_deliveries_scored"]
INCREMENTAL = [
    f"base_raw__{t}"
    for t in ("events", "experiment_exposures", "coaching_deliveries", "coaching_responses")
] + INCREMENTAL_INTERMEDIATE
#: Built with them: the affinities, computed from the daily sums (and compared too), and
#: the coaching run's time the per-delivery feedback is cut at.
AFFINITIES = [
    "int_recommendation_snapshots_defined",
    "int_learner_course_affinities_decayed",
    "int_coaching_runs_defined",
]
#: The intermediate relations compared, by schema.
INTERMEDIATE = {
    "int_learner_course_days_summarized": "intermediate",
    "int_learner_course_affinities_decayed": "intermediate",
    "int_coaching_deliveries_scored": "intermediate",
}
#: Relations with floating values (compared to 1e-9, relative).
FLOATING = {"int_learner_course_days_summarized", "int_learner_course_affinities_decayed"}
STAGING = sorted(
    [f"base_raw__{t}" for t in RAW_TABLES]
    + [f"stg_raw__{t}" for t in RAW_TABLES]
    + ["stg_raw__quarantine"]
)


@dataclass
class World:
    """One engine's raw tables and the staging built on them."""

    engine: str
    dbt: DbtRunner
    generate: Callable[..., Any]  # generate(end=..., append=...)
    query: Callable[[str], list[tuple]]
    execute: Callable[[str], None]

    #: DuckDB: builds go through `dataproducts build` (its environment), which says what
    #: each incremental model did; its last output is kept here.
    cli_env: dict[str, str] | None = None
    said: str = ""

    def build(self, *args: str, dbt_args: tuple[str, ...] = ()) -> None:
        """Build the selection incrementally, or with ``args`` (``--full-refresh``);
        ``dbt_args`` go to dbt (e.g. ``--vars``)."""
        if self.cli_env is None:
            # Spark: the incremental models alone (every other staging model is a full
            # table or a view, the same whichever way the increments are built)
            select = "config.materialized:incremental" if self.engine == "spark" else "staging"
            self.dbt.run(
                "run", "--select", select, *INCREMENTAL_INTERMEDIATE, *AFFINITIES, *args, *dbt_args
            )
            return
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "dataproducts"),
                "build",
                "--no-publish",
                "--target-path",
                str(self.dbt.target_path),
                *args,
                # (models only: the tests of staging run in the session's builds)
                *("--", "--select", "staging", *INCREMENTAL_INTERMEDIATE, *AFFINITIES),
                *("--resource-type", "model", *dbt_args),
            ],
            env=self.cli_env,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        self.said = proc.stdout

    def increment(self, model: str) -> str:
        """What the last build said of ``model`` (DuckDB), e.g. ``incremental  4,215 →
        4,366 rows (+151)``."""
        line = next(ln for ln in self.said.splitlines() if ln.strip().startswith(model + " "))
        return " ".join(line.split()[1:])

    def staging(self) -> dict[str, Counter]:
        """Every staging relation (on Spark, the incremental ones) and the relations of
        ``INTERMEDIATE``, each as a multiset of rows (values as text: one form on every engine
        and driver; floating values as numbers, see ``_same_rows``)."""
        names = [n for n in STAGING if self.engine != "spark" or n in INCREMENTAL]
        relations = {f"staging.{n}": n for n in names} | {
            f"{schema}.{n}": n for n, schema in INTERMEDIATE.items()
        }
        return {
            name: Counter(
                tuple(v if isinstance(v, float) else "∅" if v is None else str(v) for v in row)
                for row in self.query(f"select * from {relation}")
            )
            for relation, name in relations.items()
        }

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    def copy_row(self, table: str, where: str, **overrides: str) -> None:
        """Insert into ``raw.<table>`` a copy of the one row ``where`` selects, with
        ``overrides`` (column -> SQL expression); columns in contract (table) order."""
        columns = [overrides.get(c, c) for c in RAW_TABLES[table].columns]
        self.execute(
            f"insert into raw.{table} select {', '.join(columns)} from raw.{table} where {where}"
        )


def _ts(value: datetime) -> str:
    return f"cast('{value:%Y-%m-%d %H:%M:%S}' as timestamp)"


@pytest.fixture(params=ENGINES)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Raw data to D with staging built: a copy of the session's tiny build (DuckDB,
    PostgreSQL), or on Spark the session's build with a new world generated over its raw
    tables (so the first incremental run there also replaces every day: see
    ``delete_vanished_load_days``)."""
    from dataproducts_pipeline.generate import generate

    engine = request.param
    if engine == "duckdb":
        import duckdb

        build = request.getfixturevalue("duckdb_build")
        path = tmp_path / "copy" / build.path.name  # (DuckDB views name their file)
        path.parent.mkdir()
        shutil.copyfile(build.path, path)

        def query(sql: str) -> list[tuple]:
            with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
                return con.execute(sql).fetchall()

        def execute(sql: str) -> None:
            with contextlib.closing(duckdb.connect(str(path))) as con:
                con.execute(sql)

        # the session build's manifest: the previous build, whose models are counted
        (tmp_path / "target").mkdir()
        shutil.copyfile(
            build.dbt.target_path / "manifest.json", tmp_path / "target" / "manifest.json"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
        env.update(
            DATAPRODUCTS_DUCKDB=str(path),
            DBT_PROFILES_DIR=str(REPO),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        yield World(
            engine,
            DbtRunner({"DATAPRODUCTS_DUCKDB": str(path)}, "dev", tmp_path / "target"),
            lambda **kw: generate(target="dev", duckdb_path=path, **_options(kw)),
            query,
            execute,
            cli_env=env,
        )
    elif engine == "postgres":
        import psycopg2
        from psycopg2.extensions import parse_dsn

        build = request.getfixturevalue("postgres_build")
        server = request.getfixturevalue("postgres_server")
        admin = psycopg2.connect(server.dsn_for("postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("drop database if exists incremental")
            cur.execute(f'create database incremental template "{parse_dsn(build.dsn)["dbname"]}"')
        env, dsn = server.env_for("incremental"), server.dsn_for("incremental")

        def query(sql: str) -> list[tuple]:
            with contextlib.closing(psycopg2.connect(dsn)) as con, con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()

        def execute(sql: str) -> None:
            with contextlib.closing(psycopg2.connect(dsn)) as con, con.cursor() as cur:
                cur.execute(sql)
                con.commit()

        try:
            yield World(
                engine,
                DbtRunner(env, "postgres", tmp_path / "target"),
                lambda **kw: generate(target="postgres", pg_dsn=dsn, **_options(kw)),
                query,
                execute,
            )
        finally:
            with admin.cursor() as cur:
                cur.execute("drop database if exists incremental with (force)")
            admin.close()
    else:
        request.getfixturevalue("spark_build")  # its seeds, and staging tables to build on
        server = request.getfixturevalue("spark_server")
        where = {"host": server.host, "port": server.port}
        raw_dir = tmp_path / "spark_raw"

        def query(sql: str) -> list[tuple]:
            with (
                contextlib.closing(server.connect()) as con,
                contextlib.closing(con.cursor()) as cur,
            ):
                cur.arraysize = 20_000
                cur.execute(sql)
                return cur.fetchall()

        def execute(sql: str) -> None:
            with (
                contextlib.closing(server.connect()) as con,
                contextlib.closing(con.cursor()) as cur,
            ):
                cur.execute(sql)

        def generate_on_spark(**kw: Any) -> Any:
            return generate(
                target="spark", spark_server=where, spark_raw_dir=raw_dir, **_options(kw)
            )

        generate_on_spark(end=D)
        yield World(
            engine,
            DbtRunner(
                {**server.env, "DATAPRODUCTS_SPARK_RAW_DIR": str(raw_dir)},
                "spark",
                tmp_path / "target",
            ),
            generate_on_spark,
            query,
            execute,
        )


def _options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The world's options for a first generation; an append takes them from the log."""
    if kwargs.get("append"):
        return {"progress": False, **kwargs}
    return {**WORLD, **kwargs}


def test_incremental_staging_equals_a_full_refresh(world: World) -> None:
    # 2. the next day, with a re-sent copy, a late event and an orphan
    events_before = world.scalar("select count(*) from staging.base_raw__events")
    world.generate(end=D + timedelta(days=1), append=True)
    event = world.scalar(
        "select min(s.event_id) from staging.stg_raw__events as s "
        "where s.event_type = 'course_view' and s.event_id in "
        "(select event_id from raw.events group by event_id having count(*) = 1)"
    )
    text = "string" if world.engine == "spark" else "varchar"
    original_day = world.scalar(
        f"select cast(cast(_loaded_at as date) as {text}) from raw.events where event_id = {event}"
    )
    new_event = world.scalar("select max(event_id) from raw.events") + 1000
    new_learner = world.scalar("select max(learner_id) from raw.learners") + 1000
    world.copy_row(
        "events",
        f"event_id = {event}",
        event_id=str(new_event),
        occurred_at=_ts(D - timedelta(days=5)),
        _loaded_at=_ts(D + timedelta(hours=12, seconds=1)),
    )
    world.copy_row(
        "events",
        f"event_id = {event}",
        event_id=str(new_event + 1),
        learner_id=str(new_learner),
        occurred_at=_ts(D + timedelta(hours=11)),
        _loaded_at=_ts(D + timedelta(hours=12, seconds=2)),
    )
    # an event on a day of its own, long before the data: re-sent in step 4 with another
    # day, after which its day holds no event and must leave the daily sums
    lonely = D - timedelta(days=400)
    world.copy_row(
        "events",
        f"event_id = {event}",
        event_id=str(new_event + 2),
        occurred_at=_ts(lonely + timedelta(hours=9)),
        _loaded_at=_ts(D + timedelta(hours=12, seconds=3)),
    )
    # (the copy last: the rows above are copied from the only raw row of the event)
    world.copy_row(
        "events",
        f"event_id = {event}",
        event_type="'enroll'",
        _loaded_at=_ts(D + timedelta(hours=12)),
    )
    raw_events = world.scalar("select count(*) from raw.events")
    world.build()
    if world.cli_env is not None:  # every raw row once: the table grew by the rows added
        assert world.increment("base_raw__events") == (
            f"incremental {events_before:,} → {raw_events:,} rows ({raw_events - events_before:+,})"
        )
    fates = world.query(
        f"select event_id, event_type, _fate, _quarantine_reason, cast(_loaded_date as {text}) "
        "from staging.base_raw__events "
        f"where event_id in ({event}, {new_event}, {new_event + 1}, {new_event + 2})"
    )
    day = f"{D:%Y-%m-%d}"
    assert sorted(fates, key=str) == sorted(
        [
            (event, "course_view", "superseded", None, original_day),
            (event, "enroll", "staged", None, day),
            (new_event, "course_view", "staged", None, day),
            (new_event + 1, "course_view", "quarantined", "orphan_learner_id", day),
            (new_event + 2, "course_view", "staged", None, day),
        ],
        key=str,
    )
    lonely_day = (
        "select count(*), sum(n_events) from intermediate.int_learner_course_days_summarized "
        f"where event_date = cast('{lonely:%Y-%m-%d}' as date)"
    )
    assert world.query(lonely_day) == [(1, 1)]
    assert world.scalar(
        f"select event_type from staging.stg_raw__events where event_id = {event}"
    ) == ("enroll")

    if world.engine != "duckdb":  # (see the module's docstring)
        _compare_with_a_full_refresh(world)
        return

    # 3. no new rows: nothing changes
    before = world.staging()
    world.build()
    _assert_same(world.staging(), before)
    if world.cli_env is not None:
        assert world.increment("base_raw__events") == (
            f"incremental {raw_events:,} → {raw_events:,} rows (+0)"
        )
        assert "incremental models: 6 ran incrementally, 0 built from all history" in world.said
        assert "recomputed" not in world.said

    # 4. two more days; the orphan's learner arrives
    world.generate(end=D + timedelta(days=3), append=True)
    learner = world.scalar(
        "select min(learner_id) from staging.stg_raw__learners where learner_id in "
        "(select learner_id from raw.learners group by learner_id having count(*) = 1)"
    )
    world.copy_row(
        "learners",
        f"learner_id = {learner}",
        learner_id=str(new_learner),
        _loaded_at=_ts(D + timedelta(days=1, hours=12)),
    )
    # the lonely event re-sent, now on the day before D: its old day has no event left
    world.copy_row(
        "events",
        f"event_id = {new_event + 2}",
        occurred_at=_ts(D - timedelta(hours=3)),
        _loaded_at=_ts(D + timedelta(days=2, hours=12)),
    )
    world.build()
    assert world.query(
        f"select _fate, _quarantine_reason from staging.base_raw__events "
        f"where event_id = {new_event + 1}"
    ) == [("staged", None)]
    assert world.query(lonely_day) == [(0, None)]

    _compare_with_a_full_refresh(world)

    # 6. a var the daily sums depend on changed: every day summed again, in an incremental run
    half_life = ("--vars", "{recommendations_half_life_days: 7}")
    summed = (
        "select min(decayed_weight), max(decayed_weight) "
        "from intermediate.int_learner_course_days_summarized"
    )
    before = world.query(summed)
    world.build(dbt_args=half_life)
    said = world.increment("int_learner_course_days_summarized")
    # its row count alone (+0) would hide that every day was summed again: the line says it
    assert said.startswith("incremental") and said.endswith(
        "every day recomputed: a var its history depends on changed"
    ), said
    assert world.query(summed) != before
    world.build(dbt_args=half_life)  # the same vars again: only what changed
    assert "recomputed" not in world.increment("int_learner_course_days_summarized")
    _compare_with_a_full_refresh(world, dbt_args=half_life)

    # a table built before its model was incremental: a clear error, not a missing column
    world.execute("alter table staging.base_raw__events drop column _loaded_date")
    proc = world.dbt.run("run", "--select", "base_raw__events", check=False)
    assert proc.returncode != 0
    assert "was built before it was incremental" in proc.stdout, proc.stdout[-3000:]
    assert "dataproducts build --full-refresh" in proc.stdout
    # the same for an incremental aggregate, its bookkeeping column named
    world.execute(
        "alter table intermediate.int_coaching_deliveries_scored drop column _inputs_fingerprint"
    )
    proc = world.dbt.run("run", "--select", "int_coaching_deliveries_scored", check=False)
    assert proc.returncode != 0
    assert "was built before it was incremental (it has no _inputs_fingerprint column)" in (
        proc.stdout
    ), proc.stdout[-3000:]

    # a raw table that lost a contract column fails an incremental run as it fails a full one
    world.execute("alter table raw.events drop column score")
    proc = world.dbt.run("run", "--select", "base_raw__events", check=False)
    assert proc.returncode != 0
    assert "raw.events is missing contract column 'score'" in proc.stdout, proc.stdout[-3000:]


def _compare_with_a_full_refresh(world: World, dbt_args: tuple[str, ...] = ()) -> None:
    """5. The same as a full refresh (built with ``dbt_args`` too), relation by relation,
    row by row."""
    incremental = world.staging()
    assert sum(incremental["base_raw__events"].values()) == world.scalar(
        "select count(*) from raw.events"
    )
    world.build("--full-refresh", dbt_args=dbt_args)
    if world.cli_env is not None:
        assert "incremental models: 0 ran incrementally, 6 built from all history" in world.said
    _assert_same(incremental, world.staging())


def _assert_same(incremental: dict[str, Counter], full: dict[str, Counter]) -> None:
    """Relation by relation, the same multiset of rows (``FLOATING``: ``_same_rows``)."""
    assert full.keys() == incremental.keys()
    for name in full:
        if name in FLOATING:
            _same_rows(name, incremental[name], full[name])
            continue
        assert incremental[name] == full[name], (
            f"{name}: {sum((incremental[name] - full[name]).values())} row(s) only in the "
            f"incremental build, {sum((full[name] - incremental[name]).values())} only in "
            "the other build"
        )


def _same_rows(name: str, incremental: Counter, full: Counter) -> None:
    """The same multiset of rows, floating values equal to 1e-9 (relative): rows are
    matched by their other values (each relation's key is among them)."""

    def exact(row: tuple) -> tuple:
        return tuple(v for v in row if not isinstance(v, float))

    assert sum(incremental.values()) == sum(full.values()), name
    by_key = {exact(row): row for row in full.elements()}
    assert len(by_key) == sum(full.values()), f"{name}: rows not told apart by their key"
    for row in incremental.elements():
        other = by_key.get(exact(row))
        assert other is not None, f"{name}: {row} is only in the incremental build"
        for a, b in zip(row, other, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300), (name, row, other)


def test_a_first_build_says_which_tables_it_created(tmp_path: Path) -> None:
    """No previous build in the target directory names the incremental relations, so their
    rows before are not counted; a table that did not exist before is still reported as
    built from all history (new), and only one that existed as not counted."""
    import duckdb

    from dataproducts_pipeline.increments import existing_tables, increments, render

    path = tmp_path / "warehouse.duckdb"
    assert existing_tables("dev", path) == set()  # (and the file is not created)
    assert not path.exists()
    with contextlib.closing(duckdb.connect(str(path))) as con:
        con.execute("create schema staging")
        con.execute("create table staging.kept as select 1 as x")
        con.execute("create view staging.a_view as select 1 as x")
    existed = existing_tables("dev", path)
    assert existed == {"staging.kept"}
    ran = increments(
        {"kept": "staging.kept", "created": "staging.created"},
        None,
        {"staging.kept": 4, "staging.created": 3},
        full_refresh=False,
        existed=existed,
    )
    assert [(i.model, i.mode, i.added) for i in ran] == [
        ("created", "full", 3),
        ("kept", "unknown", None),
    ]
    assert render(ran).splitlines() == [
        "incremental models: 0 ran incrementally, 1 built from all history, 1 not counted "
        "before dbt (no previous build in this target directory)",
        "  created  full          3 rows (new)",
        "  kept     unknown       4 rows",
    ]


def test_the_history_stamps_and_row_counts_are_read_on_each_engine(warehouse) -> None:
    """What `dataproducts build` reads before and after dbt to say what each incremental
    model did, on DuckDB and PostgreSQL (Spark: the session's Spark build reads the row
    counts): the row counts, and the vars stamps of the models that store them."""
    from dataproducts_pipeline.increments import count_rows, history_relations, history_stamps

    source = warehouse.path if warehouse.engine == "duckdb" else warehouse.dsn
    target = "dev" if warehouse.engine == "duckdb" else "postgres"
    relation = "intermediate.int_learner_course_days_summarized"
    assert sorted(history_relations(warehouse.dbt.target_path)) == [
        "intermediate.int_coaching_deliveries_scored",  # (a constant stamp: no vars)
        relation,
    ]
    stamps = history_stamps(target, source, [relation, "intermediate.no_such_table"])
    expected = warehouse.query(f"select distinct _history_vars from {relation}")
    assert stamps == {relation: frozenset(int(v) for v in expected.iloc[:, 0])}
    assert len(stamps[relation]) == 1  # one set of vars: one stamp
    rows = count_rows(target, source, [relation, "staging.no_such_table"])
    assert rows == {relation: int(warehouse.scalar(f"select count(*) from {relation}"))}
