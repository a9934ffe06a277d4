"""Recommendations product: metric and similarity definitions checked by hand, then the
built marts checked against those independent implementations on both engines."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dataproducts.errors import ConfigurationError
from dataproducts.recommendations import recommendations_for
from dataproducts_pipeline.ranking import (
    factor_top_k,
    nearest_neighbours,
    sar_top_k,
    stack_snapshots,
    top_k,
)
from dataproducts_pipeline.recommendations import (
    cooccurrence_similarity,
    ranking_metrics,
    snapshot_similarities,
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


def _pairs(frame: pd.DataFrame) -> dict[tuple[int, int], tuple]:
    return {
        (r.course_id, r.similar_course_id): (r.n_both, r.n_first, r.n_second, r.similarity)
        for r in frame.itertuples()
    }


def test_snapshot_similarities_hand_case_per_snapshot() -> None:
    """The kernel of int_course_similarities_computed on the unit test's case (YAML
    test_jaccard_similarity_from_cooccurrence), rows given out of learner order and one
    (learner, course) pair twice. Learners and courses, with the snapshots each row
    exists at (level): 1 {10 (3), 11 (1: after the evaluation as_of)}, 2 {10 (3), 11 (3)},
    3 {10 (3), 12 (3)}, 4 {11 (3)}, 5 {12 (3)}.
    Level 1 (serving): n(10) = 3, n(11) = 3, n(12) = 2; together (10, 11) = 2, (10, 12) = 1.
      jaccard 2/(3+3-2) = 1/2 and 1/(3+2-1) = 1/4; lift 2/9 and 1/6; cosine 2/3, 1/sqrt(6).
    Levels 2 and 3 (without learner 1's course 11): n(10) = 3, n(11) = 2, n(12) = 2;
      (10, 11) = 1, (10, 12) = 1: jaccard 1/(3+2-1) = 1/4 both; lift 1/6 both;
      cosine 1/sqrt(6) both.
    min_cooccurrence = 2 keeps only (10, 11) at level 1 and nothing at levels 2-3."""
    learners = np.array([3, 1, 2, 1, 2, 3, 4, 5, 2])
    courses = np.array([10, 10, 10, 11, 11, 12, 11, 12, 11])
    levels = np.array([3, 3, 3, 1, 3, 3, 3, 3, 3])
    r6 = 1 / math.sqrt(6)
    expected = {
        "jaccard": [{(10, 11): (2, 3, 3, 0.5), (10, 12): (1, 3, 2, 0.25)}]
        + [{(10, 11): (1, 3, 2, 0.25), (10, 12): (1, 3, 2, 0.25)}] * 2,
        "lift": [{(10, 11): (2, 3, 3, 2 / 9), (10, 12): (1, 3, 2, 1 / 6)}]
        + [{(10, 11): (1, 3, 2, 1 / 6), (10, 12): (1, 3, 2, 1 / 6)}] * 2,
        "cosine": [{(10, 11): (2, 3, 3, 2 / 3), (10, 12): (1, 3, 2, r6)}]
        + [{(10, 11): (1, 3, 2, r6), (10, 12): (1, 3, 2, r6)}] * 2,
    }
    for method, per_level in expected.items():
        frames = snapshot_similarities(learners, courses, levels, 3, method)
        assert len(frames) == 3
        for level, (frame, want) in enumerate(zip(frames, per_level, strict=True), start=1):
            got = _pairs(frame)
            # both directions, the mirror with n_first and n_second swapped
            mirrored = {(b, a): (nb, n2, n1, sim) for (a, b), (nb, n1, n2, sim) in want.items()}
            assert set(got) == set(want) | set(mirrored), (method, level)
            for pair, (n_both, n_first, n_second, sim) in {**want, **mirrored}.items():
                assert got[pair][:3] == (n_both, n_first, n_second), (method, level, pair)
                assert got[pair][3] == pytest.approx(sim, rel=1e-15), (method, level, pair)
    thresholded = snapshot_similarities(learners, courses, levels, 3, "jaccard", 2)
    assert set(_pairs(thresholded[0])) == {(10, 11), (11, 10)}
    assert len(thresholded[1]) == len(thresholded[2]) == 0
    half = snapshot_similarities(learners, courses, levels, 3, "jaccard", mirrored=False)
    assert set(_pairs(half[0])) == {(10, 11), (10, 12)}


@pytest.mark.parametrize("method", ["jaccard", "lift", "cosine"])
def test_snapshot_similarities_equal_cooccurrence_similarity(method: str) -> None:
    """On random interactions (unsorted, with repeated pairs), every level of the kernel
    equals cooccurrence_similarity() (np.unique indices, full X.T @ X) on the rows that
    exist at that level: same pairs, same counts, same similarity to the last bit (the
    same float64 operations on the same counts)."""
    rng = np.random.default_rng(7)
    n = 4000
    learners = rng.integers(0, 300, n)
    courses = rng.integers(5, 60, n)
    # a repeated pair carries the same level, as rows of one (learner, course) do
    levels = (learners * 7 + courses) % 3 + 1
    for min_cooccurrence in (1, 3):
        frames = snapshot_similarities(learners, courses, levels, 3, method, min_cooccurrence)
        for level, frame in enumerate(frames, start=1):
            keep = levels >= level
            ref = cooccurrence_similarity(
                pd.DataFrame({"user": learners[keep], "item": courses[keep]}),
                method,
                min_cooccurrence,
            )
            got = frame.sort_values(["course_id", "similar_course_id"]).reset_index(drop=True)
            ref = ref.sort_values(["item", "similar_item"]).reset_index(drop=True)
            assert len(got) == len(ref) > 0, (level, min_cooccurrence)
            assert (got["course_id"].to_numpy() == ref["item"].to_numpy()).all()
            assert (got["similar_course_id"].to_numpy() == ref["similar_item"].to_numpy()).all()
            assert (got["n_both"].to_numpy() == ref["n_both"].to_numpy()).all()
            assert (got["similarity"].to_numpy() == ref["similarity"].to_numpy()).all()
    # ids too sparse for the dense lookup take the np.unique path: the same rows, shifted
    shift = 10**12
    sparse = snapshot_similarities(learners, courses + shift, levels, 3, method)
    dense = snapshot_similarities(learners, courses, levels, 3, method)
    for got, want in zip(sparse, dense, strict=True):
        assert (got["course_id"].to_numpy() == want["course_id"].to_numpy() + shift).all()
        assert got["similarity"].tolist() == want["similarity"].tolist()


def test_unknown_similarity_method_says_what_to_use() -> None:
    with pytest.raises(ConfigurationError, match="jaccard, lift, cosine"):
        cooccurrence_similarity(frame([(1, 1)], ["user", "item"]), "pearson")


# --- exact top-k and the SAR scoring kernel (dataproducts_pipeline.ranking) ------------------------


def _top_k_by_full_sort(scores: np.ndarray, allowed: np.ndarray, k: int) -> list[tuple]:
    """The definition, written plainly: per row, every allowed finite cell sorted by score
    desc then column asc, the first k kept; (row, column, rank, value) tuples."""
    out = []
    for row in range(scores.shape[0]):
        cells = [
            (-scores[row, col], col)
            for col in range(scores.shape[1])
            if allowed[row, col] and np.isfinite(scores[row, col])
        ]
        for rank, (negative, col) in enumerate(sorted(cells)[:k], start=1):
            out.append((row, col, rank, -negative))
    return out


def test_top_k_hand_case() -> None:
    """Row 0: 0.9 at column 1, then 0.5 at columns 0 and 2 tie: column 0 first; k = 2.
    Row 1: column 1 is excluded; 0.3 at columns 2 and 3 tie, both above 0.0 at column 0.
    Row 2: nothing allowed: no rows. Row 3: one allowed cell: a list of one."""
    scores = np.array(
        [[0.5, 0.9, 0.5, 0.1], [0.0, 0.3, 0.3, 0.3], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]
    )
    allowed = np.array(
        [[True] * 4, [True, False, True, True], [False] * 4, [False, False, True, False]]
    )
    rows, cols, ranks, values = top_k(scores, allowed, k=2)
    assert list(zip(rows, cols, ranks, values, strict=True)) == [
        (0, 1, 1, 0.9),
        (0, 0, 2, 0.5),
        (1, 2, 1, 0.3),
        (1, 3, 2, 0.3),
        (3, 2, 1, 3.0),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_top_k_equals_a_full_sort_with_ties_and_exclusions(seed: int) -> None:
    """Random scores rounded to one decimal (many exact ties, also at the k-th place),
    random exclusions, rows with fewer than k allowed cells, -inf and both k < columns
    and k >= columns: the bounded selection returns exactly the full sort's rows."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = 40, int(rng.integers(3, 90))
    scores = np.round(rng.normal(size=(n_rows, n_cols)), 1)
    scores[rng.random((n_rows, n_cols)) < 0.05] = -np.inf
    allowed = rng.random((n_rows, n_cols)) < rng.uniform(0.05, 1.0)
    allowed[:3] = rng.random((3, n_cols)) < 0.02  # nearly empty rows
    for k in (1, 3, 10, n_cols + 5):
        got = list(zip(*top_k(scores, allowed, k), strict=True))
        assert got == _top_k_by_full_sort(scores, allowed, k), (seed, k)
        masked = np.where(allowed, scores, -np.inf)
        assert list(zip(*top_k(masked.copy(), None, k), strict=True)) == got


def test_sar_top_k_hand_case() -> None:
    """The SQL unit test's case (test_recent_activity_excludes_consumed_ties_by_id), through
    the Python kernel. Learner 1: course 10 affinity 2 (consumed), course 11 affinity 1.
    Similarities: 10→11 0.5, 10→12 0.5, 10→13 0.25, 10→14 0.5, 11→12 0.5, 11→10 0.5.
    Scores: 11 = 2*0.5 = 1.0; 12 = 2*0.5 + 1*0.5 = 1.5; 13 = 0.5 but unpublished → out;
    14 = 1.0; 10 = 0.5 but consumed → out. List: 12 (1.5), 11 (1.0), 14 (1.0, tie by id).
    Learner 2 only touched course 12 (no neighbours): no list. Learner 3: affinity 0 on
    course 10 → every score 0 → no list."""
    affinities = frame(
        [(1, 10, 2.0, True), (1, 11, 1.0, False), (2, 12, 1.0, False), (3, 10, 0.0, False)],
        ["learner_id", "course_id", "affinity", "is_consumed"],
    )
    neighbours = frame(
        [(10, 11, 0.5), (10, 12, 0.5), (10, 13, 0.25), (10, 14, 0.5), (11, 12, 0.5), (11, 10, 0.5)],
        ["course_id", "similar_course_id", "similarity"],
    )
    got = sar_top_k(affinities, neighbours, np.array([10, 11, 12, 14]), k=10)
    assert got[["learner_id", "course_id", "module_rank"]].values.tolist() == [
        [1, 12, 1],
        [1, 11, 2],
        [1, 14, 3],
    ]
    assert got["score"].tolist() == pytest.approx([1.5, 1.0, 1.0])
    # k = 2 cuts the tie at 1.0 by course id; chunks of one learner change nothing
    cut = sar_top_k(affinities, neighbours, np.array([10, 11, 12, 14]), k=2, chunk_cells=1)
    assert cut["course_id"].tolist() == [12, 11]


@pytest.mark.parametrize("seed", range(4))
def test_factor_top_k_equals_a_full_sort(seed: int) -> None:
    """ALS lists: every learner's dot products with every course, the excluded pairs
    removed (including pairs naming unknown learners or courses, ignored), sorted by score
    desc then course id, first k kept. Factors are small integers, so the dot products are
    exact and ties are frequent; chunks of a few learners change nothing."""
    rng = np.random.default_rng(seed)
    learner_ids = np.sort(rng.choice(1000, 30, replace=False)).astype(np.int64)
    course_ids = np.sort(rng.choice(500, 25, replace=False)).astype(np.int64)
    users = rng.integers(-2, 3, (30, 3)).astype(np.float64)
    items = rng.integers(-2, 3, (25, 3)).astype(np.float64)
    excluded = frame(
        [(int(learner_ids[i]), int(course_ids[j])) for i, j in rng.integers(0, 25, (80, 2))]
        + [(5000, int(course_ids[0])), (int(learner_ids[0]), 9999)],
        ["learner_id", "course_id"],
    )
    excluded_set = set(zip(excluded["learner_id"], excluded["course_id"], strict=True))
    for k in (1, 5, 40):
        expected = []
        for i, learner in enumerate(learner_ids):
            cells = sorted(
                (-float(users[i] @ items[j]), int(course))
                for j, course in enumerate(course_ids)
                if (int(learner), int(course)) not in excluded_set
            )
            expected += [
                (int(learner), course, rank, -negative)
                for rank, (negative, course) in enumerate(cells[:k], start=1)
            ]
        got = factor_top_k(learner_ids, users, course_ids, items, excluded, k, chunk_cells=60)
        assert list(got.itertuples(index=False, name=None)) == expected, k


def test_nearest_neighbours_equals_a_ranking_by_similarity_then_id() -> None:
    """Course 1's neighbours: 4 (0.9), then 2 and 3 tie at 0.5 (2 first by id), then 5
    (0.1); with n = 2: 4 and 2. Course 2 has one neighbour: kept. The mask follows the
    input order."""
    mask = nearest_neighbours(
        np.array([1, 1, 1, 1, 2]),
        np.array([3, 2, 4, 5, 1]),
        np.array([0.5, 0.5, 0.9, 0.1, 0.3]),
        2,
    )
    assert mask.tolist() == [False, True, True, False, True]


def test_stack_snapshots_names_each_frame() -> None:
    stacked, name_sql = stack_snapshots(
        {"evaluation": frame([(1,)], ["x"]), "serving": frame([(2,), (3,)], ["x"])},
        empty=frame([], ["x"]),
    )
    assert stacked["snapshot_index"].tolist() == [0, 1, 1]
    assert name_sql == "case snapshot_index when 0 then 'evaluation' when 1 then 'serving' end"
    empty, null_sql = stack_snapshots({}, empty=frame([], ["x"]))
    assert list(empty.columns) == ["x", "snapshot_index"] and null_sql == "null"


def _als_model():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "als_fit", REPO / "models/intermediate/recommendations/int_als_factors_fitted.py"
    )
    als = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(als)
    return als


def _interactions(seed: int, n_learners: int = 300, n_courses: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    learners, courses = rng.integers(0, n_learners, 3000), rng.integers(0, n_courses, 3000)
    pairs = {(int(u), int(c)) for u, c in zip(learners, courses, strict=True)}
    interactions = pd.DataFrame(sorted(pairs), columns=["learner_id", "course_id"])
    interactions["affinity"] = rng.gamma(2.0, 1.0, len(interactions))
    return interactions


def test_als_factors_do_not_depend_on_threads_or_row_order() -> None:
    """int_als_factors_fitted fits with var recommendations_als_threads threads (0 = every
    core) and reads the affinity table in no fixed order: the factors must be identical
    with 1 or 2 threads and with the rows shuffled (each learner's and course's solve is
    independent; the matrix is sorted), warm-started or not."""
    als = _als_model()
    interactions = _interactions(3)
    shuffled = interactions.sample(frac=1.0, random_state=5)
    previous = als.fit_snapshot(_interactions(4, 250, 35), 8, 5, 0.1, 10.0, 42, num_threads=1)
    for warm_start in (None, previous):
        fits = [
            als.fit_snapshot(interactions, 8, 5, 0.1, 10.0, 42, 1, warm_start),
            als.fit_snapshot(interactions, 8, 5, 0.1, 10.0, 42, 2, warm_start),
            als.fit_snapshot(shuffled, 8, 5, 0.1, 10.0, 42, 2, warm_start),
        ]
        for other in fits[1:]:
            for a, b in zip(fits[0], other, strict=True):
                assert np.array_equal(a, b)


def test_als_warm_start_factors_by_id() -> None:
    """Ids the previous fit saw start from its factors, the others from the random ones:
    ids [2, 5, 7, 9] against a previous fit of [1, 5, 9] -> 5 and 9 take rows 1 and 2 of
    the previous factors, 2 and 7 keep their random rows."""
    als = _als_model()
    previous = np.array([[1.0, 1.5], [5.0, 5.5], [9.0, 9.5]], dtype=np.float32)
    random_rows = np.full((4, 2), -1.0, dtype=np.float32)
    start = als.warm_start_factors(
        np.array([2, 5, 7, 9]), np.array([1, 5, 9]), previous, random_rows
    )
    assert start.tolist() == [[-1.0, -1.0], [5.0, 5.5], [-1.0, -1.0], [9.0, 9.5]]
    assert random_rows.tolist() == [[-1.0, -1.0]] * 4  # the random rows are not modified
    empty = als.warm_start_factors(
        np.array([3]), np.array([], dtype=np.int64), previous[:0], random_rows[:1]
    )
    assert empty.tolist() == [[-1.0, -1.0]]


def test_als_warm_start_continues_the_previous_fit() -> None:
    """A fit warm-started from a converged fit of the same data stays at it: one more
    sweep moves the factors far less than one sweep from random gets to them (the
    previous factors are used, not discarded)."""
    als = _als_model()
    interactions = _interactions(6)
    converged = als.fit_snapshot(interactions, 8, 40, 0.1, 10.0, 42, num_threads=1)
    warm = als.fit_snapshot(interactions, 8, 1, 0.1, 10.0, 42, 1, converged)
    cold = als.fit_snapshot(interactions, 8, 1, 0.1, 10.0, 42, num_threads=1)
    for index in (1, 3):  # learner factors, course factors
        to_warm = np.abs(warm[index] - converged[index]).max()
        to_cold = np.abs(cold[index] - converged[index]).max()
        assert to_warm < 0.05 * to_cold
    # ids are the interaction's own, whatever the previous fit saw
    assert np.array_equal(warm[0], converged[0]) and np.array_equal(warm[2], converged[2])


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


@pytest.mark.postgres
def test_python_scoring_equals_the_sql_path(duckdb_build, postgres_build) -> None:
    """recent_activity: DuckDB scores it with the Python kernel (sparse matrix product),
    PostgreSQL with the SQL join and sum. Same generated data, so the lists must be the
    same at every snapshot: same courses at the same ranks, scores equal to rounding.
    The affinity tables are compared first, so a failure points at the right layer."""
    affinity_sql = (
        "select snapshot_name, learner_id, course_id, affinity from "
        "intermediate.int_learner_course_affinities_decayed "
        "order by snapshot_name, learner_id, course_id"
    )
    duck_affinities = duckdb_build.query(affinity_sql)
    pg_affinities = postgres_build.query(affinity_sql)
    assert len(duck_affinities) == len(pg_affinities) > 0
    assert (
        duck_affinities["learner_id"].to_numpy() == pg_affinities["learner_id"].to_numpy()
    ).all()
    assert duck_affinities["affinity"].to_numpy() == pytest.approx(
        pg_affinities["affinity"].astype(float).to_numpy()
    )

    lists_sql = (
        "select snapshot_name, learner_id, module_rank, course_id, score from "
        "intermediate.int_recent_activity_recommendations_ranked "
        "order by snapshot_name, learner_id, module_rank"
    )
    duck = duckdb_build.query(lists_sql)
    pg = postgres_build.query(lists_sql)
    assert duckdb_build.scalar(
        "select count(*) from intermediate.int_recent_activity_recommendations_scored"
    ) == len(duck), "DuckDB must read the Python path"
    assert len(duck) == len(pg) > 0
    for column in ("snapshot_name", "learner_id", "module_rank", "course_id"):
        assert duck[column].astype(str).tolist() == pg[column].astype(str).tolist(), column
    assert duck["score"].to_numpy() == pytest.approx(pg["score"].astype(float).to_numpy())


@pytest.mark.postgres
def test_python_similarities_equal_the_sql_path(duckdb_build, postgres_build) -> None:
    """int_course_similarities_scored: DuckDB reads int_course_similarities_computed (the
    sparse matrix product), PostgreSQL runs the SQL self-join. Same generated data, so
    every snapshot must have the same ordered pairs, the same counts and the same
    similarity (the same float64 operations on the same integers)."""
    sql = (
        "select snapshot_name, course_id, similar_course_id, n_both, n_first, n_second, "
        "similarity, method from intermediate.int_course_similarities_scored "
        "order by snapshot_name, course_id, similar_course_id"
    )
    duck = duckdb_build.query(sql)
    pg = postgres_build.query(sql)
    assert duckdb_build.scalar(
        "select count(*) from intermediate.int_course_similarities_computed"
    ) == len(duck), "DuckDB must read the Python path"
    assert len(duck) == len(pg) > 0
    assert set(duck["snapshot_name"]) == {"serving", "evaluation", "training"}
    for column in ("snapshot_name", "course_id", "similar_course_id", "method"):
        assert duck[column].astype(str).tolist() == pg[column].astype(str).tolist(), column
    for column in ("n_both", "n_first", "n_second"):
        assert (duck[column].to_numpy() == pg[column].astype("int64").to_numpy()).all(), column
    assert duck["similarity"].to_numpy() == pytest.approx(
        pg["similarity"].astype(float).to_numpy(), rel=1e-15
    )


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

    from dataproducts_pipeline.generate import generate

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
