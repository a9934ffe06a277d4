"""Process faults of `dataproducts build`, and its settings (issue 13).

- SIGKILL of the build while dbt runs: dbt dies with it (no orphan holding the DuckDB
  lock) and the next build succeeds unattended; SIGTERM stops dbt first.
- Two builds at once: the second fails fast (exit 3), naming the first's pid, touching
  nothing.
- A missing warehouse, or one without the raw tables: exit 3, a message that says to run
  `dataproducts generate`, nothing created — for `build`, `publish` and `validate`.
- Every DATAPRODUCTS_* setting is checked before any work: exit 2, naming it.
- A dbt selection (`--select`...) is refused unless `--no-publish` or `--partial`; a
  partial snapshot records the dbt arguments in its manifest and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dataproducts.cli import EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, run
from dataproducts.snapshots import list_snapshots, read_pointer
from dataproducts_pipeline.publish import publish

REPO = Path(__file__).resolve().parents[2]
DATAPRODUCTS = str(Path(sys.executable).parent / "dataproducts")
_ENV = ("DATAPRODUCTS_", "DBT_")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(_ENV):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(REPO))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(scope="module")
def raw_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only generated raw data (tiny), no dbt build."""
    from dataproducts_pipeline.generate import generate

    path = tmp_path_factory.mktemp("raw_only") / "warehouse.duckdb"
    generate("tiny", seed=3, target="dev", duckdb_path=path, progress=False)
    return path


@pytest.fixture
def raw_copy(raw_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(raw_only, warehouse)
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(warehouse))
    return warehouse


def env_for(warehouse: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV)}
    env.update(
        DATAPRODUCTS_DUCKDB=str(warehouse),
        DBT_PROFILES_DIR=str(REPO),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process: one of its threads is not yet dead. A zombie
    holds no lock, but a killed multi-threaded process can show its main thread as a
    zombie while its other threads are still exiting and its files still open (a DuckDB
    lock held by a pid with no command line)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return False
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            return True
    return False


def start_build(warehouse: Path, tmp_path: Path, *args: str) -> subprocess.Popen:
    """`dataproducts build` in a process of its own (its own session, so the test's
    signals reach only what the test sends them to)."""
    return subprocess.Popen(
        [DATAPRODUCTS, "build", "--target-path", str(tmp_path / "target"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env_for(warehouse),
        cwd=tmp_path,
        start_new_session=True,
    )


def wait_for_dbt_writing(build: subprocess.Popen) -> tuple[int, list[str]]:
    """Read the build's output until dbt has started a model; dbt's pid and the output."""
    assert build.stdout is not None
    output = []
    for line in build.stdout:
        output.append(line)
        if " START " in line:  # dbt holds the warehouse and writes it
            break
    else:
        pytest.fail("dbt never started a model:\n" + "".join(output[-30:]))
    dbt = [p for p in children(build.pid) if "dbt" in Path(f"/proc/{p}/cmdline").read_text()]
    assert len(dbt) == 1, (children(build.pid), output[-5:])
    return dbt[0], output


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.05)
    return not running(pid)


def kill_tree(build: subprocess.Popen, dbt: int | None = None) -> None:
    """Clean-up whatever the test left running (it must not leak on failure)."""
    for pid in (build.pid, dbt):
        if pid is not None and running(pid):
            os.kill(pid, signal.SIGKILL)
    build.wait(30)


# --- a killed build ------------------------------------------------------------------


def test_a_sigkilled_build_takes_dbt_with_it_and_the_next_build_succeeds(
    raw_copy: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL to the build process alone (not its group): dbt is gone within seconds,
    and the next build gets the warehouse (today: dbt runs on, orphaned, holding the
    DuckDB lock, and the next build fails with `Could not set lock`)."""
    build = start_build(raw_copy, tmp_path, "--no-publish")
    dbt = None
    try:
        dbt, _ = wait_for_dbt_writing(build)
        os.kill(build.pid, signal.SIGKILL)
        build.wait(30)
        assert wait_gone(dbt), f"dbt (pid {dbt}) outlived the killed build"
    finally:
        kill_tree(build, dbt)

    code = run(
        [
            "build",
            *("--target-path", str(tmp_path / "next"), "--no-publish"),
            *("--", "--select", "stg_courses"),
        ]
    )
    out = capfd.readouterr()
    assert code == EXIT_OK, out.out[-2000:] + out.err[-2000:]
    assert "Could not set lock" not in out.out + out.err


def test_a_sigterm_stops_dbt_before_the_build_ends(raw_copy: Path, tmp_path: Path) -> None:
    build = start_build(raw_copy, tmp_path, "--no-publish")
    dbt = None
    try:
        dbt, _ = wait_for_dbt_writing(build)
        os.kill(build.pid, signal.SIGTERM)
        rest, _ = build.communicate(timeout=60)
        assert not running(dbt), "the build ended but left dbt running"
    finally:
        kill_tree(build, dbt)
    assert build.returncode == EXIT_FAILED
    assert "stopped by SIGTERM" in rest and "nothing was published" in rest


# --- two builds at once ----------------------------------------------------------------


def test_a_second_build_fails_fast_naming_the_first(
    raw_copy: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    first = start_build(raw_copy, tmp_path, "--no-publish")
    dbt = None
    try:
        dbt, _ = wait_for_dbt_writing(first)
        second_target = tmp_path / "second"
        started = time.monotonic()
        code = run(["build", "--target-path", str(second_target)])
        elapsed = time.monotonic() - started
        err = capfd.readouterr().err
    finally:
        kill_tree(first, dbt)
    assert code == EXIT_UNAVAILABLE, err
    assert "another `dataproducts build` is running" in err
    assert f"pid {first.pid}" in err
    assert "Could not set lock" not in err
    assert not second_target.exists(), "the refused build touched its target directory"
    assert not (raw_copy.parent / "published").exists()
    assert elapsed < 10, f"the second build took {elapsed:.1f} s to give up"


def test_the_lock_of_a_killed_build_is_released(raw_copy: Path, tmp_path: Path) -> None:
    """The lock is an flock: a build killed while holding it leaves no stale lock."""
    from dataproducts_pipeline.build import BuildLockedError, duckdb_build_lock

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from dataproducts_pipeline.build import duckdb_build_lock\n"
            "with duckdb_build_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); time.sleep(60)\n",
            str(raw_copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**env_for(raw_copy), "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(BuildLockedError, match=f"pid {holder.pid}"),
            duckdb_build_lock(raw_copy),
        ):
            pass
    finally:
        holder.kill()
        holder.wait(30)
    with duckdb_build_lock(raw_copy):  # free again, at once
        pass


# --- a missing warehouse ---------------------------------------------------------------


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("command", ["build", "publish", "validate"])
def test_a_missing_warehouse_says_to_generate_and_creates_nothing(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "gone" / "warehouse.duckdb"
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(missing))
    (tmp_path / "target").mkdir()
    before = _files(tmp_path)
    args = [command] + (
        ["--target-path", str(tmp_path / "target")] if command != "validate" else []
    )
    code = run(args)
    err = capfd.readouterr().err
    assert code == EXIT_UNAVAILABLE, err
    assert f"no warehouse at {missing}" in err and "dataproducts generate" in err
    assert "Catalog Error" not in err and "Traceback" not in err
    assert _files(tmp_path) == before, "something was created"


def _empty(path: Path, _raw_only: Path) -> None:
    duckdb.connect(str(path)).close()


def _raw_without_events(path: Path, raw_only: Path) -> None:
    shutil.copy(raw_only, path)
    with duckdb.connect(str(path)) as con:
        con.execute("drop table raw.events")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_empty, "has no schema raw"),
        (_raw_without_events, "lacks raw table(s) raw.events"),
        (lambda path, _raw: path.write_text("not a database\n"), "is it a DuckDB file?"),
    ],
    ids=["empty", "no-events", "not-duckdb"],
)
def test_a_warehouse_without_raw_data_is_refused_before_dbt(
    make,
    expected: str,
    raw_only: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    make(warehouse, raw_only)
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(warehouse))
    size = warehouse.stat().st_size
    code = run(["build", "--target-path", str(tmp_path / "target")])
    err = capfd.readouterr().err
    assert code == EXIT_UNAVAILABLE, err
    assert expected in err and "dataproducts generate" in err
    assert "Catalog Error" not in err
    assert not (tmp_path / "target").exists(), "dbt ran"
    assert warehouse.stat().st_size == size


# --- settings --------------------------------------------------------------------------

#: Every DATAPRODUCTS_* setting a build reads, with a bad value (the target to build).
BAD_SETTINGS = [
    ("DATAPRODUCTS_DUCKDB_MEMORY_LIMIT", "abc", "dev"),
    ("DATAPRODUCTS_DUCKDB_MEMORY_LIMIT", "", "dev"),
    ("DATAPRODUCTS_DUCKDB_MEMORY_LIMIT", "80%", "dev"),
    ("DATAPRODUCTS_DUCKDB_BLOCK_ALLOCATOR_MEMORY", "lots", "dev"),
    ("DATAPRODUCTS_KEEP_SNAPSHOTS", "abc", "dev"),
    ("DATAPRODUCTS_KEEP_SNAPSHOTS", "0", "dev"),
    ("DATAPRODUCTS_KEEP_SNAPSHOTS", "2.5", "postgres"),
    ("DATAPRODUCTS_PUBLISHED_DIR", "<a file>", "dev"),
    ("DATAPRODUCTS_DUCKDB", "<a directory>", "dev"),
    ("DATAPRODUCTS_DUCKDB", "", "dev"),
    ("DATAPRODUCTS_TARGET", "prod", "dev"),
    ("DATAPRODUCTS_PG_PORT", "abc", "postgres"),
    ("DATAPRODUCTS_PG_PORT", "70000", "postgres"),
    ("DATAPRODUCTS_PG_HOST", "", "postgres"),
    ("DATAPRODUCTS_PG_USER", " ", "postgres"),
    ("DATAPRODUCTS_PG_DATABASE", "", "postgres"),
    ("DATAPRODUCTS_PG_PASSWORD", "a\nb", "postgres"),
    ("DATAPRODUCTS_SPARK_CONNECT_URL", "http://127.0.0.1:15002", "spark"),
    ("DATAPRODUCTS_SPARK_CONNECT_URL", "sc://127.0.0.1:0", "spark"),
]


@pytest.mark.parametrize(("name", "value", "target"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_before_any_work(
    name: str,
    value: str,
    target: str,
    raw_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    if value == "<a file>":
        value = str(tmp_path / "a-file")
        Path(value).write_text("")
    elif value == "<a directory>":
        value = str(tmp_path)
    monkeypatch.setenv(name, value)
    started = time.monotonic()
    code = run(["build", "--target", target, "--target-path", str(tmp_path / "target")])
    elapsed = time.monotonic() - started
    err = capfd.readouterr().err
    assert code == EXIT_USAGE, err
    assert f"{name}={value!r}" in err, err
    assert "Traceback" not in err and len(err.splitlines()) <= 3
    assert not (tmp_path / "target").exists(), "dbt ran"
    assert not (raw_copy.parent / "published").exists()
    assert elapsed < 10


def test_generate_checks_its_memory_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAPRODUCTS_GENERATE_MEMORY", "much")
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(tmp_path / "wh.duckdb"))
    code = run(["generate", "--quiet"])
    err = capfd.readouterr().err
    assert code == EXIT_USAGE, err
    assert "DATAPRODUCTS_GENERATE_MEMORY='much'" in err
    assert not (tmp_path / "wh.duckdb").exists()


def test_every_setting_read_anywhere_is_checked() -> None:
    """The settings table knows every DATAPRODUCTS_* variable the package, profiles.yml,
    the Makefile and the README mention (but DATAPRODUCTS_SOURCE, a reader's --source
    option, DATAPRODUCTS_PG_BIN, the tests' own, and the families DATAPRODUCTS_PG_*
    and DATAPRODUCTS_SPARK_* named as such)."""
    import re

    from dataproducts.settings import SETTINGS

    text = "".join(
        p.read_text()
        for p in [
            *(REPO / "python" / "dataproducts").rglob("*.py"),
            *(REPO / "python" / "dataproducts_pipeline").rglob("*.py"),
            REPO / "profiles.yml",
            REPO / "Makefile",
            REPO / "README.md",
        ]
    )
    mentioned = set(re.findall(r"DATAPRODUCTS_[A-Z_]*[A-Z]", text))
    mentioned -= {
        "DATAPRODUCTS_SOURCE",
        "DATAPRODUCTS_PG_BIN",
        "DATAPRODUCTS_PG",
        "DATAPRODUCTS_SPARK",
    }
    assert mentioned <= set(SETTINGS), mentioned - set(SETTINGS)


# --- a partial build -------------------------------------------------------------------


@pytest.mark.parametrize(
    "selection",
    [
        ["--select", "+recommendations"],
        ["-s", "recommendations"],
        ["--select=recommendations"],
        ["-m", "recommendations"],
        ["--exclude", "recommendations"],
        ["--selector", "nightly"],
        ["--resource-type", "model"],
        ["--empty"],
    ],
)
def test_a_selection_is_refused_unless_asked_for(
    selection: list[str],
    raw_copy: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    code = run(["build", "--target-path", str(tmp_path / "target"), "--", *selection])
    err = capfd.readouterr().err
    assert code == EXIT_USAGE, err
    assert "only part of the project" in err and "--no-publish" in err and "--partial" in err
    assert not (tmp_path / "target").exists(), "dbt ran"


@pytest.mark.parametrize("own", [["--target", "postgres"], ["-t", "postgres"], ["--profile=x"]])
def test_dbt_arguments_the_build_sets_itself_are_refused(
    own: list[str], raw_copy: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = run(["build", "--target-path", str(tmp_path / "target"), "--", *own])
    assert code == EXIT_USAGE
    assert "sets" in capfd.readouterr().err
    assert not (tmp_path / "target").exists()


def test_the_help_example_is_accepted() -> None:
    """`build --help`'s examples never show a selection that would then be refused."""
    from click.testing import CliRunner

    from dataproducts.cli import cli
    from dataproducts_pipeline.build import partial_args

    text = CliRunner().invoke(cli, ["build", "--help"]).output
    examples = [
        ln.split("dataproducts build", 1)[1]
        for ln in text.splitlines()
        if "dataproducts build" in ln
    ]
    assert examples
    for example in examples:
        if partial_args(example.split()):
            assert "--no-publish" in example or "--partial" in example, example


def test_a_partial_build_is_published_only_on_purpose_and_recorded(
    duckdb_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(duckdb_build.path, warehouse)
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", str(warehouse))
    target = tmp_path / "target"
    published = warehouse.parent / "published"

    code = run(
        ["build", "--partial", "--target-path", str(target), "--", "--select", "similar_courses"]
    )
    out, err = capfd.readouterr()
    assert code == EXIT_OK, err[-3000:]
    assert "PARTIAL" in out and "similar_courses" in out
    # each step with its time
    for step in ("dbt build: built (+", "publish: copied (+", "publish: switched (+"):
        assert step in err, err[-2000:]
    (info,) = list_snapshots(published)
    invocation = info.manifest["invocation"]
    assert invocation["partial"] is True
    assert invocation["selection"] == {"select": ["similar_courses"]}
    assert invocation["args"] == ["--select", "similar_courses"]
    assert invocation["command"] == "build"
    on_disk = json.loads((published / info.build_id / "manifest.json").read_text())
    assert on_disk["invocation"] == invocation

    # `publish` of that partial dbt build: refused, unless --partial
    code = run(["publish", "--target-path", str(target)])
    err = capfd.readouterr().err
    assert code == EXIT_FAILED
    assert "built only part of the project (--select similar_courses)" in err
    assert [s.build_id for s in list_snapshots(published)] == [info.build_id]
    assert run(["publish", "--partial", "--target-path", str(target)]) == EXIT_OK
    assert read_pointer(published).build_id != info.build_id


def test_a_full_build_is_recorded_as_not_partial(duckdb_build, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_build.path, warehouse)
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(duckdb_build.manifest))
    (target / "run_results.json").write_text(json.dumps(duckdb_build.run_results))
    info = publish(warehouse, target_path=target, validate=False)
    invocation = info.manifest["invocation"]
    assert invocation == {
        "command": "build",
        "invocation_command": duckdb_build.run_results["args"]["invocation_command"],
        "vars": {},
        "selection": {},
        "partial": False,
    }


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_build_checks_raw_and_takes_a_lock(
    postgres_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL: a database without schema raw is refused before dbt (exit 3), and
    while another session holds the build lock a build fails fast, naming it."""
    from contextlib import closing

    import psycopg2

    from dataproducts.errors import WarehouseError
    from dataproducts_pipeline.build import _PG_BUILD_LOCK, BuildLockedError, build

    for key, value in postgres_server.create_database("no_raw").items():
        monkeypatch.setenv(key, value)
    target = tmp_path / "target"
    with pytest.raises(WarehouseError, match=r"has no schema raw.*dataproducts generate"):
        build("postgres", target_path=target)
    assert not target.exists(), "dbt ran"

    with closing(psycopg2.connect(postgres_server.dsn_for("no_raw"))) as holder:
        holder.autocommit = True
        with holder.cursor() as cur:
            cur.execute("set application_name = 'dataproducts build pid 4242'")
            cur.execute("select pg_advisory_lock(%s)", (_PG_BUILD_LOCK,))
        with pytest.raises(BuildLockedError, match="pid 4242"):
            build("postgres", target_path=target)
    assert not target.exists()


def test_the_settings_examples_run() -> None:
    import doctest

    import dataproducts.settings

    result = doctest.testmod(dataproducts.settings, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
