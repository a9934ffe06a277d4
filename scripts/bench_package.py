"""Benchmark of the engineering side: the package over a published snapshot.

Prints a Markdown section (for BENCHMARKS.md) with three figures and their targets:

1. publishing a build (``dataproducts_pipeline.publish.publish``: copy every published relation into
   a new snapshot inside DuckDB while the validation gate, in a second thread, reads the
   same build's public marts and checks them, switch the pointer), median of
   ``--publishes`` runs, with the time of each step and the process's CPU time — target
   ≤ 10 s at ``medium``;
2. one learner's recommendations from a warm client
   (``client.recommendations.for_learner(learner_id)``), ``--lookups`` calls on random
   learners of the snapshot, each timed alone — target p99 ≤ 2 ms;
3. recommendation rows into pandas (``client.recommendations.frame(module="popular")``,
   the bulk read a batch job makes, ≈ 1M rows at ``medium``; every row at smaller scales)
   — target 1M rows ≤ 1 s, judged only when at least 1M rows were read.

The dataset is generated and built first (not timed): ``dbt run`` of the whole project on
a private DuckDB file (``dbt seed`` then ``dbt run``: the data tests are not what is
measured). Benchmarks are not tests: nothing fails on a slow figure.

    .venv/bin/python scripts/bench_package.py --scale medium --workdir /tmp/bench-package
    .venv/bin/python scripts/bench_package.py --workdir /tmp/bench-package --skip-build
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

DBT = Path(sys.executable).parent / "dbt"

TARGET_PUBLISH_S = 10.0
TARGET_LOOKUP_P99_MS = 2.0
TARGET_FRAME_S_PER_MILLION = 1.0


def build(scale: str, seed: int, warehouse: Path, target_path: Path) -> dict[str, float]:
    """Generate ``scale`` and ``dbt run`` the project into ``warehouse`` (setup, not a figure)."""
    from dataproducts_pipeline.generate import generate

    timings = {}
    started = time.perf_counter()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    generate(scale=scale, seed=seed, target="dev", duckdb_path=warehouse, progress=False)
    timings["generate"] = time.perf_counter() - started
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.update(
        DBT_PROFILES_DIR=str(REPO),
        DATAPRODUCTS_DUCKDB=str(warehouse),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    started = time.perf_counter()
    for command in ("seed", "run"):
        proc = subprocess.run(
            [
                str(DBT),
                command,
                "--target",
                "dev",
                "--target-path",
                str(target_path),
                "--log-path",
                str(target_path / "logs"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.exit(f"dbt {command} failed:\n{proc.stdout[-4000:]}")
    timings["dbt_run"] = time.perf_counter() - started
    return timings


def bench_publish(
    warehouse: Path, target_path: Path, published: Path, docs: Path, runs: int
) -> tuple[list[float], dict[str, float], str]:
    """Publish ``runs`` times; total seconds of each, median seconds per step (and of the
    gate, which runs alongside the copy: ``gate``; and the process's CPU seconds, all
    threads: ``cpu``), last build id."""
    from dataproducts_pipeline.publish import publish

    totals: list[float] = []
    steps: dict[str, list[float]] = {}
    build_id = ""
    for _ in range(runs):
        marks: list[tuple[str, float]] = []
        cpu_started = time.process_time()
        started = time.perf_counter()
        info = publish(
            warehouse,
            target_path=target_path,
            published_dir=published,
            data_docs_dir=docs,
            keep=2,
            on_step=lambda name, marks=marks: marks.append((name, time.perf_counter())),
        )
        totals.append(time.perf_counter() - started)
        steps.setdefault("cpu", []).append(time.process_time() - cpu_started)
        previous = started
        for name, at in marks:
            steps.setdefault(name, []).append(at - previous)
            previous = at
        steps.setdefault("gate", []).append(float(info.manifest["validation"]["seconds"]))
        build_id = info.build_id
    return totals, {k: statistics.median(v) for k, v in steps.items()}, build_id


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of already sorted values."""
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n q / 100), at least 1
    return sorted_values[int(rank) - 1]


def bench_lookups(published: Path, lookups: int, seed: int) -> dict[str, float]:
    import numpy as np

    import dataproducts

    with dataproducts.connect(published) as client:
        learners = client.handle().frame("select distinct learner_id from {recommendations}")
        ids = learners["learner_id"].to_numpy()
        rng = np.random.default_rng(seed)
        # Warm: the first calls open cursors and fill caches; they are not measured.
        for learner_id in rng.choice(ids, size=min(500, lookups)):
            client.recommendations.for_learner(int(learner_id))
        sample = [int(i) for i in rng.choice(ids, size=lookups)]
        times: list[float] = []
        cpu: list[float] = []
        rows = 0
        for learner_id in sample:
            cpu_started = time.process_time_ns()
            started = time.perf_counter_ns()
            result = client.recommendations.for_learner(learner_id)
            times.append((time.perf_counter_ns() - started) / 1e6)
            cpu.append((time.process_time_ns() - cpu_started) / 1e6)
            rows += len(result)
    times.sort()
    cpu.sort()
    return {
        "cpu_p50": percentile(cpu, 50),
        "cpu_p99": percentile(cpu, 99),
        "lookups": lookups,
        "learners": len(ids),
        "rows_per_call": rows / lookups,
        "p50": percentile(times, 50),
        "p90": percentile(times, 90),
        "p99": percentile(times, 99),
        "p99.9": percentile(times, 99.9),
        "max": times[-1],
    }


def bench_frame(published: Path, repeats: int = 3) -> dict[str, float]:
    """Best of ``repeats`` bulk reads: one module (``popular``, ≈ 1M rows at ``medium``), or
    every row when that module has fewer than a million."""
    import dataproducts

    with dataproducts.connect(published) as client:
        popular = len(client.recommendations.frame(module="popular"))  # also warms up
        call = "frame(module='popular')" if popular >= 1_000_000 else "frame()"
        kwargs = {"module": "popular"} if popular >= 1_000_000 else {}
        seconds = []
        rows = 0
        for _ in range(repeats):
            started = time.perf_counter()
            frame = client.recommendations.frame(**kwargs)
            seconds.append(time.perf_counter() - started)
            rows = len(frame)
    best = min(seconds)
    return {"call": call, "rows": rows, "seconds": best, "per_million": best * 1e6 / max(rows, 1)}


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "**misses the target**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dataproducts-bench-package"))
    parser.add_argument("--skip-build", action="store_true", help="Reuse the workdir's build.")
    parser.add_argument("--publishes", type=int, default=3)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--header", action="store_true", help="Print the section heading.")
    args = parser.parse_args()

    warehouse = args.workdir / "warehouse.duckdb"
    target_path = args.workdir / "target"
    published = args.workdir / "published"
    docs = args.workdir / "data_docs"
    # as `dataproducts build` does: great-expectations imports while dbt builds, so the
    # first publish does not pay for it (with --skip-build it still does, in part)
    from dataproducts_pipeline.validation import preload

    preload()
    setup = {} if args.skip_build else build(args.scale, args.seed, warehouse, target_path)

    load_before = os.getloadavg()[0]
    totals, steps, build_id = bench_publish(warehouse, target_path, published, docs, args.publishes)
    lookups = bench_lookups(published, args.lookups, args.seed)
    frame = bench_frame(published)

    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rec_rows = con.execute("select count(*) from marts.recommendations_v1").fetchone()[0]

    publish_s = statistics.median(totals)
    out = []
    if args.header:
        out += ["### The package: published snapshots and lookups", ""]
    out += [
        f"Scale `{args.scale}` (seed {args.seed}; {lookups['learners']:,} learners with "
        f"recommendations, {rec_rows:,} recommendation rows), snapshot `{build_id}`."
        + (
            f" Setup, not timed as a figure: generate {setup['generate']:.1f} s, "
            f"`dbt seed` + `dbt run` {setup['dbt_run']:.1f} s."
            if setup
            else ""
        ),
        "",
        "| figure | result | target |",
        "|---|---|---|",
        f"| publish a build (median of {len(totals)}) | {publish_s:.2f} s | ≤ {TARGET_PUBLISH_S:.0f} s: "
        f"{verdict(publish_s <= TARGET_PUBLISH_S)} |",
        f"| — the validation gate (great-expectations, Data Docs), alongside the copy | "
        f"{steps.get('gate', 0):.2f} s | |",
        f"| — the copy (each relation written into the snapshot, clustered by key) | "
        f"{steps.get('copied', 0):.2f} s | |",
        f"| `for_learner` warm, p99 of {lookups['lookups']:,} | {lookups['p99']:.3f} ms | "
        f"≤ {TARGET_LOOKUP_P99_MS:.0f} ms: {verdict(lookups['p99'] <= TARGET_LOOKUP_P99_MS)} |",
        f"| `{frame['call']}` into pandas (best of 3) | {frame['rows']:,} rows in "
        f"{frame['seconds']:.3f} s ({frame['per_million']:.3f} s per 1M rows) | 1M rows ≤ 1 s: "
        + (
            verdict(frame["per_million"] <= TARGET_FRAME_S_PER_MILLION)
            if frame["rows"] >= 1_000_000
            else "not judged below 1M rows (fixed costs dominate; use `--scale medium`)"
        )
        + " |",
        "",
        "Publish, median seconds per step: "
        + ", ".join(f"{k} {v:.2f}" for k, v in steps.items() if k not in ("gate", "cpu"))
        + " (`copied`: writing the snapshot, with the gate reading and checking the marts "
        "alongside; `validated`: the rest of "
        "the gate, Data Docs included, once the copy is done; each run's totals: "
        + ", ".join(f"{t:.2f}" for t in totals)
        + "). CPU time of the process per publish (all threads; median): "
        f"{steps.get('cpu', 0):.2f} s.",
        "",
        f"`for_learner` latency (ms): p50 {lookups['p50']:.3f}, p90 {lookups['p90']:.3f}, "
        f"p99 {lookups['p99']:.3f}, p99.9 {lookups['p99.9']:.3f}, max {lookups['max']:.3f}; "
        f"{lookups['rows_per_call']:.1f} rows per call; learners drawn at random (seed "
        f"{args.seed}) after 500 warm-up calls. CPU time of the process per call (all "
        f"threads; insensitive to other load on the machine): p50 {lookups['cpu_p50']:.3f}, "
        f"p99 {lookups['cpu_p99']:.3f} ms. Load average during the run: "
        f"{load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
