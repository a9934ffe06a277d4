"""``dataproducts build``: dbt build, then the validation gate, then publish.

Nothing is published unless every step passes: a dbt model or test that fails, or an
expectation of the validation gate, raises :class:`~dataproducts.errors.BuildFailedError`
listing what failed, and the current snapshot keeps serving.

>>> info = build("dev")  # doctest: +SKIP
>>> info.build_id  # doctest: +SKIP
'20261121-155741-677649'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import BuildFailedError, ConfigurationError
from .paths import REPO_ROOT, default_duckdb_path
from .publish import SnapshotInfo, Step, default_target_path, publish

TARGETS = ("dev", "postgres")


def dbt_executable() -> str:
    """The dbt of this Python environment (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "dbt"
    return str(here) if here.exists() else "dbt"


def postgres_dsn() -> str:
    """The PostgreSQL database of dbt's ``postgres`` target (``DATAPRODUCTS_PG_*``)."""
    from .generator.postgres import dsn_from_env

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
    if echo is None:
        return subprocess.run(cmd, env=env, cwd=REPO_ROOT, check=False).returncode
    with subprocess.Popen(
        cmd, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            echo(line.rstrip("\n"))
        return proc.wait()


def dbt_failures(target_path: Path) -> list[str]:
    """The nodes that errored or failed in the last dbt invocation, with their message."""
    path = target_path / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text()).get("results", [])
    return [
        f"{r['unique_id']}: {r['status']}" + (f" — {r['message']}" if r.get("message") else "")
        for r in results
        if r["status"] in ("error", "fail", "runtime error")
    ]


def build(
    target: str = "dev",
    dbt_args: Sequence[str] = (),
    *,
    target_path: str | Path | None = None,
    published_dir: str | Path | None = None,
    keep: int | None = None,
    validate: bool = True,
    echo: Callable[[str], None] | None = None,
    on_step: Step | None = None,
) -> SnapshotInfo:
    """``dbt build`` on ``target`` (``dev``: DuckDB; ``postgres``), the validation gate,
    and publish; the new snapshot's info.

    ``dbt_args`` go to dbt as they are (e.g. ``["--select", "+recommendations"]``).
    ``validate=False`` skips the validation gate (tests of the publishing machinery
    only; the CLI always runs it). Raises :class:`BuildFailedError` (nothing published)
    when dbt or the gate fails.
    """
    if target not in TARGETS:
        raise ConfigurationError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    tp = Path(target_path) if target_path else default_target_path()
    if validate:
        from .validation import preload

        preload()  # great-expectations imports while dbt builds (seconds on a cold start)
    code = run_dbt(["build", *dbt_args], target=target, target_path=tp, echo=echo)
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
    source: str | Path = postgres_dsn() if target == "postgres" else default_duckdb_path()
    return publish(
        source,
        target_path=tp,
        published_dir=published_dir,
        keep=keep,
        validate=validate,
        on_step=on_step,
    )
