"""Module als: score = learner factors . course factors (ALS fitted per snapshot).

Only published courses the learner has not consumed and that the fit has seen;
top k per learner by score, ties by course id. Scores are computed in chunks of
learners, so memory stays at (chunk x courses). DuckDB only (dbt Python model).
"""

import numpy as np
import pandas as pd

COLUMNS = [
    "snapshot_name",
    "learner_id",
    "course_id",
    "anchor_course_id",
    "module",
    "algorithm",
    "reason",
    "model_version",
    "module_rank",
    "score",
]


def wide(long, id_column):
    """(snapshot, id, factor_index, factor_value) rows -> sorted ids, matrix."""
    table = long.pivot(index=id_column, columns="factor_index", values="factor_value").sort_index()
    return table.index.to_numpy(dtype=np.int64), table.to_numpy(dtype=np.float64)


def top_k(scores, allowed, course_ids, k):
    """Per row: the k best allowed columns by score desc, then course id asc."""
    masked = np.where(allowed, scores, -np.inf)
    # course_ids are sorted ascending, so a stable sort on -score breaks ties by course id
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(masked, order, axis=1)
    return order, picked


def model(dbt, session):
    dbt.config(materialized="table")
    k = int(dbt.config.get("recommendations_k"))
    chunk = 5000
    version = "als-f{}-i{}-r{}-a{}-s{}-v1".format(
        dbt.config.get("als_factors"),
        dbt.config.get("als_iterations"),
        dbt.config.get("als_regularization"),
        dbt.config.get("als_alpha"),
        dbt.config.get("als_seed"),
    )

    learner_factors = dbt.ref("int_learner_factors_fitted").df()
    course_factors = dbt.ref("int_course_factors_fitted").df()
    affinities = dbt.ref("int_learner_course_affinities_decayed").df()
    courses = dbt.ref("stg_raw__courses").df()
    published = set(courses.loc[courses["is_published"].astype(bool), "course_id"].astype(np.int64))

    frames = []
    for snapshot_name in sorted(learner_factors["snapshot_name"].unique()):
        learner_ids, user_matrix = wide(
            learner_factors[learner_factors["snapshot_name"] == snapshot_name], "learner_id"
        )
        course_ids, item_matrix = wide(
            course_factors[course_factors["snapshot_name"] == snapshot_name], "course_id"
        )
        consumed = affinities[
            (affinities["snapshot_name"] == snapshot_name) & affinities["is_consumed"].astype(bool)
        ]
        consumed_rows = np.searchsorted(learner_ids, consumed["learner_id"].to_numpy(np.int64))
        consumed_cols = np.searchsorted(course_ids, consumed["course_id"].to_numpy(np.int64))
        known = (consumed_rows < len(learner_ids)) & (consumed_cols < len(course_ids))
        known &= learner_ids[np.minimum(consumed_rows, len(learner_ids) - 1)] == consumed[
            "learner_id"
        ].to_numpy(np.int64)
        known &= course_ids[np.minimum(consumed_cols, len(course_ids) - 1)] == consumed[
            "course_id"
        ].to_numpy(np.int64)
        consumed_rows, consumed_cols = consumed_rows[known], consumed_cols[known]
        is_published = np.array([c in published for c in course_ids], dtype=bool)

        for start in range(0, len(learner_ids), chunk):
            stop = min(start + chunk, len(learner_ids))
            scores = user_matrix[start:stop] @ item_matrix.T
            allowed = np.broadcast_to(is_published, scores.shape).copy()
            in_chunk = (consumed_rows >= start) & (consumed_rows < stop)
            allowed[consumed_rows[in_chunk] - start, consumed_cols[in_chunk]] = False
            order, picked = top_k(scores, allowed, course_ids, min(k, len(course_ids)))
            rows, ranks = np.nonzero(np.isfinite(picked))
            frames.append(
                pd.DataFrame(
                    {
                        "snapshot_name": snapshot_name,
                        "learner_id": learner_ids[start:stop][rows],
                        "course_id": course_ids[order[rows, ranks]],
                        "module_rank": (ranks + 1).astype(np.int64),
                        "score": picked[rows, ranks],
                    }
                )
            )

    result = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {
                "snapshot_name": pd.Series(dtype="object"),
                "learner_id": pd.Series(dtype="int64"),
                "course_id": pd.Series(dtype="int64"),
                "module_rank": pd.Series(dtype="int64"),
                "score": pd.Series(dtype="float64"),
            }
        )
    )
    result["anchor_course_id"] = pd.array([None] * len(result), dtype="Int64")
    result["module"] = "als"
    result["algorithm"] = "implicit_als"
    result["reason"] = "Learners like you also took"
    result["model_version"] = version
    return result[COLUMNS]
