"""int_course_similarities_scored as a sparse matrix product (dbt Python model).

The same definition as the SQL path of int_course_similarities_scored (which reads this
table where dbt runs Python models): the latest snapshot's learner-course rows, each
with its level, the number of snapshots it exists at (first_event_at at or before the
snapshot's as_of, tested from the earliest snapshot up, as the SQL's case does); at
snapshot s (1 = the latest) the rows with level >= s. Per snapshot, co-occurrence
counts are the binary learner x course matrix's X.T @ X, the similarity (jaccard, lift
or cosine, var recommendations_similarity) is computed once per unordered pair seen by
at least recommendations_min_cooccurrence learners, then mirrored
(dataproducts_pipeline.recommendations.snapshot_similarities). In SQL the counts are a hash
aggregate over every learner's course pairs, the costly step. DuckDB only; PostgreSQL
uses the SQL path.
"""

import numpy as np
import pandas as pd

from dataproducts.errors import ConfigurationError
from dataproducts_pipeline.ranking import stack_snapshots
from dataproducts_pipeline.recommendations import snapshot_similarities

SNAPSHOT_NAMES = ("serving", "evaluation", "training")


def model(dbt, session):
    dbt.config(materialized="table")
    method = str(dbt.config.get("method"))
    # a pair counts from one learner up, whatever the var says (as in the SQL)
    min_cooccurrence = max(int(dbt.config.get("min_cooccurrence")), 1)
    # the snapshots of macro recommendations_snapshot_names(), latest first
    snapshot_names = list(SNAPSHOT_NAMES)

    affinities = dbt.ref("int_learner_course_affinities_decayed")
    snapshots = dbt.ref("int_recommendation_snapshots_defined").df()
    as_of = dict(zip(snapshots["snapshot_name"], snapshots["as_of"], strict=True))
    unknown = sorted(set(as_of) - set(snapshot_names))
    if unknown:
        raise ConfigurationError(
            f"int_recommendation_snapshots_defined has snapshots {unknown} that "
            "int_course_similarities_computed does not know: add them to SNAPSHOT_NAMES "
            "(the order of macro recommendations_snapshot_names(), latest first)"
        )

    rows = (
        affinities.filter(f"snapshot_name = '{snapshot_names[0]}'")
        .project("learner_id, course_id, first_event_at")
        .order("learner_id, course_id")
        .fetchnumpy()
    )
    first_event_at = pd.to_datetime(rows["first_event_at"])
    # the SQL's case: the earliest snapshot whose as_of the first event is at or before
    levels = np.ones(len(first_event_at), dtype=np.int64)
    unset = np.ones(len(first_event_at), dtype=bool)
    for level in range(len(snapshot_names), 1, -1):
        bound = as_of.get(snapshot_names[level - 1])
        if bound is None or pd.isna(bound):
            continue
        hit = unset & np.asarray(first_event_at <= pd.Timestamp(bound))
        levels[hit] = level
        unset &= ~hit

    frames = snapshot_similarities(
        rows["learner_id"],
        rows["course_id"],
        levels,
        n_levels=len(snapshot_names),
        method=method,
        min_cooccurrence=min_cooccurrence,
        mirrored=False,
    )
    by_name = dict(zip(snapshot_names, frames, strict=True))
    # the snapshot name is added in SQL: as a pandas string column it would cost more
    # to hand to DuckDB than the counting; the mirror (both directions) too
    numeric, snapshot_sql = stack_snapshots(by_name, empty=frames[0].iloc[:0])
    unordered = session.from_df(numeric)
    directions = [
        ("course_id", "similar_course_id", "n_first", "n_second"),
        ("similar_course_id", "course_id", "n_second", "n_first"),
    ]
    halves = [
        unordered.project(
            f"""
            cast({snapshot_sql} as varchar) as snapshot_name,
            cast({course} as bigint) as course_id,
            cast({similar} as bigint) as similar_course_id,
            cast(n_both as bigint) as n_both,
            cast({n_first} as bigint) as n_first,
            cast({n_second} as bigint) as n_second,
            cast(similarity as double) as similarity,
            cast('{method}' as varchar) as method
            """
        )
        for course, similar, n_first, n_second in directions
    ]
    return halves[0].union(halves[1])
