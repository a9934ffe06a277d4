"""``dataproducts build``: dbt build, then the validation gate, then publish.

Nothing is published unless every step passes: a dbt model or test that fails, or an
expectation of the validation gate, raises :class:`~dataproducts.errors.BuildFailedError`
listing what failed, and the current snapshot keeps serving.

>>> info = build("dev")  # doctest: +SKIP
>>> info.build_id  # doctest: +SKIP
'20261121-155741-677649'
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dataproducts.errors import BuildFailedError, ConfigurationError, WarehouseError
from dataproducts.paths import REPO_ROOT, default_duckdb_path
from dataproducts.snapshots import default_published_dir

from . import increments
from .increments import Increment
from .publish import (
    SnapshotInfo,
    Step,
    _check_keep,
    default_keep,
    default_target_path,
    publish,
)
from .raw_contract import RAW_SCHEMA
from .test_failures import failure_detail

TARGETS = ("dev", "postgres", "spark")


def dbt_executable() -> str:
    """The dbt of this Python environment (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "dbt"
    return str(here) if here.exists() else "dbt"


def postgres_dsn() -> str:
    """The PostgreSQL database of dbt's ``postgres`` target (``DATAPRODUCTS_PG_*``)."""
    from dataproducts.dsn import dsn_from_env

    return dsn_from_env()


#: Set for the dbt process unless the environment says otherwise. dbt runs two models at
#: once (``threads: 2``) and each may use every core: idle OpenMP threads (the ALS fit)
#: that spin, and BLAS threads (numpy in the Python models) on small products, only take
#: CPU from the other model. Measured on the recommendations part at medium (2 cores):
#: about 4 s less CPU, see BENCHMARKS.md.
DBT_THREAD_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1"}


def dbt_environment() -> dict[str, str]:
    """This process's environment for dbt: the profiles of the repository, no usage
    statistics, and the thread settings of :data:`DBT_THREAD_ENVIRONMENT` (each kept
    when already set)."""
    env = dict(os.environ)
    # dbt runs in the repository: a relative warehouse path means what it means here (as
    # in default_duckdb_path). Unset stays unset: profiles.yml's default is the same file,
    # and a value dbt did not see last time would make it re-parse the whole project.
    duckdb_path = env.get("DATAPRODUCTS_DUCKDB")
    if duckdb_path and not os.path.isabs(duckdb_path):
        env["DATAPRODUCTS_DUCKDB"] = os.path.abspath(duckdb_path)
    env.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    for name, value in DBT_THREAD_ENVIRONMENT.items():
        env.setdefault(name, value)
    return env


#: Runs a command tied to this process: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then exec.
#: When the parent dies, even by SIGKILL, the kernel kills the command (Linux; the
#: setting survives ``exec``). A trampoline rather than a ``preexec_fn``: that is unsafe
#: while other threads run (the gate's imports do, during the build).
_TIED_TO_PARENT = (
    "import ctypes, os, signal, sys\n"
    "if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0) != 0:\n"
    "    sys.exit('prctl(PR_SET_PDEATHSIG) failed')\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(1)  # the parent died before prctl took effect\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def tied_to_this_process(cmd: Sequence[str]) -> list[str]:
    """``cmd`` wrapped so that it dies when this process dies (Linux), else ``cmd``."""
    if not sys.platform.startswith("linux"):
        return list(cmd)
    return [sys.executable, "-c", _TIED_TO_PARENT, str(os.getpid()), *cmd]


class _Stopped(BaseException):
    """This process got SIGTERM or SIGHUP while dbt ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_stop_the_child() -> Iterator[None]:
    """While dbt runs, SIGTERM and SIGHUP raise :class:`_Stopped` (instead of ending this
    process at once), so that dbt is stopped first. Only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise _Stopped(signum)

    saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


def _stop(proc: subprocess.Popen, sig: int, grace: float = 10.0) -> None:
    """Send ``sig`` to ``proc`` (dbt stops its own way), then SIGKILL after ``grace`` s."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_dbt(
    args: Sequence[str],
    *,
    target: str,
    target_path: Path,
    echo: Callable[[str], None] | None = None,
) -> int:
    """Run ``dbt <args>`` on the repository's project; its exit code.

    Output goes to ``echo`` line by line (default: this process's stdout). Logs go to
    ``$DBT_LOG_PATH``, else ``logs/`` beside ``target_path``.

    dbt never outlives this process: it dies with it (SIGKILL included, on Linux), and
    SIGTERM, SIGHUP or Ctrl-C here stop dbt before this process ends
    (:class:`BuildFailedError` for a signal).
    """
    env = dbt_environment()
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(REPO_ROOT),
        "--target-path",
        str(target_path),
    ]
    # The profile's default target is left to dbt, as a plain `dbt` call (make's, yours)
    # does: dbt's partial parse keys on --target, and would re-parse at every switch.
    if target != env.get("DATAPRODUCTS_TARGET", "dev"):
        cmd += ["--target", target]
    if "DBT_LOG_PATH" not in env:  # logs/ beside target/ (the repository's logs/ by default)
        cmd += ["--log-path", str(Path(target_path).resolve().parent / "logs")]
    piped = echo is not None
    with _signals_stop_the_child():
        proc = subprocess.Popen(
            tied_to_this_process(cmd),
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE if piped else None,
            stderr=subprocess.STDOUT if piped else None,
            text=True,
        )
        try:
            if piped:
                assert proc.stdout is not None and echo is not None
                for line in proc.stdout:
                    echo(line.rstrip("\n"))
            return proc.wait()
        except _Stopped as stopped:
            _stop(proc, stopped.signum)
            name = signal.Signals(stopped.signum).name
            raise BuildFailedError(
                f"stopped by {name} while dbt ran: dbt was stopped, nothing was published; "
                "the current snapshot keeps serving."
            ) from None
        except BaseException:  # Ctrl-C (dbt got it too, from the terminal), or an error
            _stop(proc, signal.SIGINT)
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()


def dbt_failures(target_path: Path) -> list[str]:
    """The nodes that errored or failed in the last dbt invocation, with their message."""
    path = target_path / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text()).get("results", [])
    return [
        f"{r['unique_id']}: {r['status']}"
        + (f" — {r['message']}" if r.get("message") else "")
        + failure_detail(r)
        for r in results
        if r["status"] in ("error", "fail", "runtime error")
    ]


#: dbt arguments that build only part of the project, or change what it reads: a
#: snapshot published from such a build would mix its marts with the previous build's.
PARTIAL_ARGS = (
    "--select",
    "-s",
    "--models",
    "--model",
    "-m",
    "--exclude",
    "--selector",
    "--resource-type",
    "--resource-types",
    "--exclude-resource-type",
    "--exclude-resource-types",
    "--empty",
    "--sample",
    "--defer",
    "--favor-state",
    "--state",
)
#: dbt arguments `dataproducts build` sets itself (its options say where).
OWN_ARGS = {
    "--full-refresh": "--full-refresh (of dataproducts build)",
    "--target": "--target",
    "-t": "--target",
    "--target-path": "--target-path",
    "--project-dir": "(the repository)",
    "--profiles-dir": "DBT_PROFILES_DIR",
    "--profile": "(the repository's profile)",
}


def _matches(arg: str, flag: str) -> bool:
    if arg == flag or arg.startswith(flag + "="):
        return True
    # a short option with its value attached: -s+recommendations
    return len(flag) == 2 and not arg.startswith("--") and arg.startswith(flag)


def partial_args(dbt_args: Sequence[str]) -> list[str]:
    """The arguments of ``dbt_args`` that make a partial build (:data:`PARTIAL_ARGS`)."""
    return [a for a in dbt_args if any(_matches(a, f) for f in PARTIAL_ARGS)]


def check_dbt_args(dbt_args: Sequence[str], *, partial: bool, publishing: bool) -> None:
    """Refuse dbt arguments that `dataproducts build` sets itself, and (when the build is
    to be published, and not declared ``partial``) arguments that build part of the
    project: :class:`ConfigurationError`."""
    for arg in dbt_args:
        for flag, instead in OWN_ARGS.items():
            if _matches(arg, flag):
                raise ConfigurationError(
                    f"dbt argument {arg!r}: `dataproducts build` sets {flag} itself; use "
                    f"{instead} instead. Nothing was built."
                )
    selection = partial_args(dbt_args)
    if selection and publishing and not partial:
        raise ConfigurationError(
            f"dbt arguments {' '.join(selection)} build only part of the project: a snapshot "
            "of it would mix this build's marts with the previous build's. Build it without "
            "publishing (--no-publish), or publish the mix on purpose (--partial: the "
            "manifest records the dbt arguments). Nothing was built."
        )


def _check_settings(target: str) -> None:
    """Every setting a build on ``target`` reads, before any work."""
    from dataproducts import settings

    settings.check(settings.for_target(target))


class BuildLockedError(WarehouseError):
    """Another `dataproducts build` is running on the same warehouse."""


class WarehouseInUseError(WarehouseError):
    """Another process holds the DuckDB warehouse's write lock."""


def _lock_holder(text: str) -> str:
    pid = text.strip().split()[0] if text.strip() else ""
    return f"pid {pid}" if pid.isdigit() else "pid unknown"


@contextlib.contextmanager
def duckdb_build_lock(warehouse: Path) -> Iterator[Path]:
    """Hold the build lock of a DuckDB warehouse (``.<file>.build.lock`` beside it) while
    the block runs; :class:`BuildLockedError` (with the holder's pid) when another build
    holds it. An ``flock``: the kernel releases it when the holder dies, SIGKILL included,
    so a killed build never leaves a stale lock."""
    path = warehouse.parent / f".{warehouse.name}.build.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by dbt
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(os.pread(fd, 64, 0).decode(errors="replace"))
            raise BuildLockedError(
                f"another `dataproducts build` is running on {warehouse} ({holder}): wait "
                "for it to finish (or stop it), then build again. Nothing was changed."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


#: Key of the PostgreSQL advisory lock a build holds ("dbld").
_PG_BUILD_LOCK = 0x6462_6C64


@contextlib.contextmanager
def postgres_build_lock(dsn: str) -> Iterator[None]:
    """Hold the build lock of a PostgreSQL database (a session advisory lock, released by
    the server when this process's connection goes, SIGKILL included) while the block
    runs; :class:`BuildLockedError` when another build holds it. Also checks that schema
    ``raw`` holds the raw tables."""
    from dataproducts.snapshots import pg_connect

    from .raw_contract import RAW_TABLES

    con = pg_connect(dsn)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(
                "select set_config('application_name', %s, false)",
                (f"dataproducts build pid {os.getpid()}",),
            )
            cur.execute("select pg_try_advisory_lock(%s)", (_PG_BUILD_LOCK,))
            if not cur.fetchone()[0]:
                cur.execute(
                    "select a.application_name from pg_locks as l join pg_stat_activity as a "
                    "using (pid) where l.locktype = 'advisory' and l.granted "
                    "and l.objid = %s",
                    (_PG_BUILD_LOCK,),
                )
                row = cur.fetchone()
                holder = row[0] if row and row[0] else "another session"
                raise BuildLockedError(
                    f"another `dataproducts build` is running on this database ({holder}): "
                    "wait for it to finish (or stop it), then build again. Nothing was changed."
                )
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                (RAW_SCHEMA,),
            )
            present = {r[0] for r in cur.fetchall()}
        missing = [t for t in RAW_TABLES if t not in present]
        if missing:
            raise WarehouseError(
                _no_raw_message("the PostgreSQL database", present, missing)
                + " (the database of DATAPRODUCTS_PG_*)."
            )
        yield
    finally:
        con.close()


def _no_raw_message(where: str, present: set[str], missing: list[str]) -> str:
    what = (
        f"has no schema {RAW_SCHEMA}"
        if not present
        else f"lacks raw table(s) {', '.join(RAW_SCHEMA + '.' + t for t in missing)}"
    )
    return (
        f"{where} {what}: run `dataproducts generate` first (or load the raw data). "
        "Nothing was built"
    )


def check_duckdb_warehouse(warehouse: Path, *, raw: bool = True) -> None:
    """The DuckDB warehouse exists, opens, and (``raw``) holds every raw table; a
    :class:`WarehouseError` saying what to do otherwise. Creates nothing."""
    import duckdb

    from .raw_contract import RAW_TABLES

    if not warehouse.exists():
        raise WarehouseError(
            f"no warehouse at {warehouse}: run `dataproducts generate` first (or set "
            "DATAPRODUCTS_DUCKDB to the warehouse file). Nothing was created."
        )
    if not warehouse.is_file():
        raise WarehouseError(f"the warehouse {warehouse} is not a file: set DATAPRODUCTS_DUCKDB.")
    if not raw:
        return
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise WarehouseInUseError(
                f"the warehouse {warehouse} is in use by another process ({first}): close "
                "it (or wait for it), then build again. Nothing was changed."
            ) from exc
        raise WarehouseError(
            f"cannot open the warehouse {warehouse} ({first}): is it a DuckDB file? "
            "Run `dataproducts generate` to create it. Nothing was changed."
        ) from exc
    try:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? "
                "union all select view_name from duckdb_views() where schema_name = ?",
                [RAW_SCHEMA, RAW_SCHEMA],
            ).fetchall()
        }
    finally:
        con.close()
    missing = [t for t in RAW_TABLES if t not in present]
    if missing:
        raise WarehouseError(_no_raw_message(f"the warehouse {warehouse}", present, missing) + ".")


def build(
    target: str = "dev",
    dbt_args: Sequence[str] = (),
    *,
    target_path: str | Path | None = None,
    published_dir: str | Path | None = None,
    keep: int | None = None,
    validate: bool = True,
    partial: bool = False,
    publish_snapshot: bool = True,
    full_refresh: bool = False,
    echo: Callable[[str], None] | None = None,
    on_step: Step | None = None,
    on_increments: Callable[[list[Increment]], None] | None = None,
) -> SnapshotInfo | None:
    """``dbt build`` on ``target`` (``dev``: DuckDB; ``postgres``; ``spark``: the Thrift
    server of ``$DATAPRODUCTS_SPARK_*``, published into the local DuckDB snapshots), the
    validation gate, and publish; the new snapshot's info.

    Before any work: every setting is checked (:mod:`dataproducts.settings`), the dbt
    arguments, the warehouse and its raw tables, and the build lock is taken (another
    build running: :class:`BuildLockedError`). ``dbt_args`` go to dbt as they are (e.g.
    ``["--vars", "{recommendations_k: 20}"]``); arguments that build only part of the
    project (``--select``...) need ``publish_snapshot=False`` (dbt build only, returns
    None) or ``partial=True`` (publish the mix; the manifest records the arguments).
    ``validate=False`` skips the validation gate (tests of the publishing machinery
    only; the CLI always runs it). Raises :class:`BuildFailedError` (nothing published)
    when dbt or the gate fails.

    Incremental models keep their rows and classify again only what may have changed
    (doc block ``staging_incremental``); ``full_refresh`` rebuilds them from all history
    (dbt's ``--full-refresh``). ``on_increments`` gets, after dbt, each incremental
    model's mode and rows before and after (:mod:`dataproducts_pipeline.increments`);
    the snapshot's manifest records them too (``invocation.increments``).
    """
    if target not in TARGETS:
        raise ConfigurationError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    _check_settings(target)
    keep = _check_keep(keep) if keep is not None else default_keep()
    check_dbt_args(dbt_args, partial=partial, publishing=publish_snapshot)
    tp = Path(target_path) if target_path else default_target_path()
    in_use: WarehouseInUseError | None = None
    if target == "postgres":
        source: str | Path = postgres_dsn()
        lock = postgres_build_lock(str(source))
    elif target == "spark":
        from .generator.spark import server_from_env
        from .spark_publish import spark_url

        source = spark_url(**server_from_env())
        # one build at a time into this machine's published directory (the lock file is
        # beside it); builds from other machines on the same Spark are not seen
        published = Path(published_dir) if published_dir else default_published_dir()
        published.mkdir(parents=True, exist_ok=True)
        lock = duckdb_build_lock(published / "spark")
    else:
        source = default_duckdb_path()
        try:  # before the lock file beside it: a warehouse without raw data gets nothing
            check_duckdb_warehouse(Path(source))
        except WarehouseInUseError as exc:  # another build's dbt? The lock says.
            in_use = exc
        lock = duckdb_build_lock(Path(source))
    with lock:
        if in_use is not None:  # not a build of ours: a notebook, a DuckDB shell...
            raise in_use
        if validate and publish_snapshot:
            from .validation import preload

            preload()  # great-expectations imports while dbt builds (seconds on a cold start)
        # the incremental models of the previous build in this target directory (none in
        # a new one: their rows before are then unknown, see Increment, unless the table
        # did not exist: a first build)
        known = increments.incremental_relations(tp)
        before = None if known is None else increments.count_rows(target, source, known.values())
        existed = increments.existing_tables(target, source) if known is None else None
        stamped = increments.history_relations(tp)
        stamps = increments.history_stamps(target, source, stamped) if stamped else None
        refresh = ["--full-refresh"] if full_refresh else []
        code = run_dbt(["build", *refresh, *dbt_args], target=target, target_path=tp, echo=echo)
        if code != 0:
            failures = dbt_failures(tp)
            raise BuildFailedError(
                f"dbt build failed (exit {code}"
                + (f", {len(failures)} failing node(s)" if failures else "")
                + "): nothing was published; the current snapshot keeps serving.",
                failures,
            )
        if on_step:
            on_step("built")
        relations = increments.incremental_relations(tp) or {}
        ran = increments.increments(
            relations,
            before,
            increments.count_rows(target, source, relations.values()),
            full_refresh=full_refresh,
            existed=existed,
            stamps_before=stamps,
            stamps_after=increments.history_stamps(target, source, stamped) if stamps else None,
        )
        if on_increments:
            on_increments(ran)
        if not publish_snapshot:
            return None
        return publish(
            source,
            target_path=tp,
            published_dir=published_dir,
            keep=keep,
            validate=validate,
            on_step=on_step,
            dbt_args=[*refresh, *dbt_args],
            partial=partial,
            increments=ran,
        )
