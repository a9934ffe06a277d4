"""Local servers that never outlive the process that started them.

The tests' PostgreSQL server (``python/tests/pg_server.py``) and the local Spark Thrift
server (:mod:`dataproducts_pipeline.spark_server`) run in the foreground under a small
watchdog process, a child of the caller, started by :func:`start_watched`:

- the kernel sends the watchdog SIGTERM when its parent dies, however it dies (normal
  exit, a crash, SIGTERM, SIGINT, SIGKILL: Linux ``PR_SET_PDEATHSIG``);
- on SIGTERM, SIGINT or SIGHUP, or when the server exits by itself, the watchdog stops the
  server (``stop_signal``, then SIGKILL after ``stop_timeout`` seconds) and removes its
  work directory;
- the server gets SIGKILL should the watchdog die first (its own ``PR_SET_PDEATHSIG``).

The server runs in a session of its own, so a Ctrl-C in the caller's terminal reaches the
caller (which stops the server through the watchdog), not the server directly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The watchdog: drops to the server's user (``run_as``), ties itself to its parent
#: (SIGTERM when the parent dies: set after the user change, which clears it), starts the
#: server in the foreground (SIGKILL when the watchdog dies), writes the server's pid to
#: ``pidfile``, and on SIGTERM/SIGINT/SIGHUP, or when the server exits, stops it and removes
#: the work directory.
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
            spec["cmd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=tie, start_new_session=True, env=spec["env"], cwd=spec["cwd"],
        )
    if spec["pidfile"]:
        with open(spec["pidfile"] + ".tmp", "w") as f:
            f.write(str(server.pid))
        os.replace(spec["pidfile"] + ".tmp", spec["pidfile"])
    while not stopping and server.poll() is None:
        try:
            server.wait(0.5)
        except subprocess.TimeoutExpired:
            pass
    if server.poll() is None:
        server.send_signal(spec["stop_signal"])
        try:
            server.wait(spec["stop_timeout"])
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
if spec["remove"]:
    shutil.rmtree(spec["workdir"], ignore_errors=True)
"""


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_watched(
    cmd: Sequence[str],
    *,
    workdir: Path,
    log: Path,
    run_as: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stop_signal: int = signal.SIGTERM,
    stop_timeout: float = 20.0,
    pidfile: Path | None = None,
    remove_workdir: bool = True,
) -> subprocess.Popen:
    """Start ``cmd`` under a watchdog (see the module docstring); returns the watchdog.

    ``env`` is the server's whole environment (default: a bare ``PATH`` and ``LC_ALL=C``);
    ``cwd`` its working directory (default ``/``). SIGTERM to the returned process stops
    the server and removes ``workdir`` (unless ``remove_workdir`` is false).
    """
    spec = {
        "run_as": run_as,
        "parent": os.getpid(),
        "cmd": list(cmd),
        "log": str(log),
        "workdir": str(workdir),
        "env": dict(env) if env is not None else _bare_env(),
        "cwd": str(cwd or "/"),
        "stop_signal": int(stop_signal),
        "stop_timeout": stop_timeout,
        "pidfile": str(pidfile) if pidfile else None,
        "remove": remove_workdir,
    }
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, json.dumps(spec)],
        env=_bare_env(),
        cwd="/",
        stdin=subprocess.DEVNULL,
    )


def stop_watched(watchdog: subprocess.Popen | None, timeout: float = 60.0) -> None:
    """Ask the watchdog to stop its server and wait for it (idempotent)."""
    if watchdog is None or watchdog.poll() is not None:
        return
    watchdog.send_signal(signal.SIGTERM)
    try:
        watchdog.wait(timeout)
    except subprocess.TimeoutExpired:
        watchdog.kill()  # the server gets SIGKILL with it (its PR_SET_PDEATHSIG)
        watchdog.wait()


def _bare_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
