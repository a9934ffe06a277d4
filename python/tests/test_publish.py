"""Published snapshots on DuckDB: readers never see half a build.

The issue's three promises are tested on the tiny build: (a) lookups in a loop while
three rebuilds publish are each consistent with exactly one build, with no error; (b) a
build or a publish killed with SIGKILL half way leaves the current snapshot serving and
the next build succeeds; (c) a build with a failing data test publishes nothing. Around
them: what a snapshot holds, rollback, retention, contracts, the validation gate.

A "rebuild" is the warehouse changed the way a dbt run would change it, then published:
a real ``dbt build`` runs only where dbt itself is what is tested ((b) and (c)).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from dataproducts import connect
from dataproducts.contract import canonical_type
from dataproducts.errors import BuildFailedError, ContractError, NotPublishedError, PublishError
from dataproducts.snapshots import POINTER_FILE, Pointer, current, list_snapshots, read_pointer
from dataproducts_pipeline.publish import publish, rollback

REPO = Path(__file__).resolve().parents[2]
_ENV = ("DATAPRODUCTS_", "DBT_")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(_ENV):
            monkeypatch.delenv(key)


@pytest.fixture
def copy(duckdb_build, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A private copy of the tiny build: warehouse file, dbt target dir (its manifest
    only, so no other test's dbt run counts), and the published dir next to the file."""
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(duckdb_build.path, warehouse)
    target = tmp_path / "target"
    target.mkdir()
    shutil.copy(duckdb_build.dbt.target_path / "manifest.json", target)
    return warehouse, target, warehouse.parent / "published"


def sql(path: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path)) as con:
        return con.execute(query, params or []).fetchall()


def rebuild(warehouse: Path, i: int) -> None:
    """What a rebuild changes, made visible: build i scores rank + 1000 i, version build-i."""
    sql(
        warehouse,
        "update marts.recommendations_v1 set score = rank + 1000.0 * ?, model_version = ?",
        [i, f"build-{i}"],
    )


def reader_env(tmp_path: Path, warehouse: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV)}
    env.update(DATAPRODUCTS_DUCKDB=str(warehouse), DBT_PROFILES_DIR=str(REPO))
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


# --- what a snapshot is -------------------------------------------------------------------


def test_a_snapshot_holds_every_public_mart_and_seed_read_only(copy) -> None:
    warehouse, target, published = copy
    info = publish(warehouse, target_path=target, validate=False)

    directory = published / info.build_id
    assert info.location == str(directory)
    for name in ("snapshot.duckdb", "manifest.json"):
        assert (directory / name).stat().st_mode & 0o222 == 0, f"{name} is writable"
    assert read_pointer(published).build_id == info.build_id
    assert read_pointer(published).previous == ()

    dbt = json.loads((target / "manifest.json").read_text())
    public = {
        n["alias"]: n
        for n in dbt["nodes"].values()
        if n["resource_type"] == "model" and n.get("access") == "public"
    }
    seeds = {n["alias"] for n in dbt["nodes"].values() if n["resource_type"] == "seed"}
    manifest = json.loads((directory / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(public) | seeds
    assert "recommendations_v1" in public and "similar_courses" in public
    assert manifest["dbt"]["invocation_id"] == dbt["metadata"]["invocation_id"]
    assert manifest["build_id"] == info.build_id and manifest["engine"] == "duckdb"
    for relation, node in public.items():
        declared = [(c["name"], canonical_type(c["data_type"])) for c in node["columns"].values()]
        published_cols = [
            (c["name"], c["data_type"]) for c in manifest["tables"][relation]["columns"]
        ]
        assert published_cols == declared, relation

    snapshot = directory / "snapshot.duckdb"
    for relation, table in manifest["tables"].items():
        schema = table["schema"]
        n = sql(warehouse, f'select count(*) from "{schema}"."{relation}"')[0][0]
        assert table["rows"] == n, relation
        with duckdb.connect(str(snapshot), read_only=True) as con:
            con.execute(f"attach '{warehouse}' as wh (read_only)")
            diff = con.execute(
                f'select count(*) from ((select * from "{schema}"."{relation}" except all '
                f'select * from wh."{schema}"."{relation}") union all (select * from '
                f'wh."{schema}"."{relation}" except all select * from "{schema}"."{relation}"))'
            ).fetchone()[0]
        assert diff == 0, f"{relation} differs from the warehouse"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("select build_id from _dataproducts.snapshot").fetchall() == [
            (info.build_id,)
        ]
        # the unversioned name of a versioned mart reads its latest version
        assert (
            con.execute("select count(*) from marts.recommendations").fetchone()[0]
            == (manifest["tables"]["recommendations_v1"]["rows"])
        )
    with connect(published) as client:
        assert client.build_id == info.build_id


def test_nothing_published_is_a_clear_error(tmp_path: Path) -> None:
    assert current(tmp_path) is None
    with pytest.raises(NotPublishedError, match="dataproducts build"):
        connect(tmp_path)
    with pytest.raises(NotPublishedError, match="nothing to roll back"):
        rollback(published_dir=tmp_path)


def test_rollback_and_retention(copy) -> None:
    warehouse, target, published = copy
    ids = []
    for i in range(4):
        rebuild(warehouse, i)
        ids.append(publish(warehouse, target_path=target, keep=2, validate=False).build_id)
    assert ids == sorted(ids) and len(set(ids)) == 4
    # keep=2: the two newest stay; the oldest two were pruned
    assert [s.build_id for s in list_snapshots(published)] == ids[2:]
    assert read_pointer(published).build_id == ids[3]
    assert read_pointer(published).previous == (ids[2],)  # pruned ids leave the history

    client = connect(published)
    assert client.recommendations.for_learner(1, limit=1)[0].model_version == "build-3"
    back = rollback(published_dir=published)
    assert back.build_id == ids[2]
    # the same client follows the pointer on its next call
    assert client.build_id == ids[2]
    assert client.recommendations.for_learner(1, limit=1)[0].model_version == "build-2"
    with pytest.raises(PublishError, match="no previous snapshot"):
        rollback(published_dir=published)

    # a publish after a rollback: the rolled-back build is not in the history, and the
    # snapshot a rollback would restore is never pruned, whatever keep says
    rebuild(warehouse, 4)
    new = publish(warehouse, target_path=target, keep=1, validate=False).build_id
    assert read_pointer(published) == Pointer(new, (ids[2],))
    assert [s.build_id for s in list_snapshots(published)] == [ids[2], new]
    assert client.recommendations.for_learner(1, limit=1)[0].model_version == "build-4"
    client.close()


def test_a_reader_of_a_pruned_snapshot_keeps_working(copy) -> None:
    warehouse, target, published = copy
    rebuild(warehouse, 0)
    first = publish(warehouse, target_path=target, validate=False)
    old = connect(published).pinned()
    before = old.recommendations.for_learner(1)
    for i in (1, 2, 3):
        rebuild(warehouse, i)
        publish(warehouse, target_path=target, keep=1, validate=False)
    assert not Path(first.location).exists(), "keep=1 should have pruned the first snapshot"
    assert old.build_id == first.build_id
    assert old.recommendations.for_learner(1) == before
    assert {r.model_version for r in before} == {"build-0"}


def test_publish_refuses_a_mart_that_breaks_its_contract(copy) -> None:
    warehouse, target, published = copy
    sql(warehouse, "alter table marts.similar_courses alter similarity type varchar")
    with pytest.raises(ContractError, match=r"similar_courses\.similarity"):
        publish(warehouse, target_path=target, validate=False)
    assert read_pointer(published) is None
    assert [p.name for p in published.iterdir() if p.name != ".lock"] == []


def test_publish_refuses_a_dbt_run_with_failures(copy) -> None:
    warehouse, target, published = copy
    failed = {"unique_id": "test.dataproducts.unique_x", "status": "fail", "message": "1 row"}
    (target / "run_results.json").write_text(json.dumps({"results": [failed]}))
    with pytest.raises(BuildFailedError) as err:
        publish(warehouse, target_path=target, validate=False)
    assert err.value.failures == ["test.dataproducts.unique_x"]
    assert read_pointer(published) is None


def test_a_failing_validation_gate_publishes_nothing(copy) -> None:
    warehouse, target, published = copy
    before = publish(warehouse, target_path=target, validate=False)
    sql(warehouse, "update marts.experiment_results set p_value = 1.5 where variant = 'treatment'")
    with pytest.raises(BuildFailedError) as err:
        publish(warehouse, target_path=target)  # the gate runs by default
    assert any(f.startswith("experiment_results:") and "p_value" in f for f in err.value.failures)
    assert read_pointer(published).build_id == before.build_id
    assert [s.build_id for s in list_snapshots(published)] == [before.build_id]
    assert not list(published.glob(".tmp-*"))


def test_the_gate_on_the_tables_being_copied_catches_a_rank_gap_and_a_repeated_key(
    copy,
) -> None:
    """The gate checks the marts of the build being copied (ranks counted along rows
    sorted by partition and rank, keys checked for repeats): a list missing its rank 2,
    and a row of another list repeated, both fail it; nothing is published."""
    warehouse, target, published = copy
    (*gap, n), (*dup, m) = sql(
        warehouse,
        "select learner_id, module, count(*) from marts.recommendations_v1 group by all "
        "having count(*) >= 3 order by learner_id, module limit 2",
    )
    sql(
        warehouse,
        "delete from marts.recommendations_v1 where learner_id = ? and module = ? and rank = 2",
        gap,
    )
    sql(
        warehouse,
        "insert into marts.recommendations_v1 select * from marts.recommendations_v1 "
        "where learner_id = ? and module = ? and rank = 1",
        dup,
    )
    with pytest.raises(BuildFailedError) as err:
        publish(warehouse, target_path=target)
    failures = [f for f in err.value.failures if f.startswith("recommendations:")]
    assert failures == err.value.failures
    ranks = [f for f in failures if "expect_column_pair_values_to_be_equal(column_A=rank" in f]
    # Positions by hand. Gap list, n ranks before: 1, 3, 4, ..., n in places 1..n-1, so
    # every rank from 3 on is off: n - 2 rows. Repeat list, m ranks before: 1, 1, 2, ...,
    # m in places 1..m+1, so every row from the second on is off: m rows.
    assert len(ranks) == 1 and f"{n - 2 + m} unexpected row(s)" in ranks[0], failures
    # The repeated row and its original share both keys: 2 rows fail each key.
    for key in ("learner_id__module__rank", "learner_id__module__course_id"):
        failed = [f for f in failures if f"expect_column_values_to_be_in_set(column={key}__" in f]
        assert len(failed) == 1 and "[2 unexpected row(s)" in failed[0], failures
    assert read_pointer(published) is None
    assert not list(published.glob(".tmp-*"))


def test_the_validation_gate_passes_and_is_recorded(copy) -> None:
    warehouse, target, _ = copy
    info = publish(warehouse, target_path=target)
    validation = info.manifest["validation"]
    assert validation["success"] is True and validation["expectations_run"] > 0
    assert Path(validation["data_docs_index"]).is_file()
    assert Path(validation["data_docs_index"]).is_relative_to(warehouse.parent)


def test_the_gate_checks_a_big_mart_in_parts_while_copying(
    copy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``recommendations`` read in 3 parts (as at ``large``), a healthy build
    publishes and records the whole mart's row count; a rank gap fails the part that
    holds its learner, and nothing is published."""
    from dataproducts_pipeline import validation

    warehouse, target, published = copy
    ((rows,),) = sql(warehouse, "select count(*) from marts.recommendations_v1")
    monkeypatch.setattr(validation, "ROWS_PER_PART", -(-rows // 3))
    info = publish(warehouse, target_path=target)
    checked = info.manifest["validation"]
    assert checked["success"] is True
    assert checked["row_counts"]["recommendations"] == rows
    docs = Path(checked["data_docs_index"]).parent / "validations"
    assert (docs / "recommendations_part_3_of_3").is_dir()

    ((learner, module),) = sql(
        warehouse,
        "select learner_id, module from marts.recommendations_v1 group by all "
        "having count(*) >= 3 order by learner_id, module limit 1",
    )
    sql(
        warehouse,
        "delete from marts.recommendations_v1 where learner_id = ? and module = ? and rank = 2",
        [learner, module],
    )
    with pytest.raises(BuildFailedError) as err:
        publish(warehouse, target_path=target)
    (failure,) = err.value.failures
    assert failure.startswith(
        "recommendations: expect_column_pair_values_to_be_equal(column_A=rank"
    )
    assert re.search(r"\[part [123] of 3, by learner_id; \d+ unexpected row", failure), failure
    assert read_pointer(published).build_id == info.build_id


# --- (a) reads during rebuilds ------------------------------------------------------------


def test_reads_during_rebuilds_are_each_from_exactly_one_build(copy) -> None:
    """10,000 lookups in a thread while three rebuilds publish: no error, and every read
    holds one build's rows only (scores rank + 1000 i and version build-i, for one i)."""
    warehouse, target, published = copy
    learner = sql(
        warehouse,
        "select learner_id from marts.recommendations_v1 group by 1 "
        "order by count(*) desc, 1 limit 1",
    )[0][0]
    n_rows = sql(
        warehouse,
        "select count(*) from marts.recommendations_v1 where learner_id = ?",
        [learner],
    )[0][0]
    rebuild(warehouse, 0)
    build_of = {publish(warehouse, target_path=target, keep=2, validate=False).build_id: 0}

    client = connect(published)
    lookups = 10_000
    done = threading.Event()
    started = threading.Event()
    errors: list[BaseException] = []
    seen: list[tuple[str, ...]] = []  # per read: the versions of its rows
    torn: list[object] = []
    pinned: list[tuple[str | None, set[str]]] = []

    def read() -> None:
        try:
            n = 0
            while n < lookups or not done.is_set():
                recs = client.recommendations.for_learner(learner, limit=None)
                versions = tuple(sorted({r.model_version for r in recs}))
                seen.append(versions)
                if (
                    len(recs) != n_rows
                    or len(versions) != 1
                    or any(r.score != r.rank + 1000.0 * int(versions[0][6:]) for r in recs)
                ):
                    torn.append(recs)
                if n % 50 == 0:
                    snap = client.pinned()
                    pinned.append(
                        (
                            snap.build_id,
                            {r.model_version for r in snap.recommendations.for_learner(learner)},
                        )
                    )
                n += 1
                if n == 500:
                    started.set()
        except BaseException as exc:  # the test reports every error
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=read)
    thread.start()
    assert started.wait(120)
    for i in (1, 2, 3):
        rebuild(warehouse, i)
        build_of[publish(warehouse, target_path=target, keep=2, validate=False).build_id] = i
        time.sleep(0.2)
    done.set()
    thread.join(300)

    assert not thread.is_alive()
    assert errors == []
    assert len(seen) >= lookups
    assert torn == [], f"{len(torn)} reads mixed builds or lost rows"
    observed = {v[0] for v in seen}
    assert {"build-0", "build-3"} <= observed and len(observed) >= 3, observed
    assert pinned and all(versions == {f"build-{build_of[b]}"} for b, versions in pinned)
    # reads never go back in time: a client follows the pointer forward only
    order = [int(v[0][6:]) for v in seen]
    assert order == sorted(order)
    client.close()


# --- (b) killed half way -------------------------------------------------------------------

_PUBLISH_AND_HANG = """
import sys, time
from dataproducts_pipeline.publish import publish

def step(name):
    print(name, flush=True)
    if name == sys.argv[3]:
        time.sleep(600)

publish(sys.argv[1], target_path=sys.argv[2], validate=False, on_step=step)
"""


@pytest.mark.parametrize("killed_after", ["copied", "staged"])
def test_a_publish_killed_half_way_leaves_the_current_snapshot_serving(
    copy, tmp_path: Path, killed_after: str
) -> None:
    warehouse, target, published = copy
    rebuild(warehouse, 0)
    before = publish(warehouse, target_path=target, validate=False)
    client = connect(published)
    rebuild(warehouse, 1)

    proc = subprocess.Popen(
        [sys.executable, "-c", _PUBLISH_AND_HANG, str(warehouse), str(target), killed_after],
        stdout=subprocess.PIPE,
        text=True,
        env=reader_env(tmp_path, warehouse),
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == killed_after:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    # the pointer did not move: old and new readers get the previous build, whole
    assert read_pointer(published).build_id == before.build_id
    assert {r.model_version for r in client.recommendations.for_learner(1)} == {"build-0"}
    with connect(published) as fresh:
        assert fresh.build_id == before.build_id
    if killed_after == "copied":
        assert list(published.glob(".tmp-*")), "the killed publish left its work in progress"

    after = publish(warehouse, target_path=target, validate=False)  # the lock was released
    assert not list(published.glob(".tmp-*"))
    assert client.build_id == after.build_id
    assert {r.model_version for r in client.recommendations.for_learner(1)} == {"build-1"}
    client.close()


def test_a_build_killed_half_way_then_the_next_build_succeeds(
    copy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL to `dataproducts build` while dbt is writing the warehouse."""
    warehouse, target, published = copy
    before = publish(warehouse, target_path=target, validate=False)
    client = connect(published)
    expected = client.recommendations.for_learner(1)

    cmd = [
        str(Path(sys.executable).parent / "dataproducts"),
        "build",
        "--partial",
        "--target-path",
        str(target),
        "--",
        "--select",
        "+similar_courses",
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=reader_env(tmp_path, warehouse),
        start_new_session=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:
        output.append(line)
        if " OK created " in line:  # dbt has written part of the build
            break
    else:
        pytest.fail("dbt never created a model:\n" + "".join(output[-30:]))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)

    assert read_pointer(published).build_id == before.build_id
    assert client.recommendations.for_learner(1) == expected
    with connect(published) as fresh:
        assert fresh.recommendations.for_learner(1) == expected

    from dataproducts_pipeline.build import build

    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(warehouse))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(REPO))
    info = build(
        "dev", ["--select", "similar_courses"], target_path=target, validate=False, partial=True
    )
    assert info.build_id != before.build_id
    assert client.build_id == info.build_id
    assert client.recommendations.similar(1)  # the new snapshot serves
    client.close()


# --- (c) a failing data test ---------------------------------------------------------------


def test_a_build_with_a_failing_data_test_publishes_nothing(
    copy, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A similarity method outside the accepted values upstream: `similar_courses` builds,
    its accepted_values test fails, `dataproducts build` exits 1 and publishes nothing."""
    from dataproducts.cli import EXIT_FAILED, run

    warehouse, target, published = copy
    before = publish(warehouse, target_path=target, validate=False)
    # The upstream relation, a table or a view over a Python model's table: replaced by a
    # table of the same rows with method 'bogus' either way.
    upstream = "intermediate.int_course_similarities_scored"
    is_view = sql(
        warehouse,
        "select count(*) from duckdb_views() where schema_name = 'intermediate' "
        "and view_name = 'int_course_similarities_scored'",
    )[0][0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            f"create table intermediate.bogus as select * replace ('bogus' as method) "
            f"from {upstream}"
        )
        con.execute(f"drop {'view' if is_view else 'table'} {upstream}")
        con.execute("alter table intermediate.bogus rename to int_course_similarities_scored")
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(warehouse))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(REPO))

    code = run(
        ["build", "--partial", "--target-path", str(target), "--", "--select", "similar_courses"]
    )
    err = capfd.readouterr().err

    assert code == EXIT_FAILED
    assert "nothing was published" in err
    assert "accepted_values_similar_courses_method" in err
    assert read_pointer(published).build_id == before.build_id
    assert [s.build_id for s in list_snapshots(published)] == [before.build_id]
    with connect(published) as client:
        assert {s.method for s in client.recommendations.similar(1)} == {"jaccard"}
    # the pointer file was never rewritten
    assert json.loads((published / POINTER_FILE).read_text())["build_id"] == before.build_id


def test_the_gate_gets_each_mart_once_read_one_ahead() -> None:
    """The publisher's Arrow marts (``_ArrowMarts``): read in order, at most one mart ahead
    of the gate, and handed over without a reference kept, so that a build whose marts do
    not fit in memory together still publishes."""
    import time
    import weakref

    import duckdb

    from dataproducts.errors import PublishError
    from dataproducts_pipeline.publish import _ArrowMarts

    con = duckdb.connect()
    con.execute("attach ':memory:' as src")
    con.execute("create schema src.marts")
    for name in ("a", "b", "c"):
        con.execute(f"create table src.marts.{name} as select range as x from range(1000)")
    marts = _ArrowMarts(con.cursor(), [{"relation": n, "schema": "marts"} for n in "abc"])
    try:
        _wait_for(lambda: marts._parts["a"].done() and marts._parts["a"].result()[0].done())
        time.sleep(0.5)  # time enough to read b and c, were it allowed to
        assert [marts._parts[n].done() for n in "abc"] == [True, False, False]
        parts = marts["a"]
        assert parts.count == 1
        first = next(iter(parts.tables))
        assert first.num_rows == 1000
        gone = weakref.ref(first)
        del first
        assert gone() is None  # nothing else holds mart a
        with pytest.raises(PublishError, match="already handed to the gate"):
            marts["a"]
        assert [t.num_rows for n in "bc" for t in marts[n].tables] == [1000, 1000]
        assert list(marts) == ["a", "b", "c"]
    finally:
        marts.close()
        con.close()


def _wait_for(condition, seconds: float = 10) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_gate_gets_a_big_mart_in_parts_read_one_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mart bigger than ``ROWS_PER_PART`` whose suite has a ``part_by`` column
    (``recommendations``) is read in parts, by a hash of learner_id, one part ahead of the
    gate: every row once, every learner's rows in one part, no part kept once handed."""
    import time
    import weakref

    import duckdb

    from dataproducts_pipeline import validation
    from dataproducts_pipeline.publish import _ArrowMarts

    monkeypatch.setattr(validation, "ROWS_PER_PART", 1000)
    con = duckdb.connect()
    con.execute("attach ':memory:' as src")
    con.execute("create schema src.marts")
    con.execute(
        "create table src.marts.recommendations_v1 as "
        "select range // 10 as learner_id, range % 10 as rank from range(3500)"
    )
    marts = _ArrowMarts(con.cursor(), [{"relation": "recommendations_v1", "schema": "marts"}])
    try:
        _wait_for(lambda: marts._parts["recommendations_v1"].done())
        futures = marts._parts["recommendations_v1"].result()
        assert len(futures) == 4  # ceil(3500 / 1000)
        _wait_for(futures[0].done)
        time.sleep(0.5)  # time enough to read the other parts, were it allowed to
        assert [f.done() for f in futures] == [True, False, False, False]
        parts = marts["recommendations_v1"]
        assert parts.count == 4
        seen, part_of, number = [], {}, 0
        for table in parts.tables:  # (enumerate's cached tuple would hold the table)
            number += 1  # noqa: SIM113
            learners = table.column("learner_id").to_pylist()
            seen.extend(zip(learners, table.column("rank").to_pylist(), strict=True))
            for learner in set(learners):
                assert part_of.setdefault(learner, number) == number  # in one part only
            assert table.num_rows > 0
            gone = weakref.ref(table)
            del table
            assert gone() is None
        assert sorted(seen) == [(i // 10, i % 10) for i in range(3500)]
        assert len(part_of) == 350
    finally:
        marts.close()
        con.close()
