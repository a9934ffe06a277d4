#!/usr/bin/env python
"""Benchmark of the experiments part of the dbt build; prints a Markdown section.

Generates ``--scale`` data into a DuckDB file (a temporary one unless ``--duckdb``),
builds what the experiments product reads (seeds and staging; not timed), then times

    dbt run --select path:models/intermediate/experiments path:models/marts/experiments

``--repeat`` times and prints, in Markdown: the data sizes, the wall time of each timed
``dbt run`` (the whole command, including ≈ 5-6 s of dbt starting and parsing), the sum
of the models' execution times from run_results.json, the peak memory (max RSS) of the
dbt process, and the per-model times of the fastest run. Target on the 2-core reference
machine (issue 4): the experiments part of the build at medium ≤ 20 s.

The load average is printed beside the figures: on a shared machine the same run can
take twice as long; compare figures taken on a quiet machine only.

    .venv/bin/python scripts/bench_experiments.py --scale medium
    .venv/bin/python scripts/bench_experiments.py --duckdb /tmp/b/medium.duckdb --skip-generate
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dataproducts_pipeline.build import DBT_THREAD_ENVIRONMENT

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
TARGETS = {"tiny": "-", "small": "-", "medium": "≤ 20 s", "large": "-"}
EXPERIMENTS = ["path:models/intermediate/experiments", "path:models/marts/experiments"]


@dataclass(frozen=True)
class Run:
    wall_s: float
    models_s: float
    max_rss_mib: float
    models: tuple[tuple[str, float], ...]  # (model, execution seconds), slowest first
    load_before: float
    load_after: float


def _env(path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.update(
        DBT_PROFILES_DIR=str(REPO),
        DATAPRODUCTS_DUCKDB=str(path),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    # the thread settings `dataproducts build` gives dbt (unless set here already)
    return {**DBT_THREAD_ENVIRONMENT, **env}


def _dbt(path: Path, work: Path, *args: str) -> tuple[float, float]:
    """Runs dbt; returns (wall seconds, max RSS of the dbt process in MiB)."""
    cmd = [str(DBT), *args, "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    log = work / "dbt.out"
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=_env(path), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{log.read_text()[-3000:]}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def timed_run(path: Path, work: Path) -> Run:
    load_before = os.getloadavg()[0]
    wall, rss = _dbt(path, work, "run", "--select", *EXPERIMENTS)
    load_after = os.getloadavg()[0]
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    models = sorted(
        ((r["unique_id"].split(".")[-1], float(r["execution_time"])) for r in results),
        key=lambda m: -m[1],
    )
    return Run(wall, sum(t for _, t in models), rss, tuple(models), load_before, load_after)


def sizes(path: Path) -> dict[str, int]:
    import duckdb

    queries = {
        "learners": "select count(*) from staging.stg_raw__learners",
        "events": "select count(*) from staging.stg_raw__events",
        "exposures": "select count(*) from staging.stg_raw__experiment_exposures",
        "units": "select count(*) from intermediate.int_experiment_units_assigned",
        "unit_metrics": "select count(*) from marts.experiment_unit_metrics",
    }
    with duckdb.connect(str(path), read_only=True) as con:
        return {k: int(con.execute(q).fetchone()[0]) for k, q in queries.items()}


def markdown(scale: str, seed: int, size: dict[str, int], runs: list[Run]) -> str:
    best = min(runs, key=lambda r: r.wall_s)
    lines = [
        f"### Experiments build, `{scale}` (seed {seed})",
        "",
        f"{size['learners']:,} learners, {size['events']:,} staged events, "
        f"{size['exposures']:,} exposures → {size['units']:,} analysis units, "
        f"{size['unit_metrics']:,} unit x metric rows.",
        "",
        "| run | wall (s) | models (s) | peak RSS (MiB) | load avg before → after | target |",
        "|---:|---:|---:|---:|---|---|",
    ]
    for i, r in enumerate(runs, start=1):
        lines.append(
            f"| {i} | {r.wall_s:.1f} | {r.models_s:.1f} | {r.max_rss_mib:,.0f} "
            f"| {r.load_before:.1f} → {r.load_after:.1f} | {TARGETS[scale]} |"
        )
    lines += [
        "",
        f"Per model, fastest run ({best.wall_s:.1f} s wall):",
        "",
        "| model | execution (s) |",
        "|---|---:|",
        *[f"| {name} | {t:.2f} |" for name, t in best.models],
        "",
        "wall = the whole `dbt run` command (≈ 5-6 s of it is dbt starting and parsing); "
        "models = the sum of the models' execution times (run_results.json: the query, the "
        "contract's create + insert and the column comments of `persist_docs`); peak RSS = "
        "max resident memory of the dbt process (DuckDB runs inside it). Figures from a "
        "machine with 2 cores shared with other jobs are noisy (a load average above 2 "
        "means the run waited for CPU): compare runs taken on a quiet machine.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=list(TARGETS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="Timed runs (default 2).")
    parser.add_argument("--duckdb", type=Path, help="Warehouse file to use and keep.")
    parser.add_argument(
        "--skip-generate", action="store_true", help="Reuse the raw data already in --duckdb."
    )
    args = parser.parse_args()
    if args.skip_generate and not (args.duckdb and args.duckdb.exists()):
        sys.exit("--skip-generate needs an existing --duckdb file.")

    from dataproducts_pipeline.generate import generate

    work = Path(tempfile.mkdtemp(prefix="bench_experiments_"))
    path = args.duckdb.resolve() if args.duckdb else work / "warehouse.duckdb"
    try:
        if not args.skip_generate:
            generate(
                scale=args.scale, seed=args.seed, target="dev", duckdb_path=path, progress=False
            )
        # what the experiments models read, built first and not timed
        _dbt(path, work, "seed", "--select", "path:seeds")
        deps = [f"+{s}" for s in EXPERIMENTS]
        _dbt(path, work, "run", "--select", *deps, "--exclude", *EXPERIMENTS)
        runs = [timed_run(path, work) for _ in range(max(1, args.repeat))]
        print(markdown(args.scale, args.seed, sizes(path), runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
