"""Benchmark of the recommendations product (run by hand; results go to BENCHMARKS.md).

1. The recommendations part of the build: staging is built first (not timed), then
   ``dbt run`` of models/intermediate/recommendations + models/marts/recommendations is
   timed, with per-model times (ALS fit and scoring included) and the peak memory (max RSS)
   of the dbt process.
2. Item-to-item similarity, ours vs a reference in one run, on the same interactions (the
   distinct learner-course pairs up to the serving snapshot): ours = the compiled SQL of
   int_course_similarities_scored on DuckDB; the reference = SAR's formulas with
   numpy/scipy (``dataproducts.recommendations.cooccurrence_similarity``, a sparse
   user-item product as in microsoft/recommenders' SARSingleNode). Reports both times, the
   speed-up, and whether every course's top-10 similar courses agree.

    .venv/bin/python scripts/bench_recommendations.py --scale medium --duckdb /tmp/bench/medium.duckdb
    .venv/bin/python scripts/bench_recommendations.py --duckdb /tmp/bench/medium.duckdb --skip-generate
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

from dataproducts.recommendations import cooccurrence_similarity, top_similar  # noqa: E402

DBT = Path(sys.executable).parent / "dbt"
SELECT = ["path:models/intermediate/recommendations", "path:models/marts/recommendations"]


def dbt(args: list[str], duckdb_path: Path, target_path: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.update(DBT_PROFILES_DIR=str(REPO), DATAPRODUCTS_DUCKDB=str(duckdb_path))
    start = time.perf_counter()
    proc = subprocess.run(
        [
            str(DBT),
            *args,
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
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}")
    return elapsed


def bench_build(duckdb_path: Path, target_path: Path) -> dict:
    dbt(
        ["run", "--select", *[f"+{s}" for s in SELECT], "--exclude", *SELECT],
        duckdb_path,
        target_path,
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    elapsed = dbt(["run", "--select", *SELECT], duckdb_path, target_path)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    per_model = {
        ".".join(r["unique_id"].split(".")[2:]): round(r["execution_time"], 2)
        for r in sorted(results, key=lambda r: -r["execution_time"])
    }
    return {
        "wall_seconds": round(elapsed, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "peak_rss_note": "max RSS of any dbt child so far"
        if before
        else "max RSS of the dbt process",
        "als_seconds": round(
            per_model.get("int_als_factors_fitted", 0)
            + per_model.get("int_als_recommendations_ranked", 0),
            2,
        ),
        "per_model_seconds": per_model,
    }


def bench_similarity(duckdb_path: Path, target_path: Path, k: int = 10) -> dict:
    compiled = next(
        (target_path / "compiled").rglob("int_course_similarities_scored.sql")
    ).read_text()
    with duckdb.connect(str(duckdb_path)) as con:
        as_of = con.execute(
            "select as_of from intermediate.int_recommendation_snapshots_defined "
            "where snapshot_name = 'serving'"
        ).fetchone()[0]
        pairs = con.execute(
            "select distinct learner_id as user, course_id as item from staging.stg_raw__events "
            "where occurred_at <= ?",
            [as_of],
        ).df()
        con.execute("create or replace temp table bench_pairs as select * from pairs")
        con.execute(
            "create or replace temp table bench_affinities as select 'serving' as snapshot_name, "
            "user as learner_id, item as course_id from bench_pairs"
        )
        relation = next(
            line.split("from ")[1].strip()
            for line in compiled.splitlines()
            if "int_learner_course_affinities_decayed" in line and "from " in line
        )
        sql = compiled.replace(relation, "bench_affinities")
        method = con.execute(f"select any_value(method) from ({sql})").fetchone()[0]
        min_co = con.execute(f"select coalesce(min(n_both), 1) from ({sql})").fetchone()[0]
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            ours = con.execute(f"select * from ({sql}) where similarity_rank <= {k}").df()
            timings.append(time.perf_counter() - start)
    ours_seconds = min(timings)
    ref_timings = []
    for _ in range(3):
        start = time.perf_counter()
        reference = top_similar(cooccurrence_similarity(pairs, method, int(min_co)), k)
        ref_timings.append(time.perf_counter() - start)
    ref_seconds = min(ref_timings)
    ours_top = (
        ours.sort_values(["course_id", "similarity_rank"])
        .groupby("course_id")["similar_course_id"]
        .apply(list)
    )
    ref_top = reference.sort_values(["item", "rank"]).groupby("item")["similar_item"].apply(list)
    same = ours_top.index.equals(ref_top.index) and all(
        a == b for a, b in zip(ours_top, ref_top, strict=True)
    )
    merged = ours.merge(
        reference, left_on=["course_id", "similar_course_id"], right_on=["item", "similar_item"]
    )
    return {
        "interactions": len(pairs),
        "method": method,
        "ours_seconds": round(ours_seconds, 3),
        "reference_seconds": round(ref_seconds, 3),
        "speedup": round(ref_seconds / ours_seconds, 2),
        "same_top10": bool(same),
        "max_abs_similarity_diff": float(
            np.max(np.abs(merged["similarity_x"] - merged["similarity_y"]))
        )
        if len(merged)
        else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="medium", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--duckdb", type=Path, required=True, help="warehouse file (created or reused)"
    )
    parser.add_argument("--target-path", type=Path, default=None)
    parser.add_argument(
        "--skip-generate", action="store_true", help="reuse the raw data in --duckdb"
    )
    args = parser.parse_args()
    target_path = args.target_path or args.duckdb.parent / "bench-target"
    if not args.skip_generate:
        from dataproducts.generate import generate

        start = time.perf_counter()
        generate(args.scale, seed=args.seed, duckdb_path=args.duckdb, progress=False)
        print(f"generated {args.scale} in {time.perf_counter() - start:.1f} s", flush=True)
    print(json.dumps({"build": bench_build(args.duckdb, target_path)}, indent=2), flush=True)
    print(json.dumps({"similarity": bench_similarity(args.duckdb, target_path)}, indent=2))


if __name__ == "__main__":
    main()
