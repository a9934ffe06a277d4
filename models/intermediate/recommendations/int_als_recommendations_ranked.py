"""Module als: score = learner factors . course factors (ALS fitted per snapshot).

Only published courses the learner has not consumed and that the fit has seen;
top k per learner by score, ties by course id. Scores are computed in chunks of
learners (about 10M scores each), so memory stays bounded; the top k of a chunk comes from
dataproducts.ranking.top_k (a bound on the k-th score, then an exact sort of the few
cells above it), not from a sort of every score. DuckDB only (dbt Python model).
"""

import numpy as np
import pandas as pd

from dataproducts.ranking import chunk_rows, top_k


def wide(relation, id_column):
    """(id, factor_index, factor_value) rows of one snapshot -> sorted ids, (n, f) matrix.

    The rows are read sorted by id then factor, so they reshape without a pivot.
    """
    frame = (
        relation.project(f"{id_column}, factor_index, factor_value")
        .order(f"{id_column}, factor_index")
        .df()
    )
    ids = np.unique(frame[id_column].to_numpy(dtype=np.int64))
    n_factors = int(frame["factor_index"].max()) if len(frame) else 0
    if len(frame) != len(ids) * n_factors:
        raise ValueError(
            f"als: {id_column} factors are incomplete ({len(frame)} rows for {len(ids)} ids and "
            f"{n_factors} factors); rebuild int_als_factors_fitted."
        )
    return ids, frame["factor_value"].to_numpy(dtype=np.float64).reshape(len(ids), n_factors)


def model(dbt, session):
    dbt.config(materialized="table")
    k = int(dbt.config.get("recommendations_k"))
    version = "als-f{}-i{}-r{}-a{}-s{}-v1".format(
        dbt.config.get("als_factors"),
        dbt.config.get("als_iterations"),
        dbt.config.get("als_regularization"),
        dbt.config.get("als_alpha"),
        dbt.config.get("als_seed"),
    )

    learner_factors = dbt.ref("int_learner_factors_fitted")
    course_factors = dbt.ref("int_course_factors_fitted")
    consumed_all = dbt.ref("int_learner_course_affinities_decayed").filter("is_consumed")
    courses = dbt.ref("stg_raw__courses").filter("is_published").project("course_id").df()
    published = courses["course_id"].to_numpy(dtype=np.int64)
    snapshot_names = sorted(
        learner_factors.project("snapshot_name").distinct().df()["snapshot_name"].tolist()
    )

    frames = []
    for snapshot_index, snapshot_name in enumerate(snapshot_names):
        where = f"snapshot_name = '{snapshot_name}'"
        learner_ids, user_matrix = wide(learner_factors.filter(where), "learner_id")
        course_ids, item_matrix = wide(course_factors.filter(where), "course_id")
        # unpublished courses are never listed: score the published ones only
        is_published = np.isin(course_ids, published)
        course_ids, item_matrix = course_ids[is_published], item_matrix[is_published]
        if len(learner_ids) == 0 or len(course_ids) == 0:
            continue
        consumed = consumed_all.filter(where).project("learner_id, course_id").df()
        consumed_learners = consumed["learner_id"].to_numpy(np.int64)
        consumed_courses = consumed["course_id"].to_numpy(np.int64)
        consumed_rows = np.searchsorted(learner_ids, consumed_learners)
        consumed_cols = np.searchsorted(course_ids, consumed_courses)
        known = (consumed_rows < len(learner_ids)) & (consumed_cols < len(course_ids))
        known &= learner_ids[np.minimum(consumed_rows, len(learner_ids) - 1)] == consumed_learners
        known &= course_ids[np.minimum(consumed_cols, len(course_ids) - 1)] == consumed_courses
        consumed_rows, consumed_cols = consumed_rows[known], consumed_cols[known]

        chunk = chunk_rows(len(course_ids))
        for start in range(0, len(learner_ids), chunk):
            stop = min(start + chunk, len(learner_ids))
            scores = user_matrix[start:stop] @ item_matrix.T
            # consumed courses become -inf in place (never listed)
            in_chunk = (consumed_rows >= start) & (consumed_rows < stop)
            scores[consumed_rows[in_chunk] - start, consumed_cols[in_chunk]] = -np.inf
            rows, cols, ranks, values = top_k(scores, None, k)
            frames.append(
                pd.DataFrame(
                    {
                        "snapshot_index": np.full(len(rows), snapshot_index, dtype=np.int16),
                        "learner_id": learner_ids[start:stop][rows],
                        "course_id": course_ids[cols],
                        "module_rank": ranks,
                        "score": values,
                    }
                )
            )

    numeric = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {
                "snapshot_index": pd.Series(dtype="int16"),
                "learner_id": pd.Series(dtype="int64"),
                "course_id": pd.Series(dtype="int64"),
                "module_rank": pd.Series(dtype="int64"),
                "score": pd.Series(dtype="float64"),
            }
        )
    )
    # the constant text columns are added in SQL: as pandas string columns they would
    # cost more to hand to DuckDB than the whole ranking
    snapshot_sql = "".join(
        f" when {index} then '{name}'" for index, name in enumerate(snapshot_names)
    )
    snapshot_sql = f"case snapshot_index{snapshot_sql} end" if snapshot_names else "null"
    return session.from_df(numeric).project(
        f"""
        cast({snapshot_sql} as varchar) as snapshot_name,
        learner_id,
        course_id,
        cast(null as bigint) as anchor_course_id,
        'als' as module,
        'implicit_als' as algorithm,
        'Learners like you also took' as reason,
        '{version}' as model_version,
        module_rank,
        score
        """
    )
