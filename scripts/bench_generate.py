#!/usr/bin/env python
"""Benchmark of the synthetic data generator: wall time and peak memory.

Runs ``dataproducts generate --scale X --quiet`` in a subprocess writing into a
temporary DuckDB file, and prints one Markdown table row (``--header`` adds the header):

    | scale | learners | courses | days | events | rows | wall (s) | peak RSS (GB) | target |

Peak RSS is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after the child exits
(the largest resident set of the generator process). Targets on the 2-core reference
machine: medium ≤ 60 s; large ≤ 10 min and ≤ 8 GB.

    .venv/bin/python scripts/bench_generate.py --scale medium --header
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"tiny": "—", "small": "—", "medium": "≤ 60 s", "large": "≤ 600 s, ≤ 8 GB"}
HEADER = (
    "| scale | learners | courses | days | events | rows | wall (s) | peak RSS (GB) | target |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|"
)


def _command() -> list[str]:
    exe = Path(sys.executable).parent / "dataproducts"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dataproducts.cli"]


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{mem:.0f} GB RAM, Python {platform.python_version()}, {platform.system()}"
    )


def run(scale: str, seed: int, keep: Path | None) -> str:
    import duckdb

    from dataproducts_pipeline.generator.config import SCALES
    from dataproducts_pipeline.raw_contract import RAW_TABLES

    tmp = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    path = (keep or tmp) / f"bench-{scale}.duckdb"
    path.unlink(missing_ok=True)
    env = {**os.environ, "DATAPRODUCTS_DUCKDB": str(path)}
    cmd = [*_command(), "generate", "--scale", scale, "--seed", str(seed), "--quiet"]
    try:
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"generate failed ({done.returncode}):\n{done.stderr}")
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB → GiB
        con = duckdb.connect(str(path), read_only=True)
        counts = {
            name: con.execute(f"select count(*) from raw.{name}").fetchone()[0]
            for name in RAW_TABLES
        }
        con.close()
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = sum(counts.values())
    preset = SCALES[scale]
    return (
        f"| {scale} | {counts['learners']:,} | {counts['courses']:,} | {preset.days} | "
        f"{counts['events']:,} | {rows:,} | "
        f"{wall:.1f} | {peak_gb:.2f} | {TARGETS.get(scale, '')} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", choices=list(TARGETS), default="medium")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--header", action="store_true", help="print the table header first")
    ap.add_argument("--machine", action="store_true", help="print the machine description")
    ap.add_argument("--keep", type=Path, help="keep the DuckDB file in this directory")
    args = ap.parse_args()
    if args.machine:
        print(f"Machine: {machine()}\n")
    if args.header:
        print(HEADER)
    print(run(args.scale, args.seed, args.keep), flush=True)


if __name__ == "__main__":
    main()
