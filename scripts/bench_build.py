#!/usr/bin/env python
"""Benchmark of one product's part of the dbt build: wall time, peak memory, slowest models.

Generates the dataset (or reuses ``--duckdb`` when it already holds raw data), builds
everything upstream of the product untimed (seeds, staging), then times
``dbt run --select <the product's models>`` in a child process under ``/usr/bin/time -v``
(peak RSS of dbt and DuckDB, which run in that process) and prints a Markdown section
with the figures and the slowest models from ``run_results.json``.

    .venv/bin/python scripts/bench_build.py --product coaching --scale medium
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dataproducts_pipeline.build import DBT_THREAD_ENVIRONMENT

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: product -> (dbt selector of its models, target on the 2-core reference machine)
PRODUCTS = {
    "coaching": ("path:models/intermediate/coaching path:models/marts/coaching", "≤ 20 s"),
}


def _dbt(args: list[str], env: dict[str, str], target_path: Path) -> list[str]:
    return [
        str(BIN / "dbt"),
        *args,
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--product", choices=sorted(PRODUCTS), required=True)
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duckdb", type=Path, help="reuse this warehouse file if it has raw data")
    args = ap.parse_args()
    selector, target = PRODUCTS[args.product]

    work = Path(tempfile.mkdtemp(prefix=f"bench-{args.product}-"))
    path = args.duckdb or work / f"{args.scale}.duckdb"
    env = {
        **DBT_THREAD_ENVIRONMENT,  # the thread settings `dataproducts build` gives dbt
        **os.environ,
        "DATAPRODUCTS_DUCKDB": str(path),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if not path.exists():
        subprocess.run(
            [
                str(BIN / "dataproducts"),
                "generate",
                "--scale",
                args.scale,
                "--seed",
                str(args.seed),
                "--quiet",
            ],
            env=env,
            check=True,
            cwd=REPO,
            capture_output=True,
        )
    upstream = work / "target-upstream"
    subprocess.run(
        _dbt(["build", "--select", f"+{selector.replace(' ', ' +')}", "--exclude", selector,
              "--exclude-resource-type", "test", "unit_test"], env, upstream),
        env=env, check=True, cwd=REPO, capture_output=True,
    )  # fmt: skip
    timed = work / "target-timed"
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *_dbt(["run", "--select", selector], env, timed)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
        return 1
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    results = json.loads((timed / "run_results.json").read_text())["results"]
    models_s = sum(r["execution_time"] for r in results)
    slow = sorted(results, key=lambda r: -r["execution_time"])[:5]
    print(f"Scale `{args.scale}` (seed {args.seed}); `dbt run --select {selector}` on DuckDB.\n")
    print("| scale | models | wall (s) | sum of model times (s) | peak RSS (GB) | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(
        f"| {args.scale} | {len(results)} | {wall:.1f} | {models_s:.1f} | "
        f"{rss_kb / 2**20:.2f} | {target} wall |"
    )
    print("\nSlowest models:\n")
    print("| model | seconds |")
    print("|---|---:|")
    for r in slow:
        print(f"| {r['unique_id'].split('.')[-1]} | {r['execution_time']:.2f} |")
    print(
        "\nWall time includes dbt's own start-up and parsing (a few seconds on this machine); "
        "the sum of model times is the work done in the warehouse."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
