"""The whole project on Spark: `dataproducts build --target spark` on the tiny dataset.

The session's Spark server (Thrift for dbt's SQL, Spark Connect for its Python models)
builds every model, runs every data and unit test, the gate and publish (the
``spark_build`` fixture); here, what a user of the build relies on: nothing failed or
was skipped, the same quarantine and staging counts as DuckDB on the same raw data, all
six recommendation modules published and read by the package, and the marts DuckDB
computes by the same SQL equal to DuckDB's.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import _PROTECTED_MARTS, Build, SparkBuild, _staging_models

import dataproducts
from dataproducts.recommendations import MODULES
from dataproducts.snapshots import SNAPSHOT_FILE, current

pytestmark = pytest.mark.spark

#: The Python kernel that only DuckDB builds (Spark takes its SQL path).
DUCKDB_ONLY = {"int_course_similarities_computed"}
#: The Python models Spark runs through Spark Connect.
SPARK_PYTHON_MODELS = {
    "int_als_factors_fitted",
    "int_als_recommendations_ranked",
    "int_for_you_models_fitted",
    "int_recent_activity_recommendations_scored",
}


def _nodes(results: dict[str, Any]) -> dict[str, str]:
    return {r["unique_id"]: r["status"] for r in results["results"]}


def test_every_node_builds_and_passes_on_spark(
    spark_build: SparkBuild, duckdb_build: Build
) -> None:
    statuses = _nodes(spark_build.run_results)
    bad = {
        k: v
        for k, v in statuses.items()
        if v not in ("success", "pass", "warn") and not (k.startswith("exposure.") and v == "no-op")
    }
    assert not bad, bad
    # the tests that warn (severity warn: the bad raw rows, the tiny data) are DuckDB's
    warned = {k for k, v in statuses.items() if v == "warn"}
    assert warned == {k for k, v in _nodes(duckdb_build.run_results).items() if v == "warn"}
    ran = {k.split(".")[-1] for k in statuses if k.startswith("model.")}
    assert ran >= SPARK_PYTHON_MODELS
    assert not ran & DUCKDB_ONLY
    assert "published" in spark_build.proc.stdout


def test_spark_runs_the_models_duckdb_runs(spark_build: SparkBuild, duckdb_build: Build) -> None:
    """The same models and tests, but for the DuckDB-only similarity kernel."""

    def models(manifest: dict[str, Any]) -> set[str]:
        return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}

    assert models(spark_build.manifest) == models(duckdb_build.manifest) - DUCKDB_ONLY
    on_spark = {k for k in _nodes(spark_build.run_results) if k.startswith("unit_test.")}
    on_duckdb = {k for k in _nodes(duckdb_build.run_results) if k.startswith("unit_test.")}
    assert on_spark == on_duckdb and on_spark


def test_quarantine_and_staging_match_duckdb(spark_build: SparkBuild, duckdb_build: Build) -> None:
    quarantine = duckdb_build.query(
        "select source_table, reason, count(*) as n from staging.stg_raw__quarantine "
        "group by source_table, reason"
    )
    expected = {(t, r): int(n) for t, r, n in quarantine.itertuples(index=False)}
    assert expected, "the tiny dataset has bad rows: the quarantine cannot be empty"
    assert spark_build.quarantine == expected
    staged = {
        name: int(duckdb_build.scalar(f"select count(*) from staging.{name}"))
        for name in _staging_models(duckdb_build.manifest)
    }
    assert spark_build.staged == staged


def _snapshot(published: Path) -> Path:
    return Path(current(published).location) / SNAPSHOT_FILE


def test_all_six_modules_are_published_and_read(spark_build: SparkBuild) -> None:
    with dataproducts.connect(spark_build.published) as client:
        lists = client.recommendations.frame()
        assert set(lists["module"]) == set(MODULES)
        learner = int(lists.loc[lists["module"] == "als", "learner_id"].iloc[0])
        mine = client.recommendations.for_learner(learner)
        assert {r.module for r in mine} >= {"als", "popular"}
        # for_you scores are probabilities; als lists say what fitted them
        for_you = lists[lists["module"] == "for_you"]
        assert len(for_you) and for_you["score"].between(0, 1).all()
        assert set(lists.loc[lists["module"] == "als", "algorithm"]) <= {
            "implicit_als",
            "popular_backfill",
        }
        evaluation = client.recommendations.evaluation()
        assert set(MODULES) <= set(evaluation["module"])


def _vector(value: Any) -> list[float]:
    """An array<double> as PyHive returns it (JSON text) or as a list."""
    return json.loads(value) if isinstance(value, str) else list(value)


def test_als_ranking_on_spark_is_the_top_k_of_its_factors(spark_build: SparkBuild) -> None:
    """The blocked ALS ranking on Spark, checked by brute force on the factors Spark
    fitted: per sampled learner, every published, not consumed course scored by a dot
    product, sorted by score desc then course id asc, the first k kept."""
    als = spark_build.als
    k = 10  # var recommendations_k
    factors = {
        (snapshot, kind, int(entity)): np.asarray(_vector(vector))
        for snapshot, kind, entity, vector in als["factors"]
    }
    published = {int(c) for (c,) in als["published"]}
    consumed = {(s, int(lr), int(c)) for s, lr, c in als["consumed"]}
    expected = []
    for snapshot, learner in als["sampled"]:
        learner_vector = factors.get((snapshot, "learner", int(learner)))
        if learner_vector is None:
            continue  # no factors at this snapshot: the module lists nothing for them
        scored = sorted(
            (-float(vector @ learner_vector), course)
            for (s, kind, course), vector in factors.items()
            if s == snapshot
            and kind == "course"
            and course in published
            and (snapshot, int(learner), course) not in consumed
        )
        expected += [
            (snapshot, int(learner), course, rank, -negative)
            for rank, (negative, course) in enumerate(scored[:k], start=1)
        ]
    got = sorted((s, int(lr), int(c), int(r), float(v)) for s, lr, c, r, v in als["ranked"])
    expected.sort()
    assert len(got) == len(expected) > 0
    assert [row[:4] for row in got] == [row[:4] for row in expected]
    np.testing.assert_allclose([r[4] for r in got], [r[4] for r in expected], rtol=1e-9)


#: Published marts whose every row is computed by the same SQL on both engines from the
#: same raw data (recommendations: the modules that do not depend on the ALS fit).
_SAME_SQL = {
    "experiment_results": None,
    "experiment_slice_results": None,
    "experiment_daily_results": None,
    "experiment_health": None,
    "coaching_queue": None,
    "coaching_message_performance": None,
    "learner_goals": None,
    "similar_courses": None,
    "recommendations": (
        "module in ('popular', 'recent_activity', 'because_you_viewed', 'next_in_specialization')"
    ),
}


def _table(path: Path, name: str, where: str | None, schema: str | None = None) -> pd.DataFrame:
    """A mart (``name``, or its versioned relation ``name_v<n>``) of a DuckDB file, its
    columns and rows in a canonical order."""
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and (table_name = ? or regexp_matches(table_name, ?))",
                [schema or "main", name, f"^{name}_v[0-9]+$"],
            ).fetchall()
        ]
        if name in names:  # the unversioned name when there is one (the latest version)
            names = [name]
        assert len(names) == 1, (path, schema, name, names)
        qualified = f"{schema}.{names[0]}" if schema else names[0]
        frame = con.execute(f"select * from {qualified} where {where or 'true'}").df()
    return _canonical(frame)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame's columns by name and its rows sorted by every column, the columns that are
    not floats first (the keys: floats that differ in the 16th digit must not reorder
    the rows)."""
    columns = sorted(frame.columns)
    frame = frame[columns]
    exact = [c for c in columns if not pd.api.types.is_float_dtype(frame[c])]
    order = exact + [c for c in columns if c not in exact]
    return frame.sort_values(order, na_position="first").reset_index(drop=True)


@pytest.mark.parametrize("mart", sorted(_SAME_SQL))
def test_marts_equal_duckdbs(spark_build: SparkBuild, duckdb_build: Build, mart: str) -> None:
    where = _SAME_SQL[mart]
    spark = _table(_snapshot(spark_build.published), mart, where, schema="marts")
    reference = _table(duckdb_build.path, mart, where, schema="marts")
    _assert_equal(spark, reference, mart)


@pytest.mark.parametrize("mart", sorted(_PROTECTED_MARTS))
def test_protected_marts_equal_duckdbs(
    spark_build: SparkBuild, duckdb_build: Build, mart: str
) -> None:
    """The marts nothing publishes (coaching_impact: checked against scipy on DuckDB and
    PostgreSQL by test_coaching), as Spark built them, equal DuckDB's."""
    columns, rows = spark_build.protected[mart]
    spark = _canonical(pd.DataFrame(rows, columns=columns))
    reference = _table(duckdb_build.path, mart, None, schema="marts")
    _assert_equal(spark, reference, mart)


def _assert_equal(spark: pd.DataFrame, reference: pd.DataFrame, mart: str) -> None:
    """Spark's rows of a mart are DuckDB's: the same columns and rows, floats to 1e-9."""
    assert len(reference) > 0, mart
    assert list(spark.columns) == list(reference.columns), mart
    assert len(spark) == len(reference), mart
    for column in reference.columns:
        left, right = spark[column], reference[column]
        if pd.api.types.is_float_dtype(right) or pd.api.types.is_float_dtype(left):
            np.testing.assert_allclose(
                left.astype(float),
                right.astype(float),
                rtol=1e-9,
                atol=1e-12,
                err_msg=f"{mart}.{column}",
            )
        else:
            assert left.astype(str).tolist() == right.astype(str).tolist(), f"{mart}.{column}"
