#!/usr/bin/env python
"""Benchmark of the experiments part of the dbt build: wall time of its models.

Generates ``--scale`` data into a temporary DuckDB file, builds what the experiments
product reads (staging and seeds, not timed), then times

    dbt run --select path:models/intermediate/experiments path:models/marts/experiments

and prints one Markdown table row (``--header`` adds the header):

    | scale | learners | exposures | units x metrics | wall (s) | models (s) | target |

wall = the whole ``dbt run`` command (≈ 6 s of it is dbt starting and parsing);
models = the sum of the models' execution times from run_results.json. Target on the 2-core reference machine: medium ≤ 20 s (issue 4).

    .venv/bin/python scripts/bench_experiments.py --scale medium --header
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
TARGETS = {"tiny": "-", "small": "-", "medium": "≤ 20 s", "large": "-"}
HEADER = (
    "| scale | learners | exposures | units x metrics | wall (s) | models (s) | target |\n"
    "|---|---:|---:|---:|---:|---:|---|"
)
EXPERIMENTS = ["path:models/intermediate/experiments", "path:models/marts/experiments"]


def _dbt(env: dict[str, str], work: Path, *args: str) -> None:
    cmd = [
        str(DBT),
        *args,
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{proc.stdout[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=list(TARGETS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--header", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary warehouse.")
    args = parser.parse_args()

    from dataproducts.generate import generate

    work = Path(tempfile.mkdtemp(prefix="bench_experiments_"))
    path = work / "warehouse.duckdb"
    try:
        generate(scale=args.scale, seed=args.seed, target="dev", duckdb_path=path, progress=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
        env.update(DBT_PROFILES_DIR=str(REPO), DATAPRODUCTS_DUCKDB=str(path))
        # what the experiments models read, built first and not timed
        _dbt(env, work, "seed", "--select", "path:seeds")
        _dbt(
            env, work, "run", "--select", *[f"+{s}" for s in EXPERIMENTS], "--exclude", *EXPERIMENTS
        )
        start = time.perf_counter()
        _dbt(env, work, "run", "--select", *EXPERIMENTS)
        wall = time.perf_counter() - start
        import json

        run_results = json.loads((work / "target" / "run_results.json").read_text())
        models = sum(r["execution_time"] for r in run_results["results"])

        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            learners = con.execute("select count(*) from staging.stg_raw__learners").fetchone()[0]
            exposures = con.execute(
                "select count(*) from staging.stg_raw__experiment_exposures"
            ).fetchone()[0]
            rows = con.execute("select count(*) from marts.experiment_unit_metrics").fetchone()[0]
        if args.header:
            print(HEADER)
        print(
            f"| {args.scale} | {learners:,} | {exposures:,} | {rows:,} | {wall:.1f} | {models:.1f} "
            f"| {TARGETS[args.scale]} |"
        )
    finally:
        if args.keep:
            print(f"warehouse kept at {path}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
