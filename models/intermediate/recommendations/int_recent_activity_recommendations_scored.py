"""The SAR scores of module recent_activity, as a sparse matrix product (dbt Python model).

score(learner, course) = sum over the learner's courses i of affinity(learner, i) *
similarity(i, course), over the recommendations_max_neighbors most similar courses of
each i (dataproducts_pipeline.ranking.nearest_neighbours: similarity desc, then id); only published courses the learner has not consumed, with a positive score;
top k per learner by score, ties by course id. The same definition as the SQL path of
int_recent_activity_recommendations_ranked (which reads this table where dbt runs
Python models): in SQL the (learner, course) sum is a hash aggregate over every
affinity x neighbour pair, the costly step of the whole build at scale; here it is
affinity matrix x similarity matrix, chunk by chunk, with the exact top k of
dataproducts_pipeline.ranking.sar_top_k. On Spark: dataproducts_pipeline.spark_ml.recent_activity_scored
(the same kernel, a block of learners per Python worker, run through Spark Connect);
PostgreSQL uses the SQL path.
"""

import numpy as np

from dataproducts_pipeline.ranking import (
    nearest_neighbours,
    ranked_frame,
    sar_top_k,
    stack_snapshots,
)


def model(dbt, session):
    dbt.config(materialized="table")
    if dbt.config.get("target_type") == "spark":
        from dataproducts_pipeline.spark_ml import recent_activity_scored

        return recent_activity_scored(dbt, session)
    k = int(dbt.config.get("recommendations_k"))
    max_neighbors = int(dbt.config.get("max_neighbors"))

    affinities = dbt.ref("int_learner_course_affinities_decayed")
    listed = dbt.ref("int_recommendation_learners_sampled")
    similarities = dbt.ref("int_course_similarities_scored")
    courses = dbt.ref("stg_raw__courses").filter("is_published").project("course_id").df()
    published = courses["course_id"].to_numpy(dtype=np.int64)
    snapshot_names = sorted(
        affinities.project("snapshot_name").distinct().df()["snapshot_name"].tolist()
    )

    frames = {}
    for snapshot_name in snapshot_names:
        where = f"snapshot_name = '{snapshot_name}'"
        pairs = similarities.filter(where).project("course_id, similar_course_id, similarity").df()
        nearest = nearest_neighbours(
            pairs["course_id"].to_numpy(),
            pairs["similar_course_id"].to_numpy(),
            pairs["similarity"].to_numpy(),
            max_neighbors,
        )
        # listed learners only (everyone at serving, the evaluation sample before)
        listed_affinities = affinities.filter(where).join(
            listed.filter(where).project("learner_id"), "learner_id"
        )
        frames[snapshot_name] = sar_top_k(
            listed_affinities.project("learner_id, course_id, affinity, is_consumed").df(),
            pairs[nearest],
            published,
            k,
        )
    # the snapshot name is added in SQL: as a pandas string column it would cost more
    # to hand to DuckDB than the scoring
    numeric, snapshot_sql = stack_snapshots(frames, empty=ranked_frame())
    return session.from_df(numeric).project(
        f"""
        cast({snapshot_sql} as varchar) as snapshot_name,
        learner_id,
        course_id,
        module_rank,
        score
        """
    )
