"""Implicit-feedback matrix factorization (ALS, Hu-Koren-Volinsky) of learner-course affinity.

One fit per snapshot on the SAR affinities known at that snapshot: confidence =
alpha * affinity (the `implicit` package adds 1 for the observed preference). The
output is long: one row per (snapshot, entity, factor). The learner and course
factor tables (int_learner_factors_fitted, int_course_factors_fitted) read it.
A DuckDB-only dbt Python model; disabled where the adapter has no Python models.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp


def fit_snapshot(interactions, factors, iterations, regularization, alpha, seed):
    """Fit ALS on one snapshot's (learner_id, course_id, affinity) rows."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    learners = np.sort(interactions["learner_id"].unique())
    courses = np.sort(interactions["course_id"].unique())
    rows = np.searchsorted(learners, interactions["learner_id"].to_numpy())
    cols = np.searchsorted(courses, interactions["course_id"].to_numpy())
    values = interactions["affinity"].to_numpy(dtype=np.float32)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(learners), len(courses)))
    # implicit parallelizes over learners itself; BLAS threads on top only contend
    with threadpool_limits(limits=1, user_api="blas"):
        als = AlternatingLeastSquares(
            factors=factors,
            iterations=iterations,
            regularization=regularization,
            alpha=alpha,
            random_state=seed,
            num_threads=1,
            calculate_training_loss=False,
        )
        als.fit(matrix, show_progress=False)
    return learners, np.asarray(als.user_factors), courses, np.asarray(als.item_factors)


def to_long(snapshot_name, entity_type, ids, matrix):
    n, f = matrix.shape
    return pd.DataFrame(
        {
            "snapshot_name": snapshot_name,
            "entity_type": entity_type,
            "entity_id": np.repeat(ids.astype(np.int64), f),
            "factor_index": np.tile(np.arange(1, f + 1, dtype=np.int32), n),
            "factor_value": matrix.astype(np.float64).ravel(),
        }
    )


def model(dbt, session):
    dbt.config(materialized="table")
    factors = int(dbt.config.get("als_factors"))
    iterations = int(dbt.config.get("als_iterations"))
    regularization = float(dbt.config.get("als_regularization"))
    alpha = float(dbt.config.get("als_alpha"))
    seed = int(dbt.config.get("als_seed"))

    affinities = dbt.ref("int_learner_course_affinities_decayed").df()
    affinities = affinities[affinities["affinity"] > 0]
    frames = []
    for snapshot_name, interactions in sorted(affinities.groupby("snapshot_name")):
        learners, learner_factors, courses, course_factors = fit_snapshot(
            interactions, factors, iterations, regularization, alpha, seed
        )
        frames.append(to_long(snapshot_name, "learner", learners, learner_factors))
        frames.append(to_long(snapshot_name, "course", courses, course_factors))
    columns = ["snapshot_name", "entity_type", "entity_id", "factor_index", "factor_value"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            columns, ["object", "object", "int64", "int32", "float64"], strict=True
        )})
    return pd.concat(frames, ignore_index=True)[columns]
