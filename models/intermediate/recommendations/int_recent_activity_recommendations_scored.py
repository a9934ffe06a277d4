"""The SAR scores of module recent_activity, as a sparse matrix product (dbt Python model).

score(learner, course) = sum over the learner's courses i of affinity(learner, i) *
similarity(i, course), over the recommendations_max_neighbors most similar courses of
each i; only published courses the learner has not consumed, with a positive score;
top k per learner by score, ties by course id. The same definition as the SQL path of
int_recent_activity_recommendations_ranked (which reads this table where dbt runs
Python models): in SQL the (learner, course) sum is a hash aggregate over every
affinity x neighbour pair, the costly step of the whole build at scale; here it is
affinity matrix x similarity matrix, chunk by chunk, with the exact top k of
dataproducts.ranking.sar_top_k. DuckDB only; PostgreSQL uses the SQL path.
"""

import numpy as np
import pandas as pd

from dataproducts.ranking import sar_top_k


def model(dbt, session):
    dbt.config(materialized="table")
    k = int(dbt.config.get("recommendations_k"))
    max_neighbors = int(dbt.config.get("max_neighbors"))

    affinities = dbt.ref("int_learner_course_affinities_decayed")
    neighbours = dbt.ref("int_course_similarities_scored").filter(
        f"similarity_rank <= {max_neighbors}"
    )
    courses = dbt.ref("stg_raw__courses").filter("is_published").project("course_id").df()
    published = courses["course_id"].to_numpy(dtype=np.int64)
    snapshot_names = sorted(
        affinities.project("snapshot_name").distinct().df()["snapshot_name"].tolist()
    )

    frames = []
    for snapshot_index, snapshot_name in enumerate(snapshot_names):
        where = f"snapshot_name = '{snapshot_name}'"
        scored = sar_top_k(
            affinities.filter(where).project("learner_id, course_id, affinity, is_consumed").df(),
            neighbours.filter(where).project("course_id, similar_course_id, similarity").df(),
            published,
            k,
        )
        frames.append(scored.assign(snapshot_index=np.int16(snapshot_index)))
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
    # the snapshot name is added in SQL: as a pandas string column it would cost more
    # to hand to DuckDB than the scoring
    snapshot_sql = "".join(
        f" when {index} then '{name}'" for index, name in enumerate(snapshot_names)
    )
    snapshot_sql = f"case snapshot_index{snapshot_sql} end" if snapshot_names else "null"
    return session.from_df(numeric).project(
        f"""
        cast({snapshot_sql} as varchar) as snapshot_name,
        learner_id,
        course_id,
        module_rank,
        score
        """
    )
