#!/usr/bin/env python
"""Benchmark: a full build, then incremental builds after one appended day.

For one scale and one engine (DuckDB, or Spark ``local[2]`` with ``--target spark``), in
one run, on one warehouse:

1. the raw data generated to D (untimed; on Spark, after a local server is started);
2. ``dataproducts build`` (dbt build of every model and test, the validation gate,
   publish) from nothing, under ``/usr/bin/time -v``: the full build;
3. one day appended (``generate --append``, untimed), then ``dataproducts build`` again:
   incremental where models are incremental (the event-like staging base models, the
   daily sums of events), in full elsewhere;
4. where the increments are, alone: staging, the daily sums and the affinities computed
   from them (``dbt run --select staging int_learner_course_days_summarized ...``):
   another day appended, then the incremental run, then ``--full-refresh`` on the same
   data.

Printed: wall time and peak RSS of each (on Spark also the server JVM's peak resident
set over the whole run), the ratios, the seconds of the models the increments change,
and what each incremental model added (`dataproducts build`'s own lines).

    .venv/bin/python scripts/bench_incremental.py --scale medium
    .venv/bin/python scripts/bench_incremental.py --scale medium --target spark
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from bench_spark import _jvm_peak_kib, _slowest, timed  # timed: wall s, peak RSS KiB, output

from dataproducts_pipeline.spark_server import start_server

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
D = date(2026, 11, 1)
#: Where the increments are: staging, the daily sums, and the affinities read from them.
SELECTION = [
    "staging",
    "int_learner_course_days_summarized",
    "int_recommendation_snapshots_defined",
    "int_learner_course_affinities_decayed",
]
#: The models whose seconds are printed.
MODELS = [
    "base_raw__events",
    "int_learner_course_days_summarized",
    "int_learner_course_affinities_decayed",
]


def _gib(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """:func:`timed`, with the peak RSS in GiB."""
    wall, rss, output = timed(cmd, env)
    return wall, rss / 2**20, output


def _increments(said: str) -> list[str]:
    """The build's report: its "incremental models:" line and the indented lines under it."""
    lines = said.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("incremental models:"))
    increments = [lines[first]]
    for line in lines[first + 1 :]:
        if not line.startswith("  "):
            break
        increments.append(line)
    return increments


def _events_added(increments: list[str]) -> tuple[int, int]:
    """Rows of base_raw__events (one per raw event) before the append, and rows added."""
    line = next(ln for ln in increments if ln.split()[0] == "base_raw__events")
    before, added = re.search(r"([\d,]+) → [\d,]+ rows \(\+([\d,]+)\)", line).groups()
    return int(before.replace(",", "")), int(added.replace(",", ""))


def _model_seconds(target: Path, name: str) -> float:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return next(r["execution_time"] for r in results if r["unique_id"].endswith("." + name))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", choices=["dev", "spark"], default="dev", help="dev: DuckDB")
    ap.add_argument("--driver-memory", default="8g", help="Spark's (as bench_spark.py)")
    ap.add_argument("--shuffle-partitions", type=int, default=4, help="Spark's")
    args = ap.parse_args()
    on_spark = args.target == "spark"

    work = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    path, target = work / "warehouse.duckdb", work / "target"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.update(
        DATAPRODUCTS_DUCKDB=str(path),
        DATAPRODUCTS_PUBLISHED_DIR=str(work / "published"),
        DBT_PROFILES_DIR=str(REPO),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    on = ["--target", args.target]
    cli, dbt = str(BIN / "dataproducts"), str(BIN / "dbt")
    common = [*on, "--target-path", str(target), "--log-path", str(work / "logs")]
    build = [cli, "build", *on, "--target-path", str(target)]

    def generate(*extra: str) -> None:
        subprocess.run(
            [cli, "generate", "--quiet", *on, *extra],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )

    server = None
    try:
        if on_spark:
            server = start_server(
                workdir=work / "spark-server",
                driver_memory=args.driver_memory,
                shuffle_partitions=args.shuffle_partitions,
            )
            env.update(server.env, DATAPRODUCTS_SPARK_RAW_DIR=str(work / "spark_raw"))
        generate("--scale", args.scale, "--seed", str(args.seed), "--end-date", f"{D}")
        full_wall, full_rss, _ = _gib(build, env)
        full_slowest = _slowest(target, 8)
        generate("--append", "--end-date", f"{D + timedelta(days=1)}")
        inc_wall, inc_rss, said = _gib(build, env)
        inc_slowest = _slowest(target, 8)
        increments = _increments(said)
        events, added = _events_added(increments)

        generate("--append", "--end-date", f"{D + timedelta(days=2)}")
        select = ["--select", *SELECTION]
        stg_inc, stg_inc_rss, _ = _gib([dbt, "run", *select, *common], env)
        models_inc = {name: _model_seconds(target, name) for name in MODELS}
        stg_full, stg_full_rss, _ = _gib([dbt, "run", *select, "--full-refresh", *common], env)
        models_full = {name: _model_seconds(target, name) for name in MODELS}
        jvm_kib = _jvm_peak_kib(server.jvm_pid) if server else None
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    engine = (
        f"Spark local[2], driver memory {args.driver_memory}, "
        f"{args.shuffle_partitions} shuffle partitions"
        if on_spark
        else "DuckDB"
    )
    print(f"### {args.scale} (seed {args.seed}, {engine})\n")
    print(
        f"Raw events to {D}: {events:,}; the appended day added {added:,} ({added / events:.2%}).\n"
    )
    print("| build | wall (s) | ratio to the full build | peak RSS (GiB) |")
    print("|---|---:|---:|---:|")
    print(
        f"| `dataproducts build`, from nothing (full) | {full_wall:.1f} | 1.00 | {full_rss:.2f} |"
    )
    print(
        f"| `dataproducts build` after one appended day (incremental) | {inc_wall:.1f} "
        f"| {inc_wall / full_wall:.2f} | {inc_rss:.2f} |"
    )
    print(
        "| staging, daily sums, affinities alone (`dbt run --select staging "
        f"int_learner_course_days_summarized ...`), incremental after one more day "
        f"| {stg_inc:.1f} | {stg_inc / stg_full:.2f} of its full refresh | {stg_inc_rss:.2f} |"
    )
    print(
        f"| the same, `--full-refresh` on the same data | {stg_full:.1f} | 1.00 "
        f"| {stg_full_rss:.2f} |"
    )
    if on_spark:
        jvm = f"{jvm_kib / 2**20:.2f} GiB" if jvm_kib else "n/a"
        print(
            "\nPeak RSS above: the build process (dbt, the Spark Connect client, the publish); "
            f"the Spark server's JVM peaked at {jvm} over the whole run."
        )
    print("\n| slowest nodes, full build | s | slowest nodes, incremental build | s |")
    print("|---|---:|---|---:|")
    for (f_name, f_s), (i_name, i_s) in zip(full_slowest, inc_slowest, strict=False):
        print(f"| {f_name} | {f_s:.1f} | {i_name} | {i_s:.1f} |")
    print("\n| model (in that run) | incremental (s) | full refresh (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name in MODELS:
        inc, full = models_inc[name], models_full[name]
        print(f"| `{name}` | {inc:.1f} | {full:.1f} | {inc / full:.2f} |")
    print()
    print("What `dataproducts build` said of its incremental models after the appended day:\n")
    print("```text")
    print("\n".join(increments))
    print("```")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
