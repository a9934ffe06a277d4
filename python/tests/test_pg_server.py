"""The tests' PostgreSQL server stops, and its directory goes, on every exit path of the
test process: a normal end, a failure, SIGTERM, SIGINT, SIGKILL (issue 13: stopping
`make test` with SIGTERM left the server running)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

#: A test session that starts the server (the real fixture), says where it is, then
#: waits, ends, or fails.
_SESSION = """
import json, os, time

def test_hold(postgres_server):
    print(json.dumps({"pid": postgres_server.postmaster_pid,
                      "workdir": str(postgres_server.workdir)}), flush=True)
    how = os.environ["HOLD"]
    if how == "fail":
        raise RuntimeError("a failing test")
    if how == "wait":
        time.sleep(120)
"""


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["end", "fail", "SIGTERM", "SIGINT", "SIGKILL"])
def test_the_server_never_outlives_the_tests(how: str, tmp_path: Path) -> None:
    (tmp_path / "test_hold.py").write_text(_SESSION)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), *sys.path])
    env["HOLD"] = "wait" if how.startswith("SIG") else how
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-s",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_hold.py"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    server = None
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if line.startswith("{"):
                server = json.loads(line)
                break
        assert server is not None, "".join(output)
        assert server["pid"] and running(server["pid"])
        if how.startswith("SIG"):
            os.kill(proc.pid, getattr(signal, how))  # the pytest process alone
        proc.communicate(timeout=60)
        assert wait_until(lambda: not running(server["pid"])), f"the server outlived ({how})"
        assert wait_until(lambda: not Path(server["workdir"]).exists()), "its directory stayed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if server and running(server["pid"]):
            os.kill(server["pid"], signal.SIGKILL)
