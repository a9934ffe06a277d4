"""Benchmark of the recommendations product; prints a Markdown section (``make bench``).

1. The recommendations part of the build. Raw data is generated (unless
   ``--skip-generate``), staging and seeds are built untimed, then ``dbt run`` of
   models/intermediate/recommendations + models/marts/recommendations is timed in a
   process of its own: wall time, CPU time and peak RSS of that dbt process (DuckDB runs
   inside it, so its memory is counted), and the per-model times of run_results.json.
2. ALS: the fit (int_als_factors_fitted) and the scoring (int_als_recommendations_ranked)
   times within that run, and a run of the ALS models alone afterwards (timed the same way).
3. Item-to-item similarity, ours vs a reference in one run, on the same interactions (the
   distinct learner-course pairs of the serving snapshot, in memory, sorted by learner as
   the model reads them): ours = ``dataproducts_pipeline.recommendations.snapshot_similarities``,
   the kernel of the dbt Python model int_course_similarities_computed (the DuckDB path:
   every ordered pair with its counts and similarity, as numpy arrays); also timed, the
   PostgreSQL path: the compiled SQL of int_course_similarities_scored with Python models
   off, run on DuckDB over those pairs (the serving snapshot's affinity rows and its
   snapshot row, the model's inputs for one snapshot), materialized in memory; its rows
   must equal the kernel's. The reference =
   microsoft/recommenders' ``SARSingleNode.fit`` (same similarity, threshold = our
   ``recommendations_min_cooccurrence``, no time decay) when the package imports, else
   the numpy/scipy implementation of the same formulas
   (``dataproducts_pipeline.recommendations.cooccurrence_similarity``). Best of three runs each.
   Agreement: every course's top-10 similar courses (similarity desc, then id) compared.

recommenders is a bench-only dependency: ``pip install --no-deps recommenders==1.2.1``
(pure Python; its declared dependencies are not needed for SARSingleNode). Its fit
still calls ``np.NaN``, which numpy 2 removed: the benchmark aliases it to ``np.nan``.

    python scripts/bench_recommendations.py --scale medium --duckdb /tmp/bench/medium.duckdb
    python scripts/bench_recommendations.py --duckdb /tmp/bench/medium.duckdb --skip-generate

Benchmarks are not tests: the targets are printed beside the figures, nothing fails.
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

import duckdb
import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

from dataproducts_pipeline.build import DBT_THREAD_ENVIRONMENT  # noqa: E402
from dataproducts_pipeline.recommendations import (  # noqa: E402
    cooccurrence_similarity,
    snapshot_similarities,
)

DBT = Path(sys.executable).parent / "dbt"
PART = ["path:models/intermediate/recommendations", "path:models/marts/recommendations"]
TARGETS = {"build_seconds": 30.0, "als_seconds": 60.0, "similarity_speedup": 3.0}

#: Runs a command and prints, as the last line, its wall time and the rusage of its
#: children (the command itself): CPU seconds and peak RSS.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "w") as log:
    rc = subprocess.run(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall": time.perf_counter() - start,
                  "cpu": usage.ru_utime + usage.ru_stime, "max_rss_kib": usage.ru_maxrss}))
"""


def _env(duckdb_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.update(
        DBT_PROFILES_DIR=str(REPO),
        DATAPRODUCTS_DUCKDB=str(duckdb_path),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    # the thread settings `dataproducts build` gives dbt (unless set here already)
    return {**DBT_THREAD_ENVIRONMENT, **env}


def dbt(args: list[str], duckdb_path: Path, target_path: Path) -> dict:
    """Run dbt in a measuring child process; exit with its log tail if it fails."""
    log = target_path / f"bench-dbt-{args[0]}.log"
    target_path.mkdir(parents=True, exist_ok=True)
    cmd = [str(DBT), *args, "--target-path", str(target_path)]
    cmd += ["--log-path", str(target_path / "logs")]
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(log), *cmd],
        cwd=REPO,
        env=_env(duckdb_path),
        capture_output=True,
        text=True,
    )
    measured = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    if proc.returncode != 0 or measured.get("rc") != 0:
        tail = log.read_text()[-4000:] if log.exists() else proc.stderr[-4000:]
        sys.exit(f"dbt {' '.join(args)} failed:\n{tail}")
    return measured


def _model_name(unique_id: str) -> str:
    """``model.dataproducts.recommendations.v1`` -> ``recommendations_v1``."""
    parts = unique_id.split(".")
    if re.fullmatch(r"v\d+", parts[-1]):
        return f"{parts[-2]}_{parts[-1]}"
    return parts[-1]


def bench_build(duckdb_path: Path, target_path: Path, runs: int = 1) -> dict:
    """The part's ``dbt run``, ``runs`` times (the first on tables never built, the
    others rebuilding them); the figures of the median run (by dbt's elapsed time), and
    every run's elapsed, wall and CPU seconds under ``runs``."""
    dbt(
        ["run", "--select", *[f"+{s}" for s in PART], "--exclude", *PART],
        duckdb_path,
        target_path,
    )
    results = []
    for _ in range(max(1, runs)):
        measured = dbt(["run", "--select", *PART], duckdb_path, target_path)
        run = json.loads((target_path / "run_results.json").read_text())
        per_model = sorted(
            ((_model_name(r["unique_id"]), float(r["execution_time"])) for r in run["results"]),
            key=lambda item: -item[1],
        )
        times = dict(per_model)
        results.append(
            {
                "wall_seconds": measured["wall"],
                "dbt_elapsed_seconds": float(run["elapsed_time"]),
                "cpu_seconds": measured["cpu"],
                "peak_rss_mib": measured["max_rss_kib"] / 1024,
                "n_models": len(per_model),
                "per_model_seconds": per_model,
                "als_fit_seconds": times.get("int_als_factors_fitted"),
                "als_scoring_seconds": times.get("int_als_recommendations_ranked"),
            }
        )
    median = sorted(results, key=lambda r: r["dbt_elapsed_seconds"])[(len(results) - 1) // 2]
    runs_seen = [
        {k: r[k] for k in ("dbt_elapsed_seconds", "wall_seconds", "cpu_seconds")} for r in results
    ]
    return {**median, "runs": runs_seen}


ALS_MODELS = [
    "int_als_factors_fitted",
    "int_learner_factors_fitted",
    "int_course_factors_fitted",
    "int_als_recommendations_ranked",
]


def bench_als(duckdb_path: Path, target_path: Path) -> dict:
    """The ALS models alone (inputs already built): fit, factor tables and scoring."""
    measured = dbt(["run", "--select", *ALS_MODELS], duckdb_path, target_path)
    run = json.loads((target_path / "run_results.json").read_text())
    times = {_model_name(r["unique_id"]): float(r["execution_time"]) for r in run["results"]}
    return {
        "wall_seconds": measured["wall"],
        "dbt_elapsed_seconds": float(run["elapsed_time"]),
        "cpu_seconds": measured["cpu"],
        "fit_seconds": times["int_als_factors_fitted"],
        "scoring_seconds": times["int_als_recommendations_ranked"],
    }


def _sar_reference():
    """SARSingleNode when microsoft/recommenders imports, else None."""
    try:
        from recommenders.models.sar.sar_singlenode import SARSingleNode
    except ImportError:
        return None
    if not hasattr(np, "NaN"):  # used inside SARSingleNode.fit; removed in numpy 2
        np.NaN = np.nan  # type: ignore[attr-defined]
    return SARSingleNode


def _best_of(runs: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _top_lists(
    frame: pd.DataFrame, item: str, neighbour: str, k: int, decimals: int | None = None
) -> pd.Series:
    """Every item's k most similar items (similarity desc, then id), as tuples; with
    ``decimals``, similarities equal to that many decimals count as ties."""
    if decimals is not None:
        frame = frame.assign(similarity=frame["similarity"].round(decimals))
    ordered = frame.sort_values([item, "similarity", neighbour], ascending=[True, False, True])
    ordered = ordered[ordered.groupby(item).cumcount() < k]
    return ordered.groupby(item)[neighbour].apply(tuple)


def bench_similarity(duckdb_path: Path, target_path: Path, k: int = 10, runs: int = 3) -> dict:
    # the PostgreSQL path's SQL (the build above compiled the DuckDB one: a view)
    sql_target = target_path / "sql-path"
    dbt(
        [
            "compile",
            "--select",
            "int_course_similarities_scored",
            "--vars",
            "{recommendations_python_modules: false}",
        ],
        duckdb_path,
        sql_target,
    )
    compiled = next(
        (sql_target / "compiled").rglob("int_course_similarities_scored.sql")
    ).read_text()
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    min_cooccurrence = max(int(project["vars"]["recommendations_min_cooccurrence"]), 1)
    # the serving snapshot's rows and bounds: the model's inputs for one snapshot (an
    # earlier snapshot's as_of is absent, so it gets no rows, as the reference fits one)
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rows = con.execute(
            "select snapshot_name, learner_id, course_id, first_event_at "
            "from intermediate.int_learner_course_affinities_decayed "
            "where snapshot_name = 'serving' order by learner_id, course_id"
        ).df()
        snapshots = con.execute(
            "select snapshot_name, as_of, label_until "
            "from intermediate.int_recommendation_snapshots_defined where snapshot_name = 'serving'"
        ).df()
    pairs = rows[["learner_id", "course_id"]]
    ours_sql = compiled
    for model, table in (
        ("int_learner_course_affinities_decayed", "bench_affinities"),
        ("int_recommendation_snapshots_defined", "bench_snapshots"),
    ):
        relation = re.search(rf"select \* from (\S*{model}\S*)", compiled).group(1)
        ours_sql = ours_sql.replace(relation, table)
    with duckdb.connect() as con:
        con.from_df(rows).create("bench_affinities")
        con.from_df(snapshots).create("bench_snapshots")
        sql_seconds, _ = _best_of(
            runs, lambda: con.execute(f"create or replace table ours as {ours_sql}")
        )
        sql = con.execute(
            "select course_id, similar_course_id, n_both, n_first, n_second, similarity, method "
            "from ours"
        ).df()
    method = str(sql["method"].iloc[0])

    def kernel() -> pd.DataFrame:
        return snapshot_similarities(
            pairs["learner_id"].to_numpy(),
            pairs["course_id"].to_numpy(),
            method=method,
            min_cooccurrence=min_cooccurrence,
        )[0]

    ours_seconds, ours = _best_of(runs, kernel)
    # the DuckDB path (the kernel) and the PostgreSQL path (the SQL) give the same rows
    paths = ours.merge(sql, on=["course_id", "similar_course_id"], how="outer", indicator=True)
    paths_equal = bool(
        (paths["_merge"] == "both").all()
        and all(
            (paths[f"{c}_x"] == paths[f"{c}_y"]).all() for c in ("n_both", "n_first", "n_second")
        )
        and (paths["similarity_x"] == paths["similarity_y"]).all()
    )

    sar = _sar_reference()
    if sar is not None:
        interactions = pairs.rename(columns={"learner_id": "user", "course_id": "item"}).assign(
            rating=1.0
        )

        def fit():
            model = sar(
                col_user="user",
                col_item="item",
                col_rating="rating",
                similarity_type=method,
                threshold=min_cooccurrence,
                timedecay_formula=False,
            )
            model.fit(interactions)
            return model

        reference_seconds, model = _best_of(runs, fit)
        items = np.array([model.index2item[i] for i in range(model.n_items)], dtype=np.int64)
        matrix = np.asarray(model.item_similarity, dtype=np.float64)
        rows, cols = np.nonzero(np.isfinite(matrix) & (matrix > 0))
        off_diagonal = rows != cols
        reference = pd.DataFrame(
            {
                "item": items[rows[off_diagonal]],
                "similar_item": items[cols[off_diagonal]],
                "similarity": matrix[rows[off_diagonal], cols[off_diagonal]],
            }
        )
        reference_name = "microsoft/recommenders SARSingleNode.fit"
    else:
        interactions = pairs.rename(columns={"learner_id": "user", "course_id": "item"})
        reference_seconds, reference = _best_of(
            runs, lambda: cooccurrence_similarity(interactions, method, min_cooccurrence)
        )
        reference_name = (
            "numpy/scipy (dataproducts_pipeline.recommendations.cooccurrence_similarity)"
        )

    def agreement(decimals: int | None) -> tuple[int, int]:
        ours_top = _top_lists(ours, "course_id", "similar_course_id", k, decimals)
        reference_top = _top_lists(reference, "item", "similar_item", k, decimals)
        courses = ours_top.index.union(reference_top.index)
        same = sum(
            1
            for c in courses
            if c in ours_top.index and c in reference_top.index and ours_top[c] == reference_top[c]
        )
        return same, len(courses)

    agree, n_courses = agreement(None)
    # the reference's values can differ from the exact quotient in the last bit, which
    # reorders exact ties; compared at 12 decimals, ties are broken by id on both sides
    agree_ties, _ = agreement(12)
    merged = ours.merge(
        reference,
        left_on=["course_id", "similar_course_id"],
        right_on=["item", "similar_item"],
        how="outer",
        indicator=True,
    )
    both = merged[merged["_merge"] == "both"]
    return {
        "interactions": len(pairs),
        "method": method,
        "min_cooccurrence": min_cooccurrence,
        "pairs_ours": len(ours),
        "pairs_reference": len(reference),
        "pairs_only_one_side": int((merged["_merge"] != "both").sum()),
        "max_abs_similarity_diff": float(
            np.max(np.abs(both["similarity_x"] - both["similarity_y"])) if len(both) else 0.0
        ),
        "courses": n_courses,
        "courses_same_top": agree,
        "courses_same_top_ties_by_id": agree_ties,
        "ours_seconds": ours_seconds,
        "sql_seconds": sql_seconds,
        "sql_equals_kernel": paths_equal,
        "reference_seconds": reference_seconds,
        "reference": reference_name,
        "speedup": reference_seconds / ours_seconds,
    }


def data_sizes(duckdb_path: Path) -> dict:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return {
            "events": con.execute("select count(*) from staging.stg_raw__events").fetchone()[0],
            "learners": con.execute("select count(*) from staging.stg_raw__learners").fetchone()[0],
            "courses": con.execute("select count(*) from staging.stg_raw__courses").fetchone()[0],
        }


def markdown(
    scale: str,
    sizes: dict,
    build: dict,
    als_alone: dict | None,
    similarity: dict | None,
    header: bool,
) -> str:
    out = []
    if header:
        out += [
            "The recommendations part of the build (`dbt run` of models/intermediate/recommendations",
            "and models/marts/recommendations, staging built beforehand) on generated data, timed",
            "in its own process; CPU is user + system time of that dbt process (DuckDB runs in",
            "it on every core), peak RSS its high-water mark. Per-model times are dbt's",
            "`execution_time` (two models run at once with `threads: 2`, so they overlap).",
            "The target is judged on dbt's elapsed time of the run (`elapsed_time` in",
            "run_results.json: from the first model's start to the last one's end), the time",
            "this part adds to a build; the process's wall time adds dbt's own start-up",
            "(imports, loading the manifest, connections) and its artifacts, paid once per dbt",
            "invocation, not per part, and is shown beside it. dbt runs with the thread",
            "settings `dataproducts build` gives it (`OMP_WAIT_POLICY=PASSIVE`,",
            "`OPENBLAS_NUM_THREADS=1`). This machine's speed varies by the minute,",
            "and CPU time with it: on 2026-11-22 the same part (same code, same data) took",
            "78 s of CPU (36.0 s elapsed) at 02:05 UTC and 47 s (23.5 s) at 02:24 UTC.",
            "The part is CPU-bound on 2 cores, so compare runs made close together.",
            "",
        ]
    if als_alone is None or similarity is None:
        return _markdown_build_only(scale, sizes, build, out)
    # the targets are stated at medium; other scales are reported without a verdict
    at_medium = scale == "medium"
    build_ok = not at_medium or build["dbt_elapsed_seconds"] <= TARGETS["build_seconds"]
    als_ok = not at_medium or als_alone["wall_seconds"] <= TARGETS["als_seconds"]
    als = (build["als_fit_seconds"] or 0) + (build["als_scoring_seconds"] or 0)
    ratio = similarity["speedup"]
    out += [
        f"### {scale}: {sizes['events']:,} events, {sizes['learners']:,} learners, "
        f"{sizes['courses']:,} courses",
        "",
        "| measure | figure | target |",
        "|---|---|---|",
        f"| recommendations part ({build['n_models']} models), dbt elapsed"
        f"{_median_of(build)} | {build['dbt_elapsed_seconds']:.1f} s | "
        f"≤ {TARGETS['build_seconds']:.0f} s at medium{'' if build_ok else ' — not met'} |",
        f"| … the dbt process, wall (dbt's start-up and artifacts included: "
        f"{build['wall_seconds'] - build['dbt_elapsed_seconds']:.1f} s) | "
        f"{build['wall_seconds']:.1f} s | |",
        f"| … CPU time / peak RSS | {build['cpu_seconds']:.1f} s / "
        f"{build['peak_rss_mib']:,.0f} MiB | |",
        f"| ALS alone (fit, factor tables, scoring), wall | {als_alone['wall_seconds']:.1f} s "
        f"(dbt elapsed {als_alone['dbt_elapsed_seconds']:.1f} s: fit "
        f"{als_alone['fit_seconds']:.1f} s, scoring {als_alone['scoring_seconds']:.1f} s; "
        f"CPU {als_alone['cpu_seconds']:.1f} s) | ≤ {TARGETS['als_seconds']:.0f} s at medium"
        f"{'' if als_ok else ' — not met'} |",
        f"| … ALS within the build (overlapping other models) | "
        f"{build['als_fit_seconds'] or 0:.1f} s + {build['als_scoring_seconds'] or 0:.1f} s "
        f"= {als:.1f} s | |",
        f"| item-item similarity, ours vs reference | {similarity['ours_seconds']:.2f} s vs "
        f"{similarity['reference_seconds']:.2f} s ({ratio:.2f}x) | "
        f"≥ {TARGETS['similarity_speedup']:.0f}x"
        f"{'' if ratio >= TARGETS['similarity_speedup'] else ' — not met'} |",
        f"| … the PostgreSQL path (the SQL model on DuckDB, same pairs) | "
        f"{similarity['sql_seconds']:.2f} s "
        f"({similarity['reference_seconds'] / similarity['sql_seconds']:.2f}x); same rows "
        f"as ours: {'yes' if similarity['sql_equals_kernel'] else 'NO'} | |",
        f"| … same top-10 similar courses | {similarity['courses_same_top']:,} of "
        f"{similarity['courses']:,} courses; {similarity['courses_same_top_ties_by_id']:,} "
        "when similarities equal to 12 decimals count as ties | all |",
        "",
        *_runs_lines(build),
        *_slowest_lines(build),
        f"Similarity ({similarity['method']}, pairs seen by ≥ {similarity['min_cooccurrence']} "
        f"learners) on {similarity['interactions']:,} learner-course pairs: reference = "
        f"{similarity['reference']}; {similarity['pairs_ours']:,} ordered course pairs ours, "
        f"{similarity['pairs_reference']:,} reference, {similarity['pairs_only_one_side']:,} on "
        f"one side only, max |Δ similarity| {similarity['max_abs_similarity_diff']:.1e}. "
        "Ours is the kernel of the dbt Python model int_course_similarities_computed "
        "(dataproducts_pipeline.recommendations.snapshot_similarities, the DuckDB path: int32 sparse "
        "X.T @ X, upper triangle, similarity once per unordered pair, mirrored; "
        "single-threaded) on the same in-memory pairs as the reference's fit; the SQL "
        "model's time on DuckDB (all cores) is the PostgreSQL path's. The reference time "
        "is the fit alone (single-threaded numpy/scipy). "
        "Where the top-10 lists differ, two neighbours have the same similarity (the same "
        "fraction of co-occurrence counts): ours computes it exactly and breaks the tie by "
        "course id, the reference's value is off in the last bit and decides it.",
        "",
    ]
    return "\n".join(out)


def _slowest_lines(build: dict, n: int = 10) -> list[str]:
    """The ``n`` slowest models of the (median) run, as a Markdown table."""
    return [
        "Slowest models (dbt execution time):",
        "",
        "| model | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.1f} |" for name, seconds in build["per_model_seconds"][:n]],
        "",
    ]


def _median_of(build: dict) -> str:
    n = len(build.get("runs", []))
    return f", median of {n} runs" if n > 1 else ""


def _runs_lines(build: dict) -> list[str]:
    """Every run of the part, in order (the first on tables never built)."""
    runs = build.get("runs", [])
    if len(runs) <= 1:
        return []
    each = "; ".join(
        f"{r['dbt_elapsed_seconds']:.1f} s (wall {r['wall_seconds']:.1f} s, CPU "
        f"{r['cpu_seconds']:.1f} s)"
        for r in runs
    )
    return [
        f"Each run of the part, dbt elapsed: {each}. The figures above are the median "
        "run's; the first run creates the tables, the others replace them.",
        "",
    ]


def _markdown_build_only(scale: str, sizes: dict, build: dict, out: list[str]) -> str:
    """The build figures alone (``--build-only``, e.g. at ``large``)."""
    out += [
        f"### {scale}: {sizes['events']:,} events, {sizes['learners']:,} learners, "
        f"{sizes['courses']:,} courses (build only)",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| recommendations build ({build['n_models']} models), wall | "
        f"{build['wall_seconds']:.1f} s (dbt elapsed {build['dbt_elapsed_seconds']:.1f} s) |",
        f"| … CPU time / peak RSS | {build['cpu_seconds']:.1f} s / "
        f"{build['peak_rss_mib']:,.0f} MiB |",
        f"| … ALS within the build | fit {build['als_fit_seconds'] or 0:.1f} s, scoring "
        f"{build['als_scoring_seconds'] or 0:.1f} s |",
        "",
        *_runs_lines(build),
        *_slowest_lines(build),
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="medium", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--duckdb", type=Path, default=None, help="warehouse file (created or reused)"
    )
    parser.add_argument("--target-path", type=Path, default=None)
    parser.add_argument(
        "--skip-generate", action="store_true", help="reuse the raw data in --duckdb"
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="time the build only (no similarity comparison, no separate ALS run)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="timed runs of the part (the median is reported; this machine's run-to-run "
        "spread is several seconds)",
    )
    parser.add_argument("--header", action="store_true", help="print the explanatory preamble")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    duckdb_path = args.duckdb or (
        Path(tempfile.mkdtemp(prefix=f"bench-recommendations-{args.scale}-"))
        / f"{args.scale}.duckdb"
    )
    target_path = args.target_path or duckdb_path.parent / f"bench-target-{args.scale}"
    if not args.skip_generate:
        from dataproducts_pipeline.generate import generate

        generate(args.scale, seed=args.seed, duckdb_path=duckdb_path, progress=False)
    build = bench_build(duckdb_path, target_path, runs=args.runs)
    similarity = None if args.build_only else bench_similarity(duckdb_path, target_path)
    als_alone = None if args.build_only else bench_als(duckdb_path, target_path)
    sizes = data_sizes(duckdb_path)
    print(markdown(args.scale, sizes, build, als_alone, similarity, args.header))
    if args.json:
        figures = {"build": build, "als": als_alone, "similarity": similarity, "sizes": sizes}
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
