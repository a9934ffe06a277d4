"""A throwaway PostgreSQL server for the tests.

PostgreSQL refuses to run as root, so when the tests run as root (as in CI) the server is
initialised and started as user ``postgres`` in a temporary directory that user owns. It
listens on 127.0.0.1 only, on a free port, with trust authentication, and is stopped (and
its directory removed) when the session ends.

The server never outlives the test process, however that ends (normal exit, a crash,
SIGTERM, SIGINT, even SIGKILL): ``postgres`` runs in the foreground (not daemonized by
``pg_ctl``) under the watchdog of :mod:`dataproducts_pipeline.watchdog`, a child of the
tests. The kernel sends the watchdog SIGTERM when the tests' process dies (Linux
``PR_SET_PDEATHSIG``); it then stops the server (immediate shutdown) and removes the
directory. The server itself gets SIGKILL should the watchdog die first.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataproducts_pipeline.watchdog import free_port, start_watched, stop_watched

PG_BIN_CANDIDATES = [
    os.environ.get("DATAPRODUCTS_PG_BIN", ""),
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
]


def find_pg_bin() -> Path:
    for cand in PG_BIN_CANDIDATES:
        if cand and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install the Debian package "
        "postgresql-15 or set DATAPRODUCTS_PG_BIN to the directory that holds them."
    )


@dataclass
class PostgresServer:
    """A running server. ``env`` holds the DATAPRODUCTS_PG_* variables for its default database."""

    port: int
    workdir: Path
    bin_dir: Path
    run_as: str | None
    database: str = "dataproducts"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        return self.dsn_for(self.database)

    def dsn_for(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def env_for(self, database: str) -> dict[str, str]:
        return {
            "DATAPRODUCTS_PG_HOST": "127.0.0.1",
            "DATAPRODUCTS_PG_PORT": str(self.port),
            "DATAPRODUCTS_PG_USER": "postgres",
            "DATAPRODUCTS_PG_PASSWORD": "",
            "DATAPRODUCTS_PG_DATABASE": database,
        }

    def create_database(self, name: str) -> dict[str, str]:
        """Create (or recreate) a database and return the env vars that point at it."""
        import psycopg2

        con = psycopg2.connect(self.dsn_for("postgres"))
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            cur.execute(f'create database "{name}"')
        con.close()
        return self.env_for(name)

    watchdog: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def postmaster_pid(self) -> int | None:
        """The server's pid (first line of ``postmaster.pid``), None once it is gone."""
        try:
            return int((self.workdir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop the server and remove its directory (idempotent)."""
        stop_watched(self.watchdog, timeout=30)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _run(cmd: list[str], run_as: str | None, check: bool = True) -> subprocess.CompletedProcess:
    if run_as:
        # runuser keeps this process's environment out of the way and needs no password.
        cmd = ["runuser", "-u", run_as, "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def start_server() -> PostgresServer:
    bin_dir = find_pg_bin()
    run_as = "postgres" if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="dataproducts-pg-"))
    if run_as:
        pw = pwd.getpwnam(run_as)
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    port = free_port()
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(workdir / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"could not initialise PostgreSQL: {exc.stderr or exc.stdout}") from exc
    cmd = [
        str(bin_dir / "postgres"),
        "-D",
        str(workdir / "data"),
        "-p",
        str(port),
        "-k",
        str(workdir),
        *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
        *("-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
        *("-c", "max_connections=50", "-c", "shared_buffers=256MB", "-c", "work_mem=64MB"),
    ]
    # immediate shutdown (SIGQUIT): the data is thrown away anyway
    watchdog = start_watched(
        cmd,
        workdir=workdir,
        log=workdir / "server.log",
        run_as=run_as,
        stop_signal=signal.SIGQUIT,
        stop_timeout=20,
    )
    server = PostgresServer(
        port=port, workdir=workdir, bin_dir=bin_dir, run_as=run_as, watchdog=watchdog
    )
    atexit.register(server.stop)  # a fallback: the watchdog stops it anyway
    try:
        _wait_ready(server)
    except Exception as exc:
        log = workdir / "server.log"
        detail = log.read_text() if log.exists() else ""
        server.stop()
        raise RuntimeError(f"could not start PostgreSQL:\n{detail}") from exc
    server.env = server.create_database(server.database)
    return server


def _wait_ready(server: PostgresServer, timeout: float = 30.0) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        if server.watchdog is not None and server.watchdog.poll() is not None:
            raise RuntimeError("the PostgreSQL server exited")
        try:
            with contextlib.closing(psycopg2.connect(server.dsn_for("postgres"))):
                return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
