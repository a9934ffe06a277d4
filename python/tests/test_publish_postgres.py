"""Published snapshots on PostgreSQL: a schema per build, the pointer switched in the
transaction that copies the build, rollback, retention, and reads during publishes each
from exactly one build. Every test works on its own copy of the session's PostgreSQL
build (``create database ... template``)."""

from __future__ import annotations

import os
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import dataproducts
from dataproducts.errors import BuildFailedError, PublishError
from dataproducts.snapshots import list_snapshots
from dataproducts_pipeline.publish import publish, rollback

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("DATAPRODUCTS_", "DBT_")):
            monkeypatch.delenv(key)


@pytest.fixture
def pg(postgres_server, postgres_build, tmp_path: Path) -> tuple[str, str, Path]:
    """(database name, dsn, dbt target dir with the build's manifest) of a private copy."""
    from client_fixtures import copy_postgres_database, manifest_only

    name, dsn = copy_postgres_database(postgres_server, "build")
    return name, dsn, manifest_only(postgres_build.dbt.target_path, tmp_path / "target")


def execute(dsn: str, sql: str, params: Any = None) -> list[tuple]:
    import psycopg2

    with closing(psycopg2.connect(dsn)) as con, con, con.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def rebuild(dsn: str, i: int) -> None:
    """Build i, made visible: scores rank + 1000 i, version build-i."""
    execute(
        dsn,
        "update marts.recommendations_v1 set score = rank + 1000.0 * %s, model_version = %s",
        (i, f"build-{i}"),
    )


def snapshot_schemas(dsn: str) -> list[str]:
    rows = execute(
        dsn,
        "select schema_name from information_schema.schemata where schema_name like %s order by 1",
        ("dataproducts\\_2%",),
    )
    return [r[0] for r in rows]


def test_publish_switch_rollback_and_retention(pg) -> None:
    _, dsn, target = pg
    ids = []
    for i in range(3):
        rebuild(dsn, i)
        ids.append(publish(dsn, target_path=target, keep=2, validate=False).build_id)
    assert [s.build_id for s in list_snapshots(dsn)] == ids[1:]
    assert snapshot_schemas(dsn) == [f"dataproducts_{b.replace('-', '_')}" for b in ids[1:]]
    pointer = execute(dsn, "select build_id, previous from dataproducts_meta.pointer")
    assert pointer == [(ids[2], [ids[1]])]

    schema = f"dataproducts_{ids[2].replace('-', '_')}"
    # the snapshot is a copy: changing the build afterwards does not change it
    rebuild(dsn, 9)
    rows = execute(dsn, f'select distinct model_version from "{schema}".recommendations_v1')
    assert rows == [("build-2",)]
    assert (
        execute(dsn, f'select count(*) from "{schema}".recommendations')[0][0]
        == (execute(dsn, "select count(*) from marts.recommendations_v1")[0][0])
    )

    client = dataproducts.connect(dsn, poll_interval=0)
    assert client.build_id == ids[2]
    assert {r.model_version for r in client.recommendations.for_learner(1)} == {"build-2"}
    assert rollback(dsn).build_id == ids[1]
    assert client.build_id == ids[1]
    assert {r.model_version for r in client.recommendations.for_learner(1)} == {"build-1"}
    with pytest.raises(PublishError, match="no previous snapshot"):
        rollback(dsn)
    client.close()


def test_a_failing_gate_publishes_nothing(pg) -> None:
    _, dsn, target = pg
    before = publish(dsn, target_path=target, validate=False)
    execute(dsn, "update marts.experiment_results set p_value = 1.5")
    with pytest.raises(BuildFailedError) as err:
        publish(dsn, target_path=target)
    assert any(f.startswith("experiment_results:") for f in err.value.failures)
    assert [s.build_id for s in list_snapshots(dsn)] == [before.build_id]
    assert execute(dsn, "select build_id from dataproducts_meta.pointer") == [(before.build_id,)]


def test_reads_during_publishes_are_each_from_exactly_one_build(pg) -> None:
    _, dsn, target = pg
    learner = execute(
        dsn,
        "select learner_id from marts.recommendations_v1 group by 1 "
        "order by count(*) desc, 1 limit 1",
    )[0][0]
    n_rows = execute(
        dsn, "select count(*) from marts.recommendations_v1 where learner_id = %s", (learner,)
    )[0][0]
    rebuild(dsn, 0)
    publish(dsn, target_path=target, keep=2, validate=False)
    client = dataproducts.connect(dsn, poll_interval=0)  # re-read the pointer on every call

    lookups = 2_000
    done, started = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    seen: list[str] = []
    torn: list[object] = []

    def read() -> None:
        try:
            n = 0
            while n < lookups or not done.is_set():
                recs = client.recommendations.for_learner(learner, limit=None)
                versions = {r.model_version for r in recs}
                if len(recs) != n_rows or len(versions) != 1:
                    torn.append(recs)
                else:
                    (version,) = versions
                    seen.append(version)
                    if any(r.score != r.rank + 1000.0 * int(version[6:]) for r in recs):
                        torn.append(recs)
                n += 1
                if n == 100:
                    started.set()
        except BaseException as exc:  # the test reports every error
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=read)
    thread.start()
    assert started.wait(120)
    for i in (1, 2, 3):
        rebuild(dsn, i)
        publish(dsn, target_path=target, keep=2, validate=False)
        time.sleep(0.2)
    done.set()
    thread.join(300)
    assert not thread.is_alive() and errors == [] and torn == []
    assert len(seen) >= lookups
    assert {"build-0", "build-3"} <= set(seen) and len(set(seen)) >= 3
    client.close()


def test_dataproducts_build_on_postgres(pg, monkeypatch: pytest.MonkeyPatch) -> None:
    """`build --target postgres`: dbt builds the database of DATAPRODUCTS_PG_*, then it is
    published there."""
    from dataproducts_pipeline.build import build

    name, dsn, target = pg
    server_port = dict(p.split("=") for p in dsn.split())["port"]
    for key, value in {
        "DATAPRODUCTS_PG_HOST": "127.0.0.1",
        "DATAPRODUCTS_PG_PORT": server_port,
        "DATAPRODUCTS_PG_USER": "postgres",
        "DATAPRODUCTS_PG_DATABASE": name,
        "DBT_PROFILES_DIR": str(REPO),
    }.items():
        monkeypatch.setenv(key, value)
    info = build(
        "postgres",
        ["--select", "similar_courses"],
        target_path=target,
        validate=False,
        partial=True,
    )
    assert info.engine == "postgres" and info.location.startswith("dataproducts_")
    with dataproducts.connect(dsn) as client:
        assert client.build_id == info.build_id
        assert client.recommendations.similar(1)
