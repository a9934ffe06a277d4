"""Module als: score = learner factors . course factors (ALS fitted per snapshot).

Only published courses the learner has not consumed and that the fit has seen, for
the learners of int_recommendation_learners_sampled (everyone at serving, the
evaluation sample at the earlier snapshots; the fit used every learner); top k per
learner by score, ties by course id. Scores are computed in chunks of learners (about 10M scores each), so memory stays bounded; the top k of a chunk comes from
dataproducts_pipeline.ranking.factor_top_k (top_k: a bound on the k-th score, then an exact sort
of the few cells above it), not from a sort of every score. On Spark: dataproducts_pipeline.spark_ml.als_ranked (the same rules as a
join and a window, run through Spark Connect); disabled on PostgreSQL.
"""

import numpy as np

from dataproducts_pipeline.ranking import factor_top_k, ranked_frame, stack_snapshots


def factor_matrix(relation, id_column):
    """(id, factors) rows of one snapshot -> sorted ids, (n, f) matrix.

    ``factors`` is a fixed-size array, so the rows stack into the matrix with no pivot
    and no per-row Python objects.
    """
    table = relation.project(f"{id_column}, factors").order(id_column).to_arrow_table()
    ids = table.column(id_column).to_numpy().astype(np.int64, copy=False)
    vectors = table.column("factors").combine_chunks()
    n_factors = vectors.type.list_size
    if vectors.null_count:
        raise ValueError(
            f"als: {vectors.null_count} {id_column} factor vectors are null; "
            "rebuild int_als_factors_fitted."
        )
    values = vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return ids, values.reshape(len(ids), n_factors)


def model(dbt, session):
    dbt.config(materialized="table")
    if dbt.config.get("target_type") == "spark":
        from dataproducts_pipeline.spark_ml import als_ranked

        return als_ranked(dbt, session)
    k = int(dbt.config.get("recommendations_k"))
    # built in the model's YAML config from the fit's vars (see there)
    version = dbt.config.get("model_version")

    # the fit's own long table (not the learner and course factor tables split out of
    # it): those two are built beside this model instead of before it
    factors = dbt.ref("int_als_factors_fitted")
    learner_factors = factors.filter("entity_type = 'learner'").project(
        "snapshot_name, entity_id as learner_id, factors"
    )
    course_factors = factors.filter("entity_type = 'course'").project(
        "snapshot_name, entity_id as course_id, factors"
    )
    consumed_all = dbt.ref("int_learner_course_affinities_decayed").filter("is_consumed")
    listed = dbt.ref("int_recommendation_learners_sampled")
    courses = dbt.ref("stg_raw__courses").filter("is_published").project("course_id").df()
    published = courses["course_id"].to_numpy(dtype=np.int64)
    snapshot_names = sorted(
        learner_factors.project("snapshot_name").distinct().df()["snapshot_name"].tolist()
    )

    frames = {}
    for snapshot_name in snapshot_names:
        where = f"snapshot_name = '{snapshot_name}'"
        # listed learners only (everyone at serving, the evaluation sample before); the
        # fit itself used every learner of the snapshot
        learner_ids, user_matrix = factor_matrix(
            learner_factors.filter(where).join(
                listed.filter(where).project("learner_id"), "learner_id"
            ),
            "learner_id",
        )
        course_ids, item_matrix = factor_matrix(course_factors.filter(where), "course_id")
        # unpublished courses are never listed: score the published ones only
        is_published = np.isin(course_ids, published)
        consumed = consumed_all.filter(where).project("learner_id, course_id").df()
        frames[snapshot_name] = factor_top_k(
            learner_ids,
            user_matrix,
            course_ids[is_published],
            item_matrix[is_published],
            consumed,
            k,
        )

    # the constant text columns are added in SQL: as pandas string columns they would
    # cost more to hand to DuckDB than the whole ranking
    numeric, snapshot_sql = stack_snapshots(frames, empty=ranked_frame())
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
