"""``dataproducts.connect()`` on both engines: every reader against the built marts read
with plain SQL (not through the package), typed errors, the contract check at connect,
thread safety, and the runnable examples of the client's documentation."""

from __future__ import annotations

import dataclasses
import doctest
import json
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pytest

import dataproducts
from dataproducts import allocation
from dataproducts.errors import (
    ContractError,
    InvalidArgumentError,
    NotPublishedError,
    UnknownExperimentError,
    WarehouseError,
)

if TYPE_CHECKING:
    from client_fixtures import Published

pytest_plugins = ["client_fixtures"]  # published_duckdb, published_postgres, published

MODULES = {"recent_activity", "because_you_viewed", "popular", "next_in_specialization"}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("DATAPRODUCTS_", "DBT_")):
            monkeypatch.delenv(key)


def records(df: pd.DataFrame) -> list[dict]:
    out = []
    for row in df.to_dict(orient="records"):
        out.append(
            {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in row.items()}
        )
    return out


def as_dicts(items: list) -> list[dict]:
    return [dataclasses.asdict(i) for i in items]


def same(got: list[dict], want: list[dict]) -> None:
    """Rows equal, timestamps compared as pandas Timestamps (DuckDB and psycopg2 types)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert set(g) <= set(w)
        for key, value in g.items():
            expected = w[key]
            if hasattr(value, "isoformat") and expected is not None:
                assert pd.Timestamp(value) == pd.Timestamp(expected), key
            elif isinstance(value, float):
                assert value == pytest.approx(float(expected), rel=1e-12, abs=0), key
            else:
                assert value == expected, key


def a_learner(p: Published) -> int:
    return int(
        p.query(
            "select learner_id from marts.recommendations group by learner_id "
            "having count(distinct module) >= 4 order by learner_id limit 1"
        ).iat[0, 0]
    )


# --- recommendations ---------------------------------------------------------------------


def test_for_learner_reads_the_published_lists(published: Published) -> None:
    learner = a_learner(published)
    want = records(
        published.query(
            "select * from marts.recommendations where learner_id = ? order by module, rank",
            [learner],
        )
    )
    with published.connect() as client:
        assert client.build_id == published.build_id
        got = client.recommendations.for_learner(learner, limit=None)
        same(as_dicts(got), want)
        assert {r.module for r in got} >= MODULES
        # limit: ranks 1..limit of every module; module: one module
        top2 = client.recommendations.for_learner(learner, limit=2)
        same(as_dicts(top2), [w for w in want if w["rank"] <= 2])
        popular = client.recommendations.for_learner(learner, module="popular", limit=3)
        same(as_dicts(popular), [w for w in want if w["module"] == "popular" and w["rank"] <= 3])
        # the default is 10 per module, the contract's k
        assert all(r.rank <= 10 for r in client.recommendations.for_learner(learner))
        assert isinstance(got[0], dataproducts.client.Recommendation)
        with pytest.raises(dataclasses.FrozenInstanceError):
            got[0].rank = 99  # type: ignore[misc]


def test_unknown_learner_or_course_is_an_empty_list(published: Published) -> None:
    with published.connect() as client:
        assert client.recommendations.for_learner(-1) == []
        assert client.recommendations.for_learner(10**12, module="popular") == []
        assert client.recommendations.similar(-1) == []
        assert client.coaching.queue_for(-1) == []
        assert client.goals.for_learner(-1) == []
        assert client.recommendations.frame([-1, -2]).empty


def test_similar_and_frame(published: Published) -> None:
    course = int(
        published.query(
            "select course_id from marts.similar_courses group by 1 order by count(*) desc, 1 limit 1"
        ).iat[0, 0]
    )
    want = records(
        published.query(
            "select * from marts.similar_courses where course_id = ? order by rank", [course]
        )
    )
    learners = [
        int(x)
        for x in published.query(
            "select distinct learner_id from marts.recommendations order by 1 limit 5"
        ).learner_id
    ]
    frame_want = published.query(
        "select * from marts.recommendations where learner_id in ({}) "
        "order by learner_id, module, rank".format(", ".join(map(str, learners)))
    )
    total = int(published.query("select count(*) as n from marts.recommendations").n[0])
    with published.connect() as client:
        same(as_dicts(client.recommendations.similar(course, limit=None)), want)
        same(as_dicts(client.recommendations.similar(course, limit=2)), want[:2])
        frame = client.recommendations.frame(learners)
        assert list(frame.columns) == list(frame_want.columns)
        same(records(frame), records(frame_want))
        assert len(client.recommendations.frame()) == total
        one_each = client.recommendations.frame(module="popular", limit=1)
        assert len(one_each) == one_each.learner_id.nunique()
        assert set(client.recommendations.evaluation().module) >= MODULES


def test_bad_arguments_are_typed_errors(published: Published) -> None:
    with published.connect() as client:
        for call in (
            lambda: client.recommendations.for_learner(1, limit=0),
            lambda: client.recommendations.for_learner(1, module="bogus"),
            lambda: client.recommendations.for_learner("1; drop table x"),  # type: ignore[arg-type]
            lambda: client.recommendations.for_learner(True),
            lambda: client.recommendations.similar(1, limit=-3),
            lambda: client.recommendations.frame(["x"]),  # type: ignore[list-item]
        ):
            with pytest.raises(InvalidArgumentError):
                call()
        assert isinstance(InvalidArgumentError("x"), ValueError)


# --- experiments --------------------------------------------------------------------------


def test_assign_is_the_registry_allocation(published: Published) -> None:
    """The published registry allocates exactly as the registry in seeds/ (the rule the
    generator logged exposures with), for every experiment, int and str ids alike."""
    registry = allocation.Registry.from_seeds()
    with published.connect() as client:
        assert sorted(client.experiments.ids()) == sorted(registry.experiments)
        for experiment_id in registry.experiments:
            for learner in range(1, 301):
                want = registry.assign(experiment_id, learner)
                assert client.experiments.assign(experiment_id, learner) == want
                assert client.experiments.assign(experiment_id, str(learner)) == want
        with pytest.raises(UnknownExperimentError, match="exp_completion_nudge"):
            client.experiments.assign("exp_nope", 1)


def test_health_and_results(published: Published) -> None:
    health = records(published.query("select * from marts.experiment_health order by 1"))
    with published.connect() as client:
        for row in health:
            got = client.experiments.health(row["experiment_id"])
            same([dataclasses.asdict(got)], [row])
            assert got.is_healthy == (
                not row["is_srm_alarm"]
                and not row["is_allocation_mismatch_alarm"]
                and not row["is_multiple_exposure_alarm"]
            )
            want = published.query(
                "select * from marts.experiment_results where experiment_id = ?",
                [row["experiment_id"]],
            )
            results = client.experiments.results(row["experiment_id"])
            assert len(results) == len(want) > 0
            assert set(results.metric_id) == set(want.metric_id)
            primary = results[~results.is_guardrail].iloc[0]
            assert primary.metric_id == row["primary_metric"]  # primary metric first
        for call in (client.experiments.health, client.experiments.results):
            with pytest.raises(UnknownExperimentError) as err:
                call("exp_nope")
            assert "exp_completion_nudge" in str(err.value)  # says what exists
        assert len(client.experiments.results()) == len(
            published.query("select * from marts.experiment_results")
        )
        card = client.experiments.scorecard("exp_completion_nudge")
        assert card.health.experiment_id == "exp_completion_nudge"
        assert card.experiment["salt"]


def test_slices_and_daily_series(published: Published) -> None:
    """client.experiments.slices() and .daily() are the published marts' rows, one
    experiment or all; an unknown experiment is a typed error."""
    with published.connect() as client:
        for mart, call in (
            ("experiment_slice_results", client.experiments.slices),
            ("experiment_daily_results", client.experiments.daily),
        ):
            everything = published.query(f"select * from marts.{mart}")
            assert len(call()) == len(everything) > 0
            one = call("exp_completion_nudge")
            assert set(one.experiment_id) == {"exp_completion_nudge"}
            assert len(one) == (everything.experiment_id == "exp_completion_nudge").sum()
            assert not one.iloc[0].is_guardrail  # decision metrics first
            with pytest.raises(UnknownExperimentError):
                call("exp_nope")
        daily = client.experiments.daily("exp_completion_nudge")
        assert daily.groupby(["metric_id", "variant"]).day_number.min().eq(0).any()


# --- coaching and goals -------------------------------------------------------------------


def test_coaching_queue_and_goals(published: Published) -> None:
    learner = int(
        published.query(
            "select learner_id from marts.coaching_queue group by 1 order by count(*) desc, 1 limit 1"
        ).iat[0, 0]
    )
    want = records(
        published.query(
            "select * from marts.coaching_queue where learner_id = ? order by send_after, course_id",
            [learner],
        )
    )
    goal_learner = int(
        published.query(
            "select learner_id from marts.learner_goals order by learner_id limit 1"
        ).iat[0, 0]
    )
    goals = records(
        published.query(
            "select * from marts.learner_goals where learner_id = ? order by created_at, goal_id",
            [goal_learner],
        )
    )
    with published.connect() as client:
        got = client.coaching.queue_for(learner)
        assert len(got) == len(want) > 0
        same(
            sorted(as_dicts(got), key=lambda r: (r["course_id"], r["message_id"])),
            sorted(want, key=lambda r: (r["course_id"], r["message_id"])),
        )
        course = got[0].course_id
        assert {m.course_id for m in client.coaching.queue_for(learner, course)} == {course}
        same(as_dicts(client.goals.for_learner(goal_learner)), goals)
        assert len(client.coaching.queue()) == len(
            published.query("select * from marts.coaching_queue")
        )
        assert len(client.goals.frame()) == len(
            published.query("select * from marts.learner_goals")
        )


# --- the snapshot being served, and threads -----------------------------------------------


def test_a_client_is_safe_to_share_between_threads(published: Published) -> None:
    learners = [
        int(x)
        for x in published.query(
            "select distinct learner_id from marts.recommendations order by 1 limit 40"
        ).learner_id
    ]
    with published.connect() as client:
        expected = {lid: client.recommendations.for_learner(lid) for lid in learners}
        errors: list[BaseException] = []
        mismatches: list[int] = []

        def work(offset: int) -> None:
            try:
                for i in range(100):
                    lid = learners[(i + offset) % len(learners)]
                    if client.recommendations.for_learner(lid) != expected[lid]:
                        mismatches.append(lid)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k * 5,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == [] and mismatches == []


def test_tables_and_manifest(published: Published) -> None:
    with published.connect() as client:
        tables = client.tables()
        assert tables["recommendations_v1"] == int(
            published.query("select count(*) as n from marts.recommendations").n[0]
        )
        assert client.manifest["build_id"] == published.build_id
        assert published.build_id in repr(client)


def test_live_build_without_publishing(published: Published, duckdb_build) -> None:
    """A DuckDB warehouse file, or a PostgreSQL schema, read as it is (no build id)."""
    if published.engine == "duckdb":
        client = dataproducts.connect(duckdb_build.path)
    else:
        client = dataproducts.connect(published.dsn, schema="marts")
    with client:
        assert client.build_id is None
        learner = a_learner(published)
        with published.connect() as snap:
            assert client.recommendations.for_learner(learner) == (
                snap.recommendations.for_learner(learner)
            )
        # a protected mart is in the live build, not in the snapshot (only public marts are)
        assert len(client.coaching.performance()) > 0
    with published.connect() as snap:
        if "coaching_message_performance" not in snap.tables():
            with pytest.raises(WarehouseError, match="coaching_message_performance"):
                snap.coaching.performance()


# --- contracts at connect (DuckDB: tamper with a copy of the snapshot) ---------------------


@pytest.fixture
def snapshot_copy(published_duckdb: Published, tmp_path: Path) -> Path:
    build = Path(published_duckdb.target) / published_duckdb.build_id
    copy = tmp_path / build.name
    shutil.copytree(build, copy)
    for f in copy.iterdir():
        f.chmod(0o644)
    return copy


def test_connect_checks_the_snapshot_against_its_contract(snapshot_copy: Path) -> None:
    with dataproducts.connect(snapshot_copy) as client:  # untouched: fine
        assert client.recommendations.for_learner(1)
    with duckdb.connect(str(snapshot_copy / "snapshot.duckdb")) as con:
        con.execute("alter table marts.similar_courses alter similarity type varchar")
    with pytest.raises(
        ContractError, match=r"similar_courses\.similarity: the contract says double"
    ):
        dataproducts.connect(snapshot_copy)


def test_connect_names_a_missing_column(snapshot_copy: Path) -> None:
    with duckdb.connect(str(snapshot_copy / "snapshot.duckdb")) as con:
        con.execute("drop view marts.recommendations")
        con.execute("alter table marts.recommendations_v1 drop column reason")
    with pytest.raises(ContractError, match=r"recommendations_v1\.reason: in the contract"):
        dataproducts.connect(snapshot_copy)


def test_connect_refuses_a_contract_the_package_cannot_read(snapshot_copy: Path) -> None:
    """A snapshot consistent with its own manifest, whose contract lacks a column the
    package reads (as a future incompatible contract would): ContractError at connect."""
    with duckdb.connect(str(snapshot_copy / "snapshot.duckdb")) as con:
        con.execute("alter table marts.coaching_queue drop column rendered_text")
    path = snapshot_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    cols = manifest["tables"]["coaching_queue"]["columns"]
    manifest["tables"]["coaching_queue"]["columns"] = [
        c for c in cols if c["name"] != "rendered_text"
    ]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ContractError, match=r"coaching_queue\.rendered_text: the package reads it"):
        dataproducts.connect(snapshot_copy)


def test_connect_refuses_a_manifest_of_another_build(snapshot_copy: Path) -> None:
    path = snapshot_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["build_id"] = "20000101-000000-000000"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ContractError, match="tampered"):
        dataproducts.connect(snapshot_copy)


@pytest.mark.postgres
def test_postgres_connect_checks_the_contract(
    postgres_server, published_postgres: Published, tmp_path: Path
) -> None:
    import psycopg2
    from client_fixtures import copy_postgres_database

    _, dsn = copy_postgres_database(postgres_server, published_postgres.dsn.split("dbname=")[1])
    with dataproducts.connect(dsn) as client:
        schema = client.handle().tables["similar_courses"].schema
    con = psycopg2.connect(dsn)
    with con, con.cursor() as cur:
        cur.execute(f'alter table "{schema}".similar_courses alter similarity type text')
    con.close()
    with pytest.raises(
        ContractError, match=r"similar_courses\.similarity: the contract says double"
    ):
        dataproducts.connect(dsn)


def test_nothing_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", str(tmp_path))
    with pytest.raises(NotPublishedError, match="dataproducts build"):
        dataproducts.connect()
    with pytest.raises(WarehouseError, match="no DuckDB file"):
        dataproducts.connect(tmp_path / "nope.duckdb")


@pytest.mark.postgres
def test_postgres_nothing_published(postgres_server) -> None:
    env = postgres_server.create_database("empty_for_client")
    dsn = postgres_server.dsn_for("empty_for_client")
    assert env
    with pytest.raises(NotPublishedError, match="schema='marts'"):
        dataproducts.connect(dsn)


# --- the documentation's examples run -----------------------------------------------------


def test_the_client_documentation_examples_run(
    published_duckdb: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", published_duckdb.target)
    result = doctest.testmod(
        dataproducts.client, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 15 and result.failed == 0


def test_legacy_readers_still_read_a_warehouse_file(duckdb_build) -> None:
    from dataproducts import experiments, recommendations

    learner = int(duckdb_build.scalar("select min(learner_id) from marts.recommendations"))
    with dataproducts.connect(duckdb_build.path) as client:
        assert recommendations.recommendations_for(learner, duckdb_path=duckdb_build.path) == (
            client.recommendations.for_learner(learner, limit=None)
        )
        assert experiments.health("exp_completion_nudge", duckdb_build.path) == (
            client.experiments.health("exp_completion_nudge")
        )
