"""Recommendations product: metric and similarity definitions checked by hand, then the
built marts checked against those independent implementations on both engines."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dataproducts.errors import ConfigurationError
from dataproducts.recommendations import (
    cooccurrence_similarity,
    ranking_metrics,
    recommendations_for,
    top_similar,
)

ln = math.log
REPO = Path(__file__).resolve().parents[2]
PERSONALIZED_SQL = {"recent_activity", "because_you_viewed", "next_in_specialization"}
PYTHON_MODULES = {"als", "for_you"}


def frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


# --- metric definitions, by hand ---------------------------------------------------------


def test_ranking_metrics_hand_case() -> None:
    """k = 3. Truth: user 1 {101, 102}, user 2 {106}; user 3 has none (not evaluated).

    List A: user 1 = 101 ✓, 103, 102 ✓; user 3 = 101, 102, 103.
      Only user 1 is evaluated. precision = 2/3; recall = 2/2 = 1;
      DCG = 1/ln 2 + 1/ln 4 (hits at ranks 1, 3); IDCG = 1/ln 2 + 1/ln 3 (R = 2 ideal hits);
      MAP = (1/1 + 2/3) / min(2, 3) = 5/6.
    List B: user 1 = 104, 105, 101 ✓; user 2 = 106 ✓, 104, 105; user 3 = 101, 102, 103.
      user 1: precision 1/3, recall 1/2, NDCG (1/ln 4) / (1/ln 2 + 1/ln 3), AP (1/3) / 2.
      user 2: precision 1/3, recall 1, NDCG 1, AP 1/1 / 1 = 1.
      Means over the 2 users evaluated.
    """
    truth = frame([(1, 101), (1, 102), (2, 106)], ["user", "item"])
    list_a = frame(
        [(1, 101, 1), (1, 103, 2), (1, 102, 3), (3, 101, 1), (3, 102, 2), (3, 103, 3)],
        ["user", "item", "rank"],
    )
    a = ranking_metrics(list_a, truth, k=3)
    assert a.n_users == 1
    assert a.precision_at_k == pytest.approx(2 / 3)
    assert a.recall_at_k == pytest.approx(1.0)
    assert a.ndcg_at_k == pytest.approx((1 / ln(2) + 1 / ln(4)) / (1 / ln(2) + 1 / ln(3)))
    assert a.map_at_k == pytest.approx(5 / 6)

    list_b = frame(
        [
            *[(1, 104, 1), (1, 105, 2), (1, 101, 3)],
            *[(2, 106, 1), (2, 104, 2), (2, 105, 3)],
            *[(3, 101, 1), (3, 102, 2), (3, 103, 3)],
        ],
        ["user", "item", "rank"],
    )
    b = ranking_metrics(list_b, truth, k=3)
    ndcg_user1 = (1 / ln(4)) / (1 / ln(2) + 1 / ln(3))
    assert b.n_users == 2
    assert b.precision_at_k == pytest.approx(1 / 3)
    assert b.recall_at_k == pytest.approx((1 / 2 + 1) / 2)
    assert b.ndcg_at_k == pytest.approx((ndcg_user1 + 1) / 2)
    assert b.map_at_k == pytest.approx(((1 / 3) / 2 + 1) / 2)


def test_map_divides_by_min_of_relevant_and_k() -> None:
    """5 relevant items, k = 2, hits at ranks 1 and 2: AP = (1/1 + 2/2) / min(5, 2) = 1
    (dividing by |relevant| = 5 would give 0.4). precision = 2/2 = 1, recall = 2/5,
    NDCG = 1 (both ideal positions hit). Rows ranked beyond k are ignored."""
    truth = frame([(1, i) for i in range(10, 15)], ["user", "item"])
    recs = frame([(1, 10, 1), (1, 11, 2), (1, 12, 3)], ["user", "item", "rank"])
    m = ranking_metrics(recs, truth, k=2)
    assert (m.precision_at_k, m.recall_at_k) == (pytest.approx(1.0), pytest.approx(0.4))
    assert m.ndcg_at_k == pytest.approx(1.0)
    assert m.map_at_k == pytest.approx(1.0)


def test_ranking_metrics_without_common_users_are_zero() -> None:
    truth = frame([(2, 10)], ["user", "item"])
    recs = frame([(1, 10, 1)], ["user", "item", "rank"])
    assert ranking_metrics(recs, truth, k=10).n_users == 0
    with pytest.raises(ConfigurationError, match="positive"):
        ranking_metrics(recs, truth, k=0)


# --- similarity definitions, by hand -------------------------------------------------------


def test_cooccurrence_similarity_hand_case() -> None:
    """Users 1 {10, 11}, 2 {10, 11}, 3 {10, 12}, 4 {11}, 5 {12}: n(10) = 3, n(11) = 3,
    n(12) = 2; together: (10, 11) by 2 users, (10, 12) by 1, (11, 12) by none.
    jaccard(10, 11) = 2 / (3 + 3 - 2) = 0.5;  jaccard(10, 12) = 1 / (3 + 2 - 1) = 0.25
    lift(10, 11) = 2 / (3 * 3) = 2/9;        lift(10, 12) = 1 / (3 * 2) = 1/6
    cosine(10, 11) = 2 / sqrt(9) = 2/3;      cosine(10, 12) = 1 / sqrt(6)"""
    interactions = frame(
        [(1, 10), (1, 11), (2, 10), (2, 11), (3, 10), (3, 12), (4, 11), (5, 12), (5, 12)],
        ["user", "item"],
    )
    expected = {
        "jaccard": {(10, 11): 0.5, (10, 12): 0.25},
        "lift": {(10, 11): 2 / 9, (10, 12): 1 / 6},
        "cosine": {(10, 11): 2 / 3, (10, 12): 1 / math.sqrt(6)},
    }
    for method, values in expected.items():
        got = cooccurrence_similarity(interactions, method)
        pairs = {(r.item, r.similar_item): r.similarity for r in got.itertuples()}
        assert set(pairs) == {(10, 11), (11, 10), (10, 12), (12, 10)}, method
        for (a, b), value in values.items():
            assert pairs[(a, b)] == pytest.approx(value), (method, a, b)
            assert pairs[(b, a)] == pytest.approx(value), (method, b, a)
    thresholded = cooccurrence_similarity(interactions, "jaccard", min_cooccurrence=2)
    assert set(zip(thresholded["item"], thresholded["similar_item"], strict=True)) == {
        (10, 11),
        (11, 10),
    }
    ranked = top_similar(cooccurrence_similarity(interactions, "jaccard"), k=1)
    assert ranked[ranked["item"] == 10]["similar_item"].tolist() == [11]


def test_unknown_similarity_method_says_what_to_use() -> None:
    with pytest.raises(ConfigurationError, match="jaccard, lift, cosine"):
        cooccurrence_similarity(frame([(1, 1)], ["user", "item"]), "pearson")


# --- the built warehouse, both engines ----------------------------------------------------


def _snapshot(warehouse, name: str) -> pd.Series:
    snaps = warehouse.query("select * from intermediate.int_recommendation_snapshots_defined")
    return snaps.set_index("snapshot_name").loc[name]


def test_evaluation_mart_matches_reference_metrics(warehouse) -> None:
    """The SQL metrics equal ranking_metrics() on the same lists, with the truth rebuilt
    here from the staged events (not from the models' intermediate tables)."""
    evaluation = _snapshot(warehouse, "evaluation")
    events = warehouse.query(
        "select learner_id, course_id, event_type, occurred_at from staging.stg_raw__events"
    )
    before = events[events["occurred_at"] <= evaluation["as_of"]]
    consumed = set(
        zip(
            *before[
                before["event_type"].isin(
                    ["enroll", "item_start", "item_complete", "quiz_submit", "course_complete"]
                )
            ][["learner_id", "course_id"]].T.values,
            strict=True,
        )
    )
    window = events[
        (events["occurred_at"] > evaluation["as_of"])
        & (events["occurred_at"] <= evaluation["label_until"])
        & (events["event_type"] == "enroll")
    ]
    truth = [
        (u, c)
        for u, c in set(zip(window["learner_id"], window["course_id"], strict=True))
        if (u, c) not in consumed
    ]
    truth_df = frame(truth, ["user", "item"])
    lists = warehouse.query(
        "select learner_id as user, course_id as item, recommendation_rank as rank, module "
        "from intermediate.int_recommendations_backfilled where snapshot_name = 'evaluation'"
    )
    mart = warehouse.query("select * from marts.recommendation_evaluation").set_index("module")
    k = int(mart["k"].iloc[0])
    assert len(truth_df) > 0 and set(mart.index) == set(lists["module"])
    for module, rows in lists.groupby("module"):
        ref = ranking_metrics(rows, truth_df, k)
        got = mart.loc[module]
        assert int(got["n_learners_evaluated"]) == ref.n_users, module
        for metric in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k"):
            assert float(got[metric]) == pytest.approx(getattr(ref, metric), abs=1e-12), (
                module,
                metric,
            )
        # the baseline is the popular list on this module's evaluated learners
        users = set(rows["user"]) & set(truth_df["user"])
        popular = lists[(lists["module"] == "popular") & lists["user"].isin(users)]
        base = ranking_metrics(popular, truth_df, k)
        assert float(got["baseline_ndcg_at_k"]) == pytest.approx(base.ndcg_at_k, abs=1e-12)


def test_similarity_matches_numpy_reference(warehouse) -> None:
    """int_course_similarities_scored (serving) equals cooccurrence_similarity() on the
    learner-course pairs of the staged events up to the serving snapshot."""
    serving = _snapshot(warehouse, "serving")
    events = warehouse.query(
        "select learner_id, course_id, occurred_at from staging.stg_raw__events"
    )
    events = events[events["occurred_at"] <= serving["as_of"]]
    sql = warehouse.query(
        "select course_id, similar_course_id, similarity, method from "
        "intermediate.int_course_similarities_scored where snapshot_name = 'serving'"
    )
    method = sql["method"].iloc[0]
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    min_cooccurrence = int(project["vars"]["recommendations_min_cooccurrence"])
    ref = cooccurrence_similarity(
        events.rename(columns={"learner_id": "user", "course_id": "item"}), method, min_cooccurrence
    )
    merged = sql.merge(
        ref,
        left_on=["course_id", "similar_course_id"],
        right_on=["item", "similar_item"],
        how="outer",
        indicator=True,
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert merged["similarity_x"].to_numpy() == pytest.approx(merged["similarity_y"].to_numpy())


def test_modules_per_engine_and_cold_start(warehouse) -> None:
    """DuckDB has every module; PostgreSQL (no dbt Python models) has all but als and
    for_you, and those models are absent, not broken. Learners without events: popular only."""
    modules = set(warehouse.query("select distinct module from marts.recommendations")["module"])
    expected = {"popular"} | PERSONALIZED_SQL
    if warehouse.engine == "duckdb":
        expected |= PYTHON_MODULES
    assert modules == expected
    cold = warehouse.query(
        "select distinct r.module from marts.recommendations as r "
        "where not exists (select 1 from staging.stg_raw__events as e "
        "where e.learner_id = r.learner_id)"
    )
    assert set(cold["module"]) <= {"popular"}
    assert len(cold) == 1, "the tiny dataset plants learners without events"


def test_recommendations_for_reads_the_api(duckdb_build) -> None:
    learner = int(
        duckdb_build.scalar(
            "select learner_id from marts.recommendations where module = 'recent_activity' "
            "order by learner_id limit 1"
        )
    )
    recs = recommendations_for(learner, duckdb_path=duckdb_build.path)
    by_module: dict[str, list[int]] = {}
    for r in recs:
        by_module.setdefault(r.module, []).append(r.rank)
    assert set(by_module) == {"popular"} | PERSONALIZED_SQL | PYTHON_MODULES
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in by_module.values())
    assert recommendations_for(-1, duckdb_path=duckdb_build.path) == []


# --- the README claim, at `small` ---------------------------------------------------------


@pytest.mark.slow
def test_personalized_modules_beat_popularity_at_small(tmp_path: Path) -> None:
    """On generated `small` data every personalized module beats the popularity baseline
    (popular evaluated on the same learners) on NDCG@10. Builds only the recommendations
    part of the project (about a minute on two cores)."""
    import duckdb

    from dataproducts.generate import generate

    path = tmp_path / "small.duckdb"
    generate("small", seed=1, duckdb_path=path, progress=False)
    repo = REPO
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.update(DBT_PROFILES_DIR=str(repo), DATAPRODUCTS_DUCKDB=str(path))
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "+path:models/marts/recommendations",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    with duckdb.connect(str(path), read_only=True) as con:
        table = (
            con.execute(
                "select module, ndcg_at_k, baseline_ndcg_at_k from marts.recommendation_evaluation"
            )
            .df()
            .set_index("module")
        )
    for module in PERSONALIZED_SQL | PYTHON_MODULES:
        assert table.loc[module, "ndcg_at_k"] > table.loc[module, "baseline_ndcg_at_k"], module
