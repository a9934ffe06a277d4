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
- **Ranking**: blocked (:func:`als_ranked`): each block of learners is scored against the
  published courses' factors by ``dataproducts_pipeline.ranking.factor_top_k`` in a Python
  worker (``applyInPandas``), the rules and code of the DuckDB model. The workers need
  numpy, pandas, pyarrow and this package (locally the server's workers run the
  virtualenv's Python).

The module recent_activity is blocked the same way (:func:`recent_activity_scored`, the
body of ``int_recent_activity_recommendations_scored`` on Spark): the learners' affinity
rows are grouped by (snapshot, block of learner ids) and each block is scored by
``dataproducts_pipeline.ranking.sar_top_k``, the sparse product DuckDB's model runs,
against the pruned similarity neighbourhoods sent with the function. The SQL path it
replaces joined every affinity row with its course's 50 nearest neighbours and summed
the pairs per (learner, course): about 10⁹ rows at ``large``.
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


#: Learners per block of the ALS ranking on Spark: a block's scores (learners x courses)
#: are computed in one Python worker, a chunk at a time (``ranking.factor_top_k``).
LEARNERS_PER_BLOCK = 50_000

#: The columns of ``int_als_recommendations_ranked``.
RANKED_SCHEMA = (
    "snapshot_name string, learner_id bigint, course_id bigint, anchor_course_id bigint, "
    "module string, algorithm string, reason string, model_version string, "
    "module_rank bigint, score double"
)


def als_ranked(dbt: Any, spark: Any) -> Any:
    """``int_als_recommendations_ranked`` on Spark: the top k courses per listed learner by
    learner factors · course factors, the same rules and columns as the DuckDB model.

    Blocked, not a cross join: the published courses' factors (one small matrix per
    snapshot) go to every worker with the function; learners are grouped by
    (snapshot, block of ids) and co-grouped with their consumed courses, and each block
    is scored by :func:`dataproducts_pipeline.ranking.factor_top_k` — the code the DuckDB
    model runs. Spark moves each learner's factors once, instead of materializing and
    sorting every learner-course pair (200M rows at ``medium``).
    """
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
    course_rows = (
        factors.filter("entity_type = 'course'")
        .join(published, F.col("entity_id") == F.col("course_id"))
        .select("snapshot_name", "course_id", "factors")
        .collect()
    )
    course_factors = _course_matrices(course_rows)
    largest_snapshot = max(
        (r["n"] for r in learners.groupBy("snapshot_name").agg(F.count("*").alias("n")).collect()),
        default=0,
    )
    blocks = max(1, -(-largest_snapshot // LEARNERS_PER_BLOCK))
    block = F.pmod(F.col("learner_id"), F.lit(blocks)).alias("block")
    consumed = (
        dbt.ref("int_learner_course_affinities_decayed")
        .filter("is_consumed")
        .select("snapshot_name", "learner_id", "course_id", block)
    )
    ranked = (
        learners.select("snapshot_name", "learner_id", "lf", block)
        .groupBy("snapshot_name", "block")
        .cogroup(consumed.groupBy("snapshot_name", "block"))
        .applyInPandas(_block_ranker(course_factors, k, version), RANKED_SCHEMA)
    )
    return ranked


def _course_matrices(rows: list[Any]) -> dict[str, tuple[Any, Any]]:
    """Per snapshot: the published courses' ids (sorted) and their factor matrix."""
    import numpy as np

    by_snapshot: dict[str, list[tuple[int, list[float]]]] = {}
    for r in rows:
        by_snapshot.setdefault(r["snapshot_name"], []).append((int(r["course_id"]), r["factors"]))
    matrices = {}
    for snapshot_name, pairs in by_snapshot.items():
        pairs.sort(key=lambda pair: pair[0])
        ids = np.asarray([pair[0] for pair in pairs], dtype=np.int64)
        matrices[snapshot_name] = (ids, np.asarray([pair[1] for pair in pairs], dtype=np.float64))
    return matrices


def _block_ranker(course_factors: dict[str, tuple[Any, Any]], k: int, version: str) -> Any:
    """The function Spark runs per (snapshot, block): learners' top k by factor_top_k."""

    def rank_block(learners: Any, consumed: Any) -> Any:
        import numpy as np
        import pandas as pd

        from dataproducts_pipeline.ranking import factor_top_k

        columns = [c.split()[0] for c in RANKED_SCHEMA.split(", ")]
        if learners.empty or learners["snapshot_name"].iloc[0] not in course_factors:
            return pd.DataFrame({c: [] for c in columns})
        snapshot_name = learners["snapshot_name"].iloc[0]
        course_ids, course_matrix = course_factors[snapshot_name]
        learners = learners.sort_values("learner_id", kind="stable")
        learner_matrix = np.asarray(learners["lf"].tolist(), dtype=np.float64)
        top = factor_top_k(
            learners["learner_id"].to_numpy(dtype=np.int64),
            learner_matrix,
            course_ids,
            course_matrix,
            consumed[["learner_id", "course_id"]],
            k,
        )
        return pd.DataFrame(
            {
                "snapshot_name": snapshot_name,
                "learner_id": top["learner_id"],
                "course_id": top["course_id"],
                "anchor_course_id": pd.array([None] * len(top), dtype="Int64"),
                "module": "als",
                "algorithm": "implicit_als",
                "reason": "Learners like you also took",
                "model_version": version,
                "module_rank": top["module_rank"].astype(np.int64),
                "score": top["score"].astype(np.float64),
            },
            columns=columns,
        )

    return rank_block


#: Affinity rows per block of the recent_activity scoring on Spark: one Python worker
#: scores a block, a chunk of learners at a time (``ranking.sar_top_k``).
AFFINITY_ROWS_PER_BLOCK = 2_000_000

#: The columns of ``int_recent_activity_recommendations_scored`` (as on DuckDB).
SAR_SCORED_SCHEMA = (
    "snapshot_name string, learner_id bigint, course_id bigint, module_rank bigint, score double"
)


def recent_activity_scored(dbt: Any, spark: Any) -> Any:
    """``int_recent_activity_recommendations_scored`` on Spark: per snapshot, every listed
    learner's top k courses by the SAR score, the rules and code of the DuckDB model.

    The neighbourhoods (each course's ``max_neighbors`` most similar courses, similarity
    desc then id, as ``ranking.nearest_neighbours`` orders them) are pruned in Spark and
    collected: at most courses x max_neighbors rows a snapshot, sent to every worker with
    the function. The listed learners' affinity rows are grouped by (snapshot, block of
    learner ids), so each learner's rows are in one block, and each block is scored by
    :func:`dataproducts_pipeline.ranking.sar_top_k`.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    k = int(dbt.config.get("recommendations_k"))
    max_neighbors = int(dbt.config.get("max_neighbors"))
    nearest = Window.partitionBy("snapshot_name", "course_id").orderBy(
        F.col("similarity").desc(), F.col("similar_course_id").asc()
    )
    neighbour_rows = (
        dbt.ref("int_course_similarities_scored")
        .select("snapshot_name", "course_id", "similar_course_id", "similarity")
        .withColumn("neighbour_rank", F.row_number().over(nearest))
        .filter(F.col("neighbour_rank") <= max_neighbors)
        .drop("neighbour_rank")
        .toPandas()
    )
    neighbours = {
        str(name): frame.drop(columns="snapshot_name").reset_index(drop=True)
        for name, frame in neighbour_rows.groupby("snapshot_name", sort=True)
    }
    courses = dbt.ref("stg_raw__courses").filter("is_published").select("course_id")
    published = courses.toPandas()["course_id"].to_numpy(dtype="int64")
    listed = dbt.ref("int_recommendation_learners_sampled").select("snapshot_name", "learner_id")
    affinities = (
        dbt.ref("int_learner_course_affinities_decayed")
        .select("snapshot_name", "learner_id", "course_id", "affinity", "is_consumed")
        .join(listed, ["snapshot_name", "learner_id"])
    )
    largest_snapshot = max(
        (
            r["n"]
            for r in affinities.groupBy("snapshot_name").agg(F.count("*").alias("n")).collect()
        ),
        default=0,
    )
    # at least two blocks, so that every build (the tests' tiny one too) takes the split
    blocks = max(2, -(-largest_snapshot // AFFINITY_ROWS_PER_BLOCK))
    return (
        affinities.withColumn("block", F.pmod(F.col("learner_id"), F.lit(blocks)))
        .groupBy("snapshot_name", "block")
        .applyInPandas(_sar_block_ranker(neighbours, published, k), SAR_SCORED_SCHEMA)
    )


def _sar_block_ranker(neighbours: dict[str, Any], published: Any, k: int) -> Any:
    """The function Spark runs per (snapshot, block): the learners' top k by sar_top_k."""

    def rank_block(affinities: Any) -> Any:
        import numpy as np
        import pandas as pd

        from dataproducts_pipeline.ranking import sar_top_k

        columns = [c.split()[0] for c in SAR_SCORED_SCHEMA.split(", ")]
        if affinities.empty or affinities["snapshot_name"].iloc[0] not in neighbours:
            return pd.DataFrame({c: [] for c in columns})
        snapshot_name = affinities["snapshot_name"].iloc[0]
        top = sar_top_k(
            affinities[["learner_id", "course_id", "affinity", "is_consumed"]],
            neighbours[snapshot_name],
            published,
            k,
        )
        return pd.DataFrame(
            {
                "snapshot_name": snapshot_name,
                "learner_id": top["learner_id"].astype(np.int64),
                "course_id": top["course_id"].astype(np.int64),
                "module_rank": top["module_rank"].astype(np.int64),
                "score": top["score"].astype(np.float64),
            },
            columns=columns,
        )

    return rank_block
