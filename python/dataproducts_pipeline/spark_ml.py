"""The module als on Spark: the bodies of two dbt Python models when they run on Spark.

``int_als_factors_fitted`` and ``int_als_recommendations_ranked`` call these when their
target is Spark (config ``target_type``); dbt-spark runs them through Spark Connect
(:mod:`dataproducts_pipeline.spark_connect`), so ``dbt.ref`` gives Spark DataFrames and
the work runs in Spark, not in dbt's process.

- **Fit**: MLlib's ALS (``pyspark.ml.recommendation.ALS``) with implicit preferences, the
  same confidence model as the ``implicit`` package on DuckDB (Hu, Koren & Volinsky:
  preference 1 where the affinity is positive, confidence 1 + alpha * affinity) and the
  same vars: factors, iterations, regularization, alpha, seed. Two differences, both
  MLlib's: its L2 penalty is scaled per learner (and per course) by the number of its
  ratings ("ALS-WR"), where ``implicit`` applies it as is; and it has no warm start, so
  every snapshot is fitted from random factors for ``recommendations_als_iterations``
  sweeps. The factors differ from DuckDB's; the offline NDCG@10 of the two is compared
  in BENCHMARKS.md. MLlib needs 32-bit integer ids: a larger id fails the model with a
  message, it is not wrapped.
- **Ranking**: the listed learners' factors times the published courses' factors (a join, the
  dot product by ``zip_with``/``aggregate``), the consumed courses removed, then the top
  k per learner by ``row_number`` (score desc, course id asc) — the rules of
  ``dataproducts_pipeline.ranking.factor_top_k``.
"""

from __future__ import annotations

from typing import Any

#: The largest id MLlib's ALS takes (its user and item columns are 32-bit integers).
MAX_ALS_ID = 2**31 - 1


def _snapshot_names(snapshots: Any) -> list[str]:
    """Snapshot names in time order (as the DuckDB fit orders them)."""
    rows = snapshots.select("snapshot_name", "as_of").collect()
    return [
        r["snapshot_name"] for r in sorted(rows, key=lambda r: (r["as_of"], r["snapshot_name"]))
    ]


def als_factors(dbt: Any, spark: Any) -> Any:
    """``int_als_factors_fitted`` on Spark: one MLlib ALS fit per snapshot.

    Rows: snapshot_name, entity_type (``learner``/``course``), entity_id, factors
    (array<double>), as the DuckDB model's.
    """
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    factors = int(dbt.config.get("als_factors"))
    iterations = int(dbt.config.get("als_iterations"))
    if iterations < 1:
        raise ValueError(
            "int_als_factors_fitted: var recommendations_als_iterations must be at least 1 "
            f"(got {iterations})."
        )
    regularization = float(dbt.config.get("als_regularization"))
    alpha = float(dbt.config.get("als_alpha"))
    seed = int(dbt.config.get("als_seed"))

    affinities = dbt.ref("int_learner_course_affinities_decayed").filter("affinity > 0")
    largest = affinities.select(
        F.greatest(F.max("learner_id"), F.max("course_id")).alias("largest")
    ).collect()[0]["largest"]
    if largest is not None and largest > MAX_ALS_ID:
        raise ValueError(
            f"int_als_factors_fitted on Spark: id {largest} exceeds {MAX_ALS_ID}, the "
            "largest MLlib's ALS takes (32-bit ids); map the ids to a dense range first."
        )
    frames = []
    for snapshot_name in _snapshot_names(dbt.ref("int_recommendation_snapshots_defined")):
        interactions = affinities.filter(F.col("snapshot_name") == snapshot_name).select(
            F.col("learner_id").cast("int").alias("learner_id"),
            F.col("course_id").cast("int").alias("course_id"),
            F.col("affinity").cast("float").alias("affinity"),
        )
        if interactions.limit(1).count() == 0:
            continue  # nothing to fit (no activity yet at this snapshot)
        als = ALS(
            rank=factors,
            maxIter=iterations,
            regParam=regularization,
            alpha=alpha,
            implicitPrefs=True,
            nonnegative=False,
            seed=seed,
            userCol="learner_id",
            itemCol="course_id",
            ratingCol="affinity",
        )
        fitted = als.fit(interactions)
        for entity_type, table in (("learner", fitted.userFactors), ("course", fitted.itemFactors)):
            frames.append(
                table.select(
                    F.lit(snapshot_name).alias("snapshot_name"),
                    F.lit(entity_type).alias("entity_type"),
                    F.col("id").cast("bigint").alias("entity_id"),
                    F.col("features").cast("array<double>").alias("factors"),
                )
            )
    if not frames:
        return spark.createDataFrame(
            [],
            "snapshot_name string, entity_type string, entity_id bigint, factors array<double>",
        )
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def als_ranked(dbt: Any, spark: Any) -> Any:
    """``int_als_recommendations_ranked`` on Spark: the top k courses per listed learner by
    learner factors · course factors, the same rules and columns as the DuckDB model."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    k = int(dbt.config.get("recommendations_k"))
    version = str(dbt.config.get("model_version"))
    factors = dbt.ref("int_als_factors_fitted")
    learners = (
        factors.filter("entity_type = 'learner'")
        .select(
            "snapshot_name", F.col("entity_id").alias("learner_id"), F.col("factors").alias("lf")
        )
        .join(
            dbt.ref("int_recommendation_learners_sampled").select("snapshot_name", "learner_id"),
            ["snapshot_name", "learner_id"],
        )
    )
    published = dbt.ref("stg_raw__courses").filter("is_published").select("course_id")
    courses = (
        factors.filter("entity_type = 'course'")
        .select(
            "snapshot_name", F.col("entity_id").alias("course_id"), F.col("factors").alias("cf")
        )
        .join(published, "course_id")
    )
    consumed = (
        dbt.ref("int_learner_course_affinities_decayed")
        .filter("is_consumed")
        .select("snapshot_name", "learner_id", "course_id")
    )
    scored = (
        learners.join(courses, "snapshot_name")
        .join(consumed, ["snapshot_name", "learner_id", "course_id"], "left_anti")
        .select(
            "snapshot_name",
            "learner_id",
            "course_id",
            F.aggregate(
                F.zip_with("lf", "cf", lambda x, y: x * y),
                F.lit(0.0).cast("double"),
                lambda a, b: a + b,
            ).alias("score"),
        )
    )
    order = Window.partitionBy("snapshot_name", "learner_id").orderBy(
        F.col("score").desc(), F.col("course_id").asc()
    )
    ranked = scored.withColumn("module_rank", F.row_number().over(order)).filter(
        F.col("module_rank") <= k
    )
    return ranked.select(
        F.col("snapshot_name").cast("string").alias("snapshot_name"),
        F.col("learner_id").cast("bigint").alias("learner_id"),
        F.col("course_id").cast("bigint").alias("course_id"),
        F.lit(None).cast("bigint").alias("anchor_course_id"),
        F.lit("als").alias("module"),
        F.lit("implicit_als").alias("algorithm"),
        F.lit("Learners like you also took").alias("reason"),
        F.lit(version).alias("model_version"),
        F.col("module_rank").cast("bigint").alias("module_rank"),
        F.col("score").cast("double").alias("score"),
    )
