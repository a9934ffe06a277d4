"""A damaged ``CURRENT`` or snapshot: a typed error that says how to recover, a way out.

The class of damage (issue 13): an empty file, garbage bytes, truncated JSON, JSON of the
wrong shape, a pointer leading outside the published directory (``../other/<id>``, an
absolute path, a symlinked snapshot), a missing ``snapshot.duckdb``, a manifest naming
another file or build. For each: ``connect``, ``current`` and the CLI's ``recommend``,
``snapshots`` and ``summary`` give a :class:`SnapshotCorruptError` (exit 3) naming
``dataproducts rollback`` / ``build`` and no traceback; ``snapshots`` lists the intact
ones and flags the rest; ``publish`` replaces a broken pointer; ``rollback`` repairs it
(the newest intact snapshot) and skips damaged snapshots.

The published directory is a copy of the session's published tiny build (one snapshot),
damaged one way per test.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["client_fixtures"]  # published_duckdb

from dataproducts import connect  # noqa: E402
from dataproducts.cli import run  # noqa: E402
from dataproducts.errors import (  # noqa: E402
    DataProductsError,
    PublishError,
    SnapshotCorruptError,
)
from dataproducts.snapshots import (  # noqa: E402
    POINTER_FILE,
    Pointer,
    current,
    list_snapshots,
    published_problems,
    read_pointer,
)
from dataproducts_pipeline.publish import publish, rollback  # noqa: E402

_ENV = ("DATAPRODUCTS_", "DBT_")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(_ENV):
            monkeypatch.delenv(key)


@pytest.fixture
def published(published_duckdb, tmp_path: Path) -> Path:
    """A private copy of the published directory: one intact snapshot, CURRENT on it."""
    copy = tmp_path / "published"
    shutil.copytree(published_duckdb.target, copy, ignore=shutil.ignore_patterns(".lock"))
    for path in copy.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    return copy


def build_id_of(published: Path) -> str:
    return json.loads((published / POINTER_FILE).read_text())["build_id"]


def write_pointer(text: str | bytes) -> Callable[[Path], None]:
    def damage(published: Path) -> None:
        path = published / POINTER_FILE
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text.replace("<id>", build_id_of(published)))

    return damage


def pointer_is_a_directory(published: Path) -> None:
    (published / POINTER_FILE).unlink()
    (published / POINTER_FILE).mkdir()


POINTER_DAMAGE = {
    "empty": write_pointer(""),
    "blank": write_pointer("  \n"),
    "garbage bytes": write_pointer(b"\xff\xfe\x00\x01garbage\x9c"),
    "truncated json": write_pointer('{"build_id": "2026'),
    "json list": write_pointer('["<id>"]'),
    "json string": write_pointer('"<id>"'),
    "json null": write_pointer("null"),
    "no build_id": write_pointer('{"previous": []}'),
    "build_id a number": write_pointer('{"build_id": 20261121}'),
    "build_id null": write_pointer('{"build_id": null}'),
    "parent path": write_pointer('{"build_id": "../other/<id>"}'),
    "absolute path": write_pointer('{"build_id": "/tmp/<id>"}'),
    "dot": write_pointer('{"build_id": "."}'),
    "trailing newline in id": write_pointer('{"build_id": "<id>\\n"}'),
    "unicode digits": write_pointer(
        '{"build_id": "\uff12\uff10\uff12\uff16\uff11\uff11\uff12\uff11-155741-677649"}'
    ),
    "previous not a list": write_pointer('{"build_id": "<id>", "previous": "../x"}'),
    "previous outside": write_pointer('{"build_id": "<id>", "previous": ["../../etc"]}'),
    "a directory": pointer_is_a_directory,
}


def snapshot_dir(published: Path) -> Path:
    return published / build_id_of(published)


def write_manifest(text: str | bytes | Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(published: Path) -> None:
        path = snapshot_dir(published) / "manifest.json"
        if callable(text):
            path.write_text(json.dumps(text(json.loads(path.read_text()))))
        elif isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return damage


def without(key: str) -> Callable[[dict], dict]:
    return lambda m: {k: v for k, v in m.items() if k != key}


def damaged_table(m: dict) -> dict:
    name = next(iter(m["tables"]))
    m["tables"][name] = {"schema": "marts"}  # no columns, no rows
    return m


def other_build(m: dict) -> dict:
    m["build_id"] = "20000101-000000-000000"
    return m


def other_file(m: dict) -> dict:
    m["file"] = "../../elsewhere.duckdb"
    return m


def remove(name: str) -> Callable[[Path], None]:
    return lambda published: (snapshot_dir(published) / name).unlink()


def garbage_file(published: Path) -> None:
    (snapshot_dir(published) / "snapshot.duckdb").write_bytes(b"not a database" * 100)


def snapshot_removed(published: Path) -> None:
    shutil.rmtree(snapshot_dir(published))


def symlinked_out(published: Path) -> None:
    """The snapshot directory replaced by a symlink to a copy outside."""
    directory = snapshot_dir(published)
    outside = published.parent / "outside" / directory.name
    outside.parent.mkdir()
    shutil.move(directory, outside)
    directory.symlink_to(outside, target_is_directory=True)


SNAPSHOT_DAMAGE = {
    "manifest missing": remove("manifest.json"),
    "manifest empty": write_manifest(""),
    "manifest garbage": write_manifest(b"\x00\xff garbage"),
    "manifest truncated": write_manifest('{"format": 1, "build_id": "20'),
    "manifest a list": write_manifest("[]"),
    "manifest without tables": write_manifest(without("tables")),
    "manifest without created_at": write_manifest(without("created_at")),
    "manifest with a damaged table": write_manifest(damaged_table),
    "manifest of another build": write_manifest(other_build),
    "manifest naming another file": write_manifest(other_file),
    "snapshot.duckdb missing": remove("snapshot.duckdb"),
    "snapshot.duckdb garbage": garbage_file,
    "snapshot directory missing": snapshot_removed,
    "snapshot directory symlinked out": symlinked_out,
}
ALL_DAMAGE = {**POINTER_DAMAGE, **SNAPSHOT_DAMAGE}
#: Damage inside the database file: found when it is opened, not from the manifest.
FILE_CONTENT = {"snapshot.duckdb garbage"}


def assert_recoverable(exc: BaseException) -> None:
    message = str(exc)
    assert isinstance(exc, SnapshotCorruptError), f"{type(exc).__name__}: {message}"
    assert "dataproducts rollback" in message and "dataproducts build" in message, message


@pytest.mark.parametrize("damage", ALL_DAMAGE, ids=str)
def test_a_damaged_pointer_or_snapshot_is_a_typed_error_that_says_how_to_recover(
    published: Path, damage: str
) -> None:
    ALL_DAMAGE[damage](published)
    calls = [lambda: connect(published)]
    if damage not in FILE_CONTENT:  # current() reads the manifest, not the database file
        calls.append(lambda: current(published))
    for call in calls:
        with pytest.raises(DataProductsError) as info:
            call()
        assert_recoverable(info.value)


@pytest.mark.parametrize("damage", ALL_DAMAGE, ids=str)
def test_the_cli_exits_3_with_the_recovery_and_no_traceback(
    published: Path, damage: str, monkeypatch: pytest.MonkeyPatch, capsys, duckdb_build
) -> None:
    ALL_DAMAGE[damage](published)
    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", str(published))
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(duckdb_build.path))
    assert run(["recommend", "1"]) == 3
    err = capsys.readouterr().err
    assert "dataproducts rollback" in err and "Traceback" not in err
    # snapshots lists what is intact, flags the rest
    assert run(["snapshots"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert damage in FILE_CONTENT or "warning:" in captured.err
    # summary summarizes the warehouse and says the published snapshot is unusable
    assert run(["summary"]) == 0
    out = capsys.readouterr().out
    assert "published : unusable:" in out and "dataproducts rollback" in out


@pytest.mark.parametrize("damage", POINTER_DAMAGE, ids=str)
def test_publish_replaces_a_broken_pointer_and_rollback_finds_the_old_snapshot(
    published: Path, damage: str, duckdb_build, published_duckdb
) -> None:
    old = build_id_of(published)
    POINTER_DAMAGE[damage](published)
    info = publish(
        duckdb_build.path,
        target_path=published_duckdb.target_path,
        published_dir=published,
        validate=False,
    )
    assert read_pointer(published) == Pointer(info.build_id, (old,))
    with connect(published) as client:
        assert client.build_id == info.build_id
    assert rollback(published_dir=published).build_id == old


@pytest.mark.parametrize("damage", POINTER_DAMAGE, ids=str)
def test_rollback_repairs_a_broken_pointer_with_one_snapshot(published: Path, damage: str) -> None:
    """With one snapshot and a damaged CURRENT there used to be no way out."""
    old = snapshot_dir(published).name
    POINTER_DAMAGE[damage](published)
    assert rollback(published_dir=published).build_id == old
    assert read_pointer(published) == Pointer(old)
    with connect(published) as client:
        assert client.build_id == old


def test_rollback_skips_a_damaged_previous_snapshot_and_snapshots_lists_the_intact(
    published: Path, duckdb_build, published_duckdb
) -> None:
    first = build_id_of(published)
    ids = [first]
    for _ in range(2):
        ids.append(
            publish(
                duckdb_build.path,
                target_path=published_duckdb.target_path,
                published_dir=published,
                validate=False,
            ).build_id
        )
    (published / ids[1] / "manifest.json").write_text("{")  # the one rollback would restore
    assert [s.build_id for s in list_snapshots(published)] == [ids[0], ids[2]]
    problems = published_problems(published)
    assert len(problems) == 1 and ids[1] in problems[0]
    assert rollback(published_dir=published).build_id == ids[0]
    assert read_pointer(published) == Pointer(ids[0])
    with pytest.raises(PublishError, match="no previous snapshot"):
        rollback(published_dir=published)


def test_rollback_with_nothing_intact_says_to_build(published: Path) -> None:
    (published / POINTER_FILE).write_text("garbage")
    shutil.rmtree(snapshot_dir_any(published))
    with pytest.raises(PublishError, match="dataproducts build"):
        rollback(published_dir=published)


def snapshot_dir_any(published: Path) -> Path:
    return next(p for p in published.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_a_serving_client_keeps_its_snapshot_when_the_pointer_breaks(published: Path) -> None:
    with connect(published) as client:
        build = client.build_id
        before = client.recommendations.for_learner(1, limit=1)
        (published / POINTER_FILE).write_text('{"build_id": "../x"}')
        assert client.build_id == build  # the last good snapshot keeps serving
        assert client.recommendations.for_learner(1, limit=1) == before
    with pytest.raises(SnapshotCorruptError):  # a new client is told how to recover
        connect(published)
