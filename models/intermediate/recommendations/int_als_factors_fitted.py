"""Implicit-feedback matrix factorization (ALS, Hu-Koren-Volinsky) of learner-course affinity.

One fit per snapshot on the SAR affinities known at that snapshot: confidence =
alpha * affinity (the `implicit` package adds 1 for the observed preference). The
output is long: one row per (snapshot, entity, factor). The learner and course
factor tables (int_learner_factors_fitted, int_course_factors_fitted) and the scoring
(int_als_recommendations_ranked) read it.
A DuckDB-only dbt Python model; disabled where the adapter has no Python models.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from dataproducts.ranking import stack_snapshots


def fit_snapshot(interactions, factors, iterations, regularization, alpha, seed, num_threads=0):
    """Fit ALS on one snapshot's (learner_id, course_id, affinity) rows."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    learners, rows = np.unique(np.asarray(interactions["learner_id"]), return_inverse=True)
    courses, cols = np.unique(np.asarray(interactions["course_id"]), return_inverse=True)
    values = np.asarray(interactions["affinity"], dtype=np.float32)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(learners), len(courses)))
    # canonical order within each row, so the fit does not depend on the row order of
    # the affinity table (a parallel aggregate writes it in no fixed order)
    matrix.sort_indices()
    # implicit parallelizes over learners itself (num_threads 0 = every core; each
    # learner's and each course's solve is independent of the others, so the factors
    # are the same whatever the thread count); BLAS threads on top only contend
    with threadpool_limits(limits=1, user_api="blas"):
        als = AlternatingLeastSquares(
            factors=factors,
            iterations=iterations,
            regularization=regularization,
            alpha=alpha,
            random_state=seed,
            num_threads=num_threads,
            calculate_training_loss=False,
        )
        als.fit(matrix, show_progress=False)
    return learners, np.asarray(als.user_factors), courses, np.asarray(als.item_factors)


def to_long(entity_code, ids, matrix):
    n, f = matrix.shape
    return pd.DataFrame(
        {
            "entity_code": np.full(n * f, entity_code, dtype=np.int8),
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
    threads = int(dbt.config.get("als_threads"))

    affinities = dbt.ref("int_learner_course_affinities_decayed").filter("affinity > 0")
    snapshot_names = sorted(
        affinities.project("snapshot_name").distinct().df()["snapshot_name"].tolist()
    )
    frames = {}
    for snapshot_name in snapshot_names:
        # numpy arrays straight from DuckDB (no pandas frame in between)
        interactions = (
            affinities.filter(f"snapshot_name = '{snapshot_name}'")
            .project("learner_id, course_id, affinity")
            .fetchnumpy()
        )
        learners, learner_factors, courses, course_factors = fit_snapshot(
            interactions, factors, iterations, regularization, alpha, seed, num_threads=threads
        )
        frames[snapshot_name] = pd.concat(
            [to_long(0, learners, learner_factors), to_long(1, courses, course_factors)],
            ignore_index=True,
        )
    # text columns are added in SQL: as pandas string columns they cost more to hand
    # to DuckDB than the fit
    empty = to_long(0, np.array([], dtype=np.int64), np.zeros((0, factors)))
    numeric, snapshot_sql = stack_snapshots(frames, empty=empty)
    return session.from_df(numeric).project(
        f"""
        cast({snapshot_sql} as varchar) as snapshot_name,
        cast(case entity_code when 0 then 'learner' else 'course' end as varchar) as entity_type,
        entity_id,
        factor_index,
        factor_value
        """
    )
