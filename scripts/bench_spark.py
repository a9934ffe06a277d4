#!/usr/bin/env python
"""Benchmark: the full build on DuckDB and on Spark ``local[2]``, in one run, same data.

For one scale: the raw data is generated once (DuckDB), then

- DuckDB: ``dataproducts build`` (every model, data and unit test, the validation gate,
  publish) under ``/usr/bin/time -v``;
- Spark: a local server is started (Thrift and Spark Connect in one JVM, ``local[2]``),
  the same raw tables are put into it (``generate --target spark``, which regenerates
  them deterministically from the same seed), then ``dataproducts build --target spark``
  (the same steps; publish reads Spark's Parquet files into a local snapshot).

Printed: wall time and peak memory of each (the build process: dbt, DuckDB or the Spark
Connect client; for Spark also the server JVM's peak resident set, ``VmHWM``), the
ratio, where Spark's time goes (server start, loading raw, dbt build, publish), the
slowest nodes of each, and each engine's offline NDCG@10 of every module from
``recommendation_evaluation`` (ALS on Spark is MLlib's, on DuckDB the ``implicit``
package's).

    .venv/bin/python scripts/bench_spark.py --scale small
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb

from dataproducts_pipeline.spark_server import start_server

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, peak RSS (KiB), its output
    (stdout and stderr, where the build prints its steps)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], env=env, cwd=REPO, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"failed (exit {proc.returncode}): {' '.join(cmd)}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return wall, rss, proc.stdout + proc.stderr


def _jvm_peak_kib(pid: int | None) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) if match else None


class _WorkerSampler:
    """The peak of the summed resident set (``VmRSS``) of the Python processes under the
    JVM ``pid``: Spark's Python workers (the ALS ranking's pandas function), which the JVM's
    own figure leaves out. Sampled every ``interval`` seconds on a thread, so a peak
    shorter than that can be missed."""

    def __init__(self, pid: int | None, interval: float = 0.5) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kib, self.most_processes = 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _WorkerSampler:
        if self.pid is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            children: dict[int, list[int]] = {}
            rss: dict[int, int] = {}
            for status in Path("/proc").glob("[0-9]*/status"):
                with contextlib.suppress(OSError, AttributeError, ValueError):
                    text = status.read_text()
                    pid = int(status.parent.name)
                    ppid = int(re.search(r"PPid:\s+(\d+)", text).group(1))
                    children.setdefault(ppid, []).append(pid)
                    match = re.search(r"VmRSS:\s+(\d+) kB", text)
                    # Python processes only: a child the JVM is spawning shows the JVM's
                    # own resident set until it execs
                    python = re.search(r"^Name:\s+python", text, flags=re.M)
                    rss[pid] = int(match.group(1)) if match and python else 0
            total, count, stack = 0, 0, list(children.get(self.pid, []))
            while stack:
                child = stack.pop()
                stack += children.get(child, [])
                if rss.get(child):
                    total, count = total + rss[child], count + 1
            self.peak_kib = max(self.peak_kib, total)
            self.most_processes = max(self.most_processes, count)


def _step_seconds(output: str, label: str) -> float | None:
    """A build's step time from its own step lines (``publish: copied (+2.1 s, ...)``,
    ``dbt build: built (+80.2 s, ...)``), summed over the steps of ``label``."""
    steps = re.findall(rf"^{label}: [^(]+\(\+([\d.]+) s", output, flags=re.M)
    return sum(float(s) for s in steps) if steps else None


def _slowest(target_path: Path, n: int = 6) -> list[tuple[str, float]]:
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    slow = sorted(results, key=lambda r: -r["execution_time"])[:n]
    # unique ids are resource.project.name[.version|.hash]: keep what follows the project
    # (a unit test is model.test_name; dbt ends a shortened data-test name in a hash)
    return [(".".join(r["unique_id"].split(".")[2:]), r["execution_time"]) for r in slow]


def _ndcg(published: Path) -> dict[str, float]:
    from dataproducts.snapshots import SNAPSHOT_FILE, current

    snapshot = Path(current(published).location) / SNAPSHOT_FILE
    with contextlib.closing(duckdb.connect(str(snapshot), read_only=True)) as con:
        rows = con.execute(
            "select module, ndcg_at_k from marts.recommendation_evaluation order by module"
        ).fetchall()
    return {m: float(v) for m, v in rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--driver-memory", default="8g")
    ap.add_argument("--shuffle-partitions", type=int, default=4)
    ap.add_argument("--header", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix=f"bench-spark-{args.scale}-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    base.update({"DBT_PROFILES_DIR": str(REPO), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    generate = [
        str(BIN / "dataproducts"),
        "generate",
        "--scale",
        args.scale,
        "--seed",
        str(args.seed),
        "--quiet",
    ]
    try:
        # DuckDB
        duck_env = {**base, "DATAPRODUCTS_DUCKDB": str(work / "duckdb" / "warehouse.duckdb")}
        (work / "duckdb").mkdir()
        subprocess.run(generate, env=duck_env, cwd=REPO, check=True, capture_output=True)
        duck_target = work / "duckdb" / "target"
        d_wall, d_rss, d_out = timed(
            [str(BIN / "dataproducts"), "build", "--target-path", str(duck_target)], duck_env
        )
        d_ndcg = _ndcg(work / "duckdb" / "published")

        # Spark
        t0 = time.perf_counter()
        server = start_server(
            workdir=work / "spark-server",
            driver_memory=args.driver_memory,
            shuffle_partitions=args.shuffle_partitions,
        )
        started = time.perf_counter() - t0
        try:
            spark_env = {
                **base,
                **server.env,
                "DATAPRODUCTS_SPARK_RAW_DIR": str(work / "spark_raw"),
                "DATAPRODUCTS_DUCKDB": str(work / "spark" / "warehouse.duckdb"),
            }
            (work / "spark").mkdir()
            t0 = time.perf_counter()
            subprocess.run(
                [*generate, "--target", "spark"],
                env=spark_env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            loaded = time.perf_counter() - t0
            spark_target = work / "spark" / "target"
            with _WorkerSampler(server.jvm_pid) as workers:
                s_wall, s_rss, s_out = timed(
                    [
                        str(BIN / "dataproducts"),
                        "build",
                        "--target",
                        "spark",
                        "--target-path",
                        str(spark_target),
                    ],
                    spark_env,
                )
            jvm_kib = _jvm_peak_kib(server.jvm_pid)
        finally:
            server.stop()
        s_ndcg = _ndcg(work / "spark" / "published")
        d_slow, s_slow = _slowest(duck_target), _slowest(spark_target)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    gib = 2**20
    if args.header:
        print(
            "Full build (`dataproducts build`: every model, data and unit test, the validation "
            "gate, publish) on DuckDB and on Spark `local[2]` (a local Thrift + Spark Connect "
            f"server, {args.shuffle_partitions} shuffle partitions, driver memory "
            f"{args.driver_memory}), on the same raw data, one after the other in this run.\n"
        )
    print(f"### {args.scale} (seed {args.seed})\n")
    print(
        "| engine | build wall (s) | ratio | peak RSS, build process (GiB) "
        "| peak RSS, Spark JVM (GiB) | peak RSS, Spark Python workers together (GiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| DuckDB | {d_wall:.1f} | 1.0 | {d_rss / gib:.2f} | — | — |")
    jvm = f"{jvm_kib / gib:.2f}" if jvm_kib else "n/a"
    print(
        f"| Spark local[2] | {s_wall:.1f} | {s_wall / d_wall:.1f} | {s_rss / gib:.2f} "
        f"| {jvm} | {workers.peak_kib / gib:.2f} (at most {workers.most_processes} processes) |"
    )
    nan = float("nan")

    def seconds(output: str, label: str) -> float:
        value = _step_seconds(output, label)
        return nan if value is None else value

    print(
        "\n| step | DuckDB (s) | Spark (s) |\n|---|---:|---:|\n"
        f"| server start | — | {started:.1f} |\n"
        f"| raw tables in (`generate --target spark`; not in the build) | — | {loaded:.1f} |\n"
        f"| dbt build (models, data and unit tests) | {seconds(d_out, 'dbt build'):.1f} | "
        f"{seconds(s_out, 'dbt build'):.1f} |\n"
        f"| gate + publish (Spark: Parquet read into a local stage first) | "
        f"{seconds(d_out, 'publish'):.1f} | {seconds(s_out, 'publish'):.1f} |\n"
    )
    print("Slowest nodes:\n")
    print("| DuckDB node | s | Spark node | s |")
    print("|---|---:|---|---:|")
    for (dn, ds), (sn, ss) in zip(d_slow, s_slow, strict=False):
        print(f"| {dn} | {ds:.1f} | {sn} | {ss:.1f} |")
    print("\nOffline NDCG@10 (`recommendation_evaluation`), same data:\n")
    print("| module | DuckDB | Spark |")
    print("|---|---:|---:|")
    for module in sorted(set(d_ndcg) | set(s_ndcg)):
        d, s = d_ndcg.get(module), s_ndcg.get(module)
        print(
            f"| {module} | {d if d is not None else float('nan'):.4f} | {s if s is not None else float('nan'):.4f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
