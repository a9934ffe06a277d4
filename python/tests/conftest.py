"""Shared fixtures: the dbt project built once per session on the ``tiny`` dataset.

- ``duckdb_build``: tiny data in a temporary DuckDB file, ``dbt build`` of the whole project.
- ``postgres_server``: a throwaway PostgreSQL 15 server (see ``pg_server.py``).
- ``postgres_build``: the same build on a fresh database of that server.
- ``spark_server``: a local Spark Thrift server (``dataproducts_pipeline.spark_server``),
  started once per session by the first test that needs it.
- ``spark_build``: generate and ``dataproducts build --target spark`` on that server;
  started in the background with the session when a selected test needs it, so the
  minutes it spends waiting on the JVM overlap the other engines' tests.
- ``warehouse``: parametrized over both, so a test written once runs on both engines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_server import PostgresServer, start_server

if TYPE_CHECKING:
    from dataproducts_pipeline.spark_server import SparkServer

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"

#: The dataset every session builds: small enough for seconds, dirty enough to exercise
#: the quarantine on both engines.
TINY = {"scale": "tiny", "seed": 7, "bad_row_rate": 0.02}

# Environment variables of the developer's shell must not leak into the builds.
_ISOLATE = [k for k in os.environ if k.startswith(("DATAPRODUCTS_", "DBT_"))]


@dataclass
class DbtRunner:
    """Runs the venv's dbt on the repository with a private target dir and environment."""

    env: dict[str, str]
    target: str
    target_path: Path
    project_dir: Path = REPO
    last: subprocess.CompletedProcess | None = field(default=None, repr=False)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
        env.update(self.env)
        env["DBT_PROFILES_DIR"] = str(REPO)
        env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        cmd = [
            str(DBT),
            *args,
            "--project-dir",
            str(self.project_dir),
            "--target",
            self.target,
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.target_path / "logs"),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
        self.last = proc
        if check and proc.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed on {self.target} (exit {proc.returncode}):\n"
                + _failures(proc.stdout)
            )
        return proc

    def run_results(self) -> dict[str, Any]:
        return json.loads((self.target_path / "run_results.json").read_text())

    def scratch(self, name: str = "scratch") -> DbtRunner:
        """The same runner with its own target dir, for ad-hoc commands (show, compile...)
        that must not overwrite the artifacts of the shared build."""
        return DbtRunner(self.env, self.target, self.target_path.parent / name, self.project_dir)


def _failures(stdout: str, keep: int = 80) -> str:
    lines = stdout.splitlines()
    bad = [ln for ln in lines if any(w in ln for w in ("ERROR", "FAIL", "Error", "error"))]
    return "\n".join(bad[-keep:] or lines[-keep:])


@dataclass
class Build:
    """A dbt project built on one engine."""

    engine: str
    dbt: DbtRunner
    report: Any
    path: Path | None = None  # DuckDB file
    dsn: str | None = None  # PostgreSQL
    #: The artifacts of the session's ``dbt build``, frozen right after it (later dbt
    #: commands on the same target dir would overwrite the files).
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)
    run_results: dict[str, Any] = field(default_factory=dict, repr=False)

    def query(self, sql: str, params: Any = None) -> pd.DataFrame:
        if self.engine == "duckdb":
            import duckdb

            with closing(duckdb.connect(str(self.path), read_only=True)) as con:
                return con.execute(sql, params or []).df()
        import psycopg2

        with closing(psycopg2.connect(self.dsn)) as con, con.cursor() as cur:
            cur.execute(sql, params)
            cols = [c.name for c in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)

    def scalar(self, sql: str, params: Any = None) -> Any:
        return self.query(sql, params).iat[0, 0]


def _artifacts(runner: DbtRunner) -> dict[str, dict[str, Any]]:
    return {
        "manifest": json.loads((runner.target_path / "manifest.json").read_text()),
        "run_results": runner.run_results(),
    }


def _interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (and SIGHUP) end the session like Ctrl-C: pytest tears the fixtures down, so
    the servers they started stop. (Should even that fail, or the process be SIGKILLed,
    the server's watchdog stops it: see ``pg_server.py``.)"""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _interrupted)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def _start_spark() -> SparkServer:
    """One Spark JVM: local[2], 2 shuffle partitions, 2g of driver memory."""
    from dataproducts_pipeline.spark_server import start_server as start_spark

    return start_spark(cores=2, shuffle_partitions=2, driver_memory="2g")


class _SparkBuildInBackground:
    """The session's Spark build (``spark_build``), started with the session instead of
    when its first test comes: generate and ``dataproducts build --target spark`` take
    minutes, spent mostly waiting on the JVM, while the DuckDB and PostgreSQL tests run
    beside them. Every test that touches the Spark server waits for the build to end
    (``spark_server``), so nothing else ever runs on the server during it."""

    def __init__(self, server: SparkServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
        self.env.update(server.env)
        self.env.update(
            {
                "DATAPRODUCTS_SPARK_RAW_DIR": str(root / "spark_raw"),
                "DATAPRODUCTS_DUCKDB": str(root / "warehouse.duckdb"),
                "DATAPRODUCTS_PUBLISHED_DIR": str(root / "published"),
                "DBT_PROFILES_DIR": str(REPO),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            }
        )
        self.report: Any = None
        self.proc: subprocess.CompletedProcess | None = None
        self.error: BaseException | None = None
        self._popen: subprocess.Popen | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="spark-build", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from dataproducts_pipeline.generate import generate

        try:
            self.report = generate(
                target="spark",
                spark_server={"host": self.server.host, "port": self.server.port},
                spark_raw_dir=self.root / "spark_raw",
                progress=False,
                **TINY,
            )
            if self._stopping:
                return
            cli = Path(sys.executable).parent / "dataproducts"
            args = [str(cli), "build", "--target", "spark", "--target-path"]
            self._popen = subprocess.Popen(
                [*args, str(self.root / "target")],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
            )
            out, err = self._popen.communicate()
            self.proc = subprocess.CompletedProcess(
                self._popen.args, self._popen.returncode, out, err
            )
        except BaseException as exc:  # raised again by result()
            self.error = exc

    def wait(self) -> None:
        """Until the build has ended (whatever its outcome)."""
        self._thread.join()

    def result(self) -> tuple[Any, subprocess.CompletedProcess]:
        self.wait()
        if self.error is not None:
            raise self.error
        assert self.proc is not None
        return self.report, self.proc

    def stop(self) -> None:
        """End of the session (or an interruption): a build still running is stopped as
        a user's Ctrl-C would (SIGTERM: dataproducts build stops dbt), then awaited."""
        self._stopping = True
        if self._popen is not None and self._popen.poll() is None:
            self._popen.terminate()
        self._thread.join(timeout=120)


def _needs_spark_build(item: pytest.Item) -> bool:
    """Whether a test needs the session's Spark build: it asks for ``spark_build``, or it
    is a test's Spark parametrization (its fixture asks for the build at run time)."""
    if "spark_build" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "spark" in callspec.params.values()


@pytest.fixture(scope="session", autouse=True)
def _spark_in_background(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_SparkBuildInBackground | None]:
    """Starts the Spark server and the session's Spark build before the first test, when
    a selected test needs the build (see ``_SparkBuildInBackground``)."""
    if not any(_needs_spark_build(item) for item in request.session.items):
        yield None
        return
    server = _start_spark()
    try:
        build = _SparkBuildInBackground(server, tmp_path_factory.mktemp("spark_build"))
        try:
            yield build
        finally:
            build.stop()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_server(_spark_in_background: _SparkBuildInBackground | None) -> Iterator[SparkServer]:
    """One Spark JVM for the whole session: local[2], 2 shuffle partitions, 2g of driver
    memory; stopped with the session (and by its watchdog on any other exit path). When
    the session builds the project on Spark, the server that build runs on, once the
    build has ended."""
    if _spark_in_background is not None:
        _spark_in_background.wait()
        yield _spark_in_background.server
        return
    server = _start_spark()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    from dataproducts_pipeline.generate import generate

    root = tmp_path_factory.mktemp("duckdb_build")
    path = root / "warehouse.duckdb"
    report = generate(target="dev", duckdb_path=path, progress=False, **TINY)
    runner = DbtRunner({"DATAPRODUCTS_DUCKDB": str(path)}, "dev", root / "target")
    runner.run("build")
    return Build("duckdb", runner, report, path=path, **_artifacts(runner))


@pytest.fixture(scope="session")
def postgres_build(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Build:
    from dataproducts_pipeline.generate import generate

    root = tmp_path_factory.mktemp("postgres_build")
    env = postgres_server.create_database("build")
    dsn = postgres_server.dsn_for("build")
    report = generate(target="postgres", pg_dsn=dsn, progress=False, **TINY)
    runner = DbtRunner(env, "postgres", root / "target")
    runner.run("build")
    return Build("postgres", runner, report, dsn=dsn, **_artifacts(runner))


@dataclass
class SparkBuild:
    """The project built on the session's Spark server by `dataproducts build --target
    spark` (generate, dbt build, gate, publish), and what it left."""

    root: Path
    published: Path
    report: Any
    proc: subprocess.CompletedProcess
    run_results: dict[str, Any]
    manifest: dict[str, Any]
    #: Read from Spark right after the build (other tests regenerate the server's raw
    #: tables later): (source_table, reason) -> rows; staging model -> rows.
    quarantine: dict[tuple[str, str], int]
    staged: dict[str, int]
    #: The ALS module's inputs and output as Spark built them (intermediate schema):
    #: table name -> rows (tuples in the order of the query in ``_ALS_QUERIES``).
    als: dict[str, list[tuple[Any, ...]]]
    #: The protected marts nothing publishes (``_PROTECTED_MARTS``), read right after the
    #: build: name -> (column names, rows).
    protected: dict[str, tuple[list[str], list[tuple[Any, ...]]]]


#: What test_spark_build checks the ALS ranking on Spark with (read right after the build).
_ALS_QUERIES = {
    "factors": "select snapshot_name, entity_type, entity_id, factors "
    "from intermediate.int_als_factors_fitted",
    "sampled": "select snapshot_name, learner_id "
    "from intermediate.int_recommendation_learners_sampled",
    "consumed": "select snapshot_name, learner_id, course_id "
    "from intermediate.int_learner_course_affinities_decayed where is_consumed",
    "published": "select course_id from staging.stg_raw__courses where is_published",
    "ranked": "select snapshot_name, learner_id, course_id, module_rank, score "
    "from intermediate.int_als_recommendations_ranked",
}

#: Marts the gate does not publish, compared with DuckDB's by test_spark_build.
_PROTECTED_MARTS = ("coaching_impact",)


@pytest.fixture(scope="session")
def spark_build(
    spark_server: SparkServer, _spark_in_background: _SparkBuildInBackground | None
) -> SparkBuild:
    assert _spark_in_background is not None, (
        "the session's Spark build was not started: a test that needs it must ask for "
        "spark_build, or be parametrized with 'spark' (conftest._needs_spark_build)"
    )
    report, proc = _spark_in_background.result()
    root = _spark_in_background.root
    if proc.returncode != 0:
        raise AssertionError(
            f"dataproducts build --target spark failed (exit {proc.returncode}):\n"
            + _failures(proc.stdout + proc.stderr)
        )
    with closing(spark_server.connect()) as con, closing(con.cursor()) as cur:
        cur.execute(
            "select source_table, reason, count(*) from staging.stg_raw__quarantine "
            "group by source_table, reason"
        )
        quarantine = {(t, r): n for t, r, n in cur.fetchall()}
        staged = {}
        for name in sorted(
            _staging_models(json.loads((root / "target" / "manifest.json").read_text()))
        ):
            cur.execute(f"select count(*) from staging.{name}")
            staged[name] = cur.fetchall()[0][0]
        als = {}
        for key, query in _ALS_QUERIES.items():
            cur.execute(query)
            als[key] = [tuple(row) for row in cur.fetchall()]
        protected = {}
        for name in _PROTECTED_MARTS:
            cur.execute(f"select * from marts.{name}")
            rows = [tuple(row) for row in cur.fetchall()]
            protected[name] = ([d[0] for d in cur.description], rows)
    return SparkBuild(
        root=root,
        published=root / "published",
        report=report,
        proc=proc,
        run_results=json.loads((root / "target" / "run_results.json").read_text()),
        manifest=json.loads((root / "target" / "manifest.json").read_text()),
        quarantine=quarantine,
        staged=staged,
        als=als,
        protected=protected,
    )


def _staging_models(manifest: dict[str, Any]) -> list[str]:
    """The staging models (stg_*) of a manifest, quarantine excluded."""
    return [
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["name"].startswith("stg_")
        and n["name"] != "stg_raw__quarantine"
    ]


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest) -> Build:
    return request.getfixturevalue(f"{request.param}_build")
