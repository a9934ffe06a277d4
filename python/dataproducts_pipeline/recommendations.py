"""The recommendations product, build side: the SAR similarity kernel the dbt Python model
``int_course_similarities_computed`` runs, and reference implementations of the product's
formulas that the tests and the benchmark check the SQL against.

>>> import pandas as pd
>>> recs = pd.DataFrame({"user": [1, 1, 1], "item": [10, 11, 12], "rank": [1, 2, 3]})
>>> truth = pd.DataFrame({"user": [1, 1], "item": [10, 12]})
>>> m = ranking_metrics(recs, truth, k=3)
>>> round(m.precision_at_k, 4), m.recall_at_k
(0.6667, 1.0)

The metric definitions follow microsoft/recommenders' ``python_evaluation`` (binary
relevance; users evaluated = users with a list and a non-empty truth; MAP@k divides by
``min(|relevant|, k)``). The similarity definitions follow SAR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from dataproducts.errors import ConfigurationError, InvalidArgumentError

SIMILARITY_METHODS = ("jaccard", "lift", "cosine")


@dataclass(frozen=True)
class RankingMetrics:
    """Ranking metrics at k over the users evaluated."""

    n_users: int
    precision_at_k: float
    recall_at_k: float
    ndcg_at_k: float
    map_at_k: float


def ranking_metrics(recommended: pd.DataFrame, relevant: pd.DataFrame, k: int) -> RankingMetrics:
    """precision@k, recall@k, NDCG@k (binary gain) and MAP@k, written out per user.

    ``recommended``: columns user, item, rank (1-based); ``relevant``: user, item.
    Users evaluated: those with a list and at least one relevant item.
    """
    if k < 1:
        raise ConfigurationError(f"k must be a positive integer, got {k}")
    truth: dict[object, set[object]] = {}
    for user, item in zip(relevant["user"], relevant["item"], strict=True):
        truth.setdefault(user, set()).add(item)
    lists: dict[object, list[tuple[int, object]]] = {}
    for user, item, rank in zip(
        recommended["user"], recommended["item"], recommended["rank"], strict=True
    ):
        if rank <= k:
            lists.setdefault(user, []).append((int(rank), item))
    users = sorted(set(lists) & set(truth))
    precision = recall = ndcg = average_precision = 0.0
    for user in users:
        rel = truth[user]
        hits = sorted(rank for rank, item in lists[user] if item in rel)
        precision += len(hits) / k
        recall += len(hits) / len(rel)
        dcg = sum(1 / math.log(1 + rank) for rank in hits)
        idcg = sum(1 / math.log(1 + i) for i in range(1, min(len(rel), k) + 1))
        ndcg += dcg / idcg
        average_precision += sum(j / rank for j, rank in enumerate(hits, start=1)) / min(
            len(rel), k
        )
    n = len(users)
    if n == 0:
        return RankingMetrics(0, 0.0, 0.0, 0.0, 0.0)
    return RankingMetrics(n, precision / n, recall / n, ndcg / n, average_precision / n)


def cooccurrence_similarity(
    interactions: pd.DataFrame, method: str = "jaccard", min_cooccurrence: int = 1
) -> pd.DataFrame:
    """Item-to-item similarity from co-occurrence over users (SAR), with numpy/scipy.

    ``interactions``: columns user, item (duplicates ignored). Returns item,
    similar_item, n_both, similarity for every ordered pair of distinct items seen
    together by at least ``min_cooccurrence`` users.
    """
    if method not in SIMILARITY_METHODS:
        raise ConfigurationError(
            f"unknown similarity method {method!r}: use one of {', '.join(SIMILARITY_METHODS)}"
        )
    pairs = interactions[["user", "item"]].drop_duplicates()
    users, user_index = np.unique(pairs["user"].to_numpy(), return_inverse=True)
    items, item_index = np.unique(pairs["item"].to_numpy(), return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(pairs), dtype=np.int64), (user_index, item_index)),
        shape=(len(users), len(items)),
    )
    cooccurrence = (matrix.T @ matrix).tocoo()
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    keep = (cooccurrence.row != cooccurrence.col) & (cooccurrence.data >= min_cooccurrence)
    first, second = cooccurrence.row[keep], cooccurrence.col[keep]
    both = cooccurrence.data[keep].astype(np.float64)
    n_first, n_second = counts[first].astype(np.float64), counts[second].astype(np.float64)
    if method == "jaccard":
        similarity = both / (n_first + n_second - both)
    elif method == "lift":
        similarity = both / (n_first * n_second)
    else:
        similarity = both / np.sqrt(n_first * n_second)
    return pd.DataFrame(
        {
            "item": items[first],
            "similar_item": items[second],
            "n_both": both.astype(np.int64),
            "similarity": similarity,
        }
    )


def snapshot_similarities(
    learners: np.ndarray,
    courses: np.ndarray,
    levels: np.ndarray | None = None,
    n_levels: int = 1,
    method: str = "jaccard",
    min_cooccurrence: int = 1,
    mirrored: bool = True,
) -> list[pd.DataFrame]:
    """Item-to-item similarity (SAR) at nested snapshots, as a sparse matrix product.

    The kernel of int_course_similarities_computed (int_course_similarities_scored where
    dbt runs Python models) and of the similarity benchmark, the same
    definition as its SQL and as :func:`cooccurrence_similarity`. Input: the distinct
    (learner, course) pairs of the latest snapshot, as integer arrays (course ids
    non-negative); ``levels[i]`` is the number of snapshots pair i exists at (1: the
    latest only, ``n_levels``: every one; default 1 for all). Returns one frame per
    level, 1 to ``n_levels`` (level s holds the pairs with level ≥ s): columns
    course_id, similar_course_id, n_both, n_first, n_second (int64) and similarity
    (float64), every ordered pair of distinct courses seen together by at least
    ``min_cooccurrence`` learners, both directions (each unordered pair first with
    course_id < similar_course_id, then mirrored; with ``mirrored=False`` the first
    half only, for a caller that mirrors it itself).

    Cheap at scale: rows sorted by learner give the CSR row pointers from the change
    points (already sorted rows cost one pass), course ids index a dense lookup, the
    counts are int32 ``X.T @ X`` and only its upper triangle is read.

    >>> out = snapshot_similarities(np.array([1, 1, 2, 2, 3]), np.array([10, 11, 10, 11, 10]))
    >>> out[0].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'course_id': [10, 11], 'similar_course_id': [11, 10], 'n_both': [2, 2],
     'n_first': [3, 2], 'n_second': [2, 3], 'similarity': [0.6666666666666666, 0.6666666666666666]}
    """
    if method not in SIMILARITY_METHODS:
        raise ConfigurationError(
            f"unknown similarity method {method!r}: use one of {', '.join(SIMILARITY_METHODS)}"
        )
    learners = np.asarray(learners, dtype=np.int64)
    courses = np.asarray(courses, dtype=np.int64)
    levels = (
        np.ones(len(learners), dtype=np.int64)
        if levels is None
        else np.asarray(levels, dtype=np.int64)
    )
    if not len(learners) == len(courses) == len(levels):
        raise InvalidArgumentError("learners, courses and levels must have the same length")
    if len(learners) and np.any(learners[1:] < learners[:-1]):
        order = np.argsort(learners, kind="stable")
        learners, courses, levels = learners[order], courses[order], levels[order]
    if len(courses) and courses.min() < 0:
        raise InvalidArgumentError("course ids must be non-negative integers")
    if len(courses) and courses.max() <= 4 * len(courses) + 1_000_000:
        # dense lookup: course id -> column, over the ids present (small integer ids)
        present = np.bincount(courses) > 0
        course_ids = np.flatnonzero(present)
        column = (np.cumsum(present) - 1).astype(np.int32)[courses]
    else:  # sparse ids (or none): a sort instead of a lookup table as long as the ids
        course_ids, column = np.unique(courses, return_inverse=True)
        column = column.astype(np.int32)
    n_courses = len(course_ids)
    frames = []
    for level in range(1, n_levels + 1):
        keep = levels >= level
        rows_learners, rows_columns = (
            (learners, column) if keep.all() else (learners[keep], column[keep])
        )
        frames.append(
            _similarity_frame(
                rows_learners,
                rows_columns,
                course_ids,
                n_courses,
                method,
                min_cooccurrence,
                mirrored,
            )
        )
    return frames


def _similarity_frame(
    learners: np.ndarray,
    columns: np.ndarray,
    course_ids: np.ndarray,
    n_courses: int,
    method: str,
    min_cooccurrence: int,
    mirrored: bool,
) -> pd.DataFrame:
    """One snapshot of :func:`snapshot_similarities` (rows sorted by learner)."""
    starts = np.flatnonzero(learners[1:] != learners[:-1]) + 1
    indptr = np.concatenate(([0], starts, [len(learners)])).astype(np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(columns), dtype=np.int32), columns, indptr),
        shape=(len(indptr) - 1, n_courses),
        copy=True,  # sum_duplicates sorts the indices in place: not the caller's array
    )
    # a repeated (learner, course) pair counts once, as in the SQL's distinct rows
    matrix.sum_duplicates()
    matrix.data[:] = 1
    cooccurrence = matrix.T.tocsr() @ matrix
    counts = cooccurrence.diagonal().astype(np.int64)
    upper = sp.triu(cooccurrence, k=1).tocoo()
    keep = upper.data >= max(min_cooccurrence, 1)
    first, second = upper.row[keep], upper.col[keep]
    both = upper.data[keep].astype(np.int64)
    n_first, n_second = counts[first], counts[second]
    both_f = both.astype(np.float64)
    if method == "jaccard":
        similarity = both_f / (n_first + n_second - both).astype(np.float64)
    elif method == "lift":
        similarity = both_f / (n_first.astype(np.float64) * n_second.astype(np.float64))
    else:
        similarity = both_f / np.sqrt(n_first.astype(np.float64) * n_second.astype(np.float64))
    first_ids, second_ids = course_ids[first], course_ids[second]
    if not mirrored:
        return pd.DataFrame(
            {
                "course_id": first_ids,
                "similar_course_id": second_ids,
                "n_both": both,
                "n_first": n_first,
                "n_second": n_second,
                "similarity": similarity,
            }
        )
    return pd.DataFrame(
        {
            "course_id": np.concatenate((first_ids, second_ids)),
            "similar_course_id": np.concatenate((second_ids, first_ids)),
            "n_both": np.concatenate((both, both)),
            "n_first": np.concatenate((n_first, n_second)),
            "n_second": np.concatenate((n_second, n_first)),
            "similarity": np.concatenate((similarity, similarity)),
        }
    )


def top_similar(similarities: pd.DataFrame, k: int) -> pd.DataFrame:
    """The k most similar items per item (similarity desc, ties by item id), with rank."""
    ordered = similarities.sort_values(
        ["item", "similarity", "similar_item"], ascending=[True, False, True]
    )
    ordered = ordered.assign(rank=ordered.groupby("item").cumcount() + 1)
    return ordered[ordered["rank"] <= k].reset_index(drop=True)
