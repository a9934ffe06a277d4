"""A throwaway PostgreSQL server for the tests.

PostgreSQL refuses to run as root, so when the tests run as root (as in CI) the server is
initialised and started as user ``postgres`` in a temporary directory that user owns. It
listens on 127.0.0.1 only, on a free port, with trust authentication, and is stopped (and
its directory removed) when the session ends.

The server never outlives the test process, however that ends (normal exit, a crash,
SIGTERM, SIGINT, even SIGKILL): ``postgres`` runs in the foreground (not daemonized by
``pg_ctl``) under a small watchdog process, a child of the tests. The kernel sends the
watchdog SIGTERM when the tests' process dies (Linux ``PR_SET_PDEATHSIG``); it then stops
the server (immediate shutdown) and removes the directory. The server itself gets SIGKILL
should the watchdog die first.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.send_signal(signal.SIGTERM)
            try:
                self.watchdog.wait(30)
            except subprocess.TimeoutExpired:
                self.watchdog.kill()
                self.watchdog.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


#: The watchdog: drops to the server's user, ties itself to its parent (SIGTERM when the
#: parent dies: set after the user change, which clears it), starts ``postgres`` in the
#: foreground (SIGKILL when the watchdog dies), and on SIGTERM/SIGINT/SIGHUP, or when the
#: server exits, stops it and removes the work directory.
_WATCHDOG = r"""
import ctypes, json, os, pwd, shutil, signal, subprocess, sys

spec = json.loads(sys.argv[1])
if spec["run_as"]:
    pw = pwd.getpwnam(spec["run_as"])
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
signal.signal(signal.SIGHUP, lambda *_: stopping.append(1))
me = os.getpid()


def tie():
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != me:
        os._exit(1)


server = None
if os.getppid() == spec["parent"]:  # else the parent died before prctl took effect
    with open(spec["log"], "ab") as log:
        server = subprocess.Popen(
            spec["cmd"], stdout=log, stderr=subprocess.STDOUT, preexec_fn=tie,
            start_new_session=True,
        )
    while not stopping and server.poll() is None:
        try:
            server.wait(0.5)
        except subprocess.TimeoutExpired:
            pass
    if server.poll() is None:
        server.send_signal(signal.SIGQUIT)  # immediate shutdown
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
shutil.rmtree(spec["workdir"], ignore_errors=True)
"""


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
    spec = {
        "run_as": run_as,
        "parent": os.getpid(),
        "cmd": cmd,
        "log": str(workdir / "server.log"),
        "workdir": str(workdir),
    }
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, json.dumps(spec)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        cwd="/",
        stdin=subprocess.DEVNULL,
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
