"""The command line: what it prints, that ``--json`` is the API's data, and the documented
exit codes (0 ok, 1 failed, 2 usage, 3 nothing published / unavailable, 4 contract)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

import dataproducts
from dataproducts import allocation
from dataproducts.cli import (
    EXIT_CONTRACT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    run,
)
from dataproducts.snapshots import read_pointer
from dataproducts_pipeline.publish import publish

if TYPE_CHECKING:
    from client_fixtures import Published

pytest_plugins = ["client_fixtures"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("DATAPRODUCTS_", "DBT_")):
            monkeypatch.delenv(key)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_teaches(capsys) -> None:
    code, out, _ = cli(capsys, "--help")
    assert code == EXIT_OK
    assert "Exit codes:" in out and "dataproducts build" in out and "connect()" in out
    for command in (
        "build",
        "publish",
        "rollback",
        "validate",
        "recommend",
        "similar",
        "assign",
        "experiment",
        "coaching",
        "docs",
        "generate",
        "summary",
    ):
        assert f"  {command} " in out, command
    code, out, _ = cli(capsys, "build", "--help")
    assert code == EXIT_OK and "Examples:" in out and "--select" in out


def test_recommend_json_is_the_api(capsys, published_duckdb: Published) -> None:
    with dataproducts.connect(published_duckdb.target) as client:
        want = client.recommendations.for_learner(1, limit=3)
    code, out, _ = cli(
        capsys, "recommend", "1", "--limit", "3", "--json", "--source", published_duckdb.target
    )
    assert code == EXIT_OK
    got = json.loads(out)
    assert got == [
        {**dataclasses.asdict(r), "generated_at": r.generated_at.isoformat()} for r in want
    ]
    assert got[0]["generated_at"] == want[0].generated_at.isoformat()


def test_recommend_table_and_unknown_learner(capsys, published_duckdb: Published) -> None:
    with dataproducts.connect(published_duckdb.target) as client:
        want = client.recommendations.for_learner(1, module="popular", limit=2)
    code, out, _ = cli(
        capsys,
        "recommend",
        "1",
        "--module",
        "popular",
        "--limit",
        "2",
        "--source",
        published_duckdb.target,
    )
    assert code == EXIT_OK
    lines = out.splitlines()
    assert published_duckdb.build_id in lines[0]
    assert lines[1].split()[:3] == ["module", "rank", "course_id"]
    assert [ln.split()[:3] for ln in lines[3:]] == [
        ["popular", str(r.rank), str(r.course_id)] for r in want
    ]
    code, out, _ = cli(capsys, "recommend", "999999", "--source", published_duckdb.target)
    assert code == EXIT_OK and "no recommendations" in out


def test_similar_experiment_coaching(capsys, published_duckdb: Published) -> None:
    src = ("--source", published_duckdb.target)
    code, out, _ = cli(capsys, "similar", "1", "--limit", "2", "--json", *src)
    assert code == EXIT_OK and [r["rank"] for r in json.loads(out)] == [1, 2]

    code, out, _ = cli(capsys, "experiment", "exp_completion_nudge", *src)
    assert code == EXIT_OK
    assert "Weekly progress nudge" in out and "sample ratio" in out and "course_completion" in out
    code, out, _ = cli(capsys, "experiment", "exp_completion_nudge", "--json", *src)
    data = json.loads(out)
    assert data["health"]["experiment_id"] == "exp_completion_nudge"
    assert {r["metric_id"] for r in data["results"]} >= {"course_completion"}

    with dataproducts.connect(published_duckdb.target) as client:
        learner = int(client.coaching.queue().learner_id.iloc[0])
        want = client.coaching.queue_for(learner)
    code, out, _ = cli(capsys, "coaching", str(learner), "--json", *src)
    assert code == EXIT_OK
    assert [m["message_id"] for m in json.loads(out)["queue"]] == [m.message_id for m in want]
    code, out, _ = cli(capsys, "coaching", str(learner), *src)
    assert code == EXIT_OK and want[0].message_id in out


def test_assign(capsys, published_duckdb: Published, tmp_path: Path, monkeypatch) -> None:
    want = allocation.assign("exp_completion_nudge", 17)
    code, out, _ = cli(
        capsys, "assign", "exp_completion_nudge", "17", "--source", published_duckdb.target
    )
    assert (code, out) == (EXIT_OK, want + "\n")
    # before anything is published: the registry in seeds/
    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", str(tmp_path))
    code, out, _ = cli(capsys, "assign", "exp_completion_nudge", "17", "--json")
    assert code == EXIT_OK and json.loads(out)["variant"] == want


def test_exit_codes(capsys, published_duckdb: Published, tmp_path: Path, monkeypatch) -> None:
    src = ("--source", published_duckdb.target)
    code, _, err = cli(capsys, "experiment", "exp_nope", *src)
    assert code == EXIT_USAGE and "exp_completion_nudge" in err
    code, _, err = cli(capsys, "assign", "exp_nope", "1", *src)
    assert code == EXIT_USAGE
    code, _, err = cli(capsys, "recommend", "1", "--module", "bogus", *src)
    assert code == EXIT_USAGE and "recent_activity" in err
    code, _, err = cli(capsys, "recommend", "not-a-number", *src)
    assert code == EXIT_USAGE
    code, _, err = cli(capsys, "recommend", "1", "--limit", "0", *src)
    assert code == EXIT_USAGE

    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", str(tmp_path / "empty"))
    code, _, err = cli(capsys, "recommend", "1")
    assert code == EXIT_UNAVAILABLE and "dataproducts build" in err
    code, _, err = cli(capsys, "recommend", "1", "--source", str(tmp_path / "missing.duckdb"))
    assert code == EXIT_UNAVAILABLE

    broken = tmp_path / "broken"
    shutil.copytree(Path(published_duckdb.target) / published_duckdb.build_id, broken)
    for f in broken.iterdir():
        f.chmod(0o644)
    with duckdb.connect(str(broken / "snapshot.duckdb")) as con:
        con.execute("alter table marts.similar_courses alter method type integer using 1")
    code, _, err = cli(capsys, "similar", "1", "--source", str(broken))
    assert code == EXIT_CONTRACT and "similar_courses.method" in err


def test_publish_snapshots_rollback_validate(
    capsys, duckdb_build, tmp_path: Path, monkeypatch
) -> None:
    """`publish` runs the validation gate; `snapshots` lists; `rollback` switches back."""
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(duckdb_build.path, warehouse)
    from client_fixtures import manifest_only

    target = manifest_only(duckdb_build.dbt.target_path, tmp_path / "target")
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(warehouse))
    published = warehouse.parent / "published"

    code, out, _ = cli(capsys, "snapshots")
    assert code == EXIT_OK and "nothing published" in out
    code, _, err = cli(capsys, "rollback")
    assert code == EXIT_UNAVAILABLE

    first = publish(warehouse, target_path=target, validate=False).build_id
    code, out, err = cli(capsys, "publish", "--target-path", str(target))
    assert code == EXIT_OK, err
    second = read_pointer(published).build_id
    assert second != first and f"published {second}" in out and "validated" in err

    code, out, _ = cli(capsys, "snapshots", "--json")
    rows = json.loads(out)
    assert [r["build_id"] for r in rows] == [first, second]
    assert [r["current"] for r in rows] == ["", "*"]

    code, out, _ = cli(capsys, "rollback")
    assert code == EXIT_OK and first in out
    assert read_pointer(published).build_id == first
    code, _, err = cli(capsys, "rollback")
    assert code == EXIT_FAILED and "no previous snapshot" in err

    code, out, _ = cli(capsys, "validate", "--data-docs", str(tmp_path / "docs"))
    assert code == EXIT_OK and "validation passed" in out
    assert (tmp_path / "docs" / "index.html").is_file()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.experiment_results set p_value = 1.5")
    code, out, _ = cli(capsys, "validate", "--data-docs", str(tmp_path / "docs"))
    assert code == EXIT_FAILED and "experiment_results" in out


def test_report_reads_the_published_snapshot(capsys, published_duckdb: Published, tmp_path) -> None:
    out_file = tmp_path / "card.html"
    code, out, _err = cli(
        capsys,
        "report",
        "experiment",
        "exp_completion_nudge",
        "--out",
        str(out_file),
        "--source",
        published_duckdb.target,
    )
    assert code == EXIT_OK and out.strip() == str(out_file) and out_file.exists()
    assert "Weekly progress nudge" in out_file.read_text(encoding="utf-8")


def test_summary_shows_the_snapshot_and_calls_to_try(
    capsys, duckdb_build, published_duckdb: Published, monkeypatch
) -> None:
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(duckdb_build.path))
    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", published_duckdb.target)
    code, out, _ = cli(capsys, "summary")
    assert code == EXIT_OK
    assert f"published snapshot {published_duckdb.build_id}" in out
    assert "dataproducts recommend " in out and "dataproducts.connect()" in out
    code, out, _ = cli(capsys, "summary", "--json")
    data = json.loads(out)
    assert data["published"]["build_id"] == published_duckdb.build_id
    learner = data["published"]["examples"]["learner_id"]
    with dataproducts.connect() as client:  # what the summary tells people to run works
        assert client.recommendations.for_learner(learner)
