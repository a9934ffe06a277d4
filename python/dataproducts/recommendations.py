"""The recommendations product, engineering side: read the API table, and reference
implementations of its formulas that the tests and the benchmark check the SQL against.

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
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ConfigurationError, WarehouseError
from .paths import default_duckdb_path

SIMILARITY_METHODS = ("jaccard", "lift", "cosine")


@dataclass(frozen=True)
class Recommendation:
    """One row of the public table ``marts.recommendations`` (contract version 1)."""

    learner_id: int
    module: str
    rank: int
    course_id: int
    score: float
    algorithm: str
    reason: str
    anchor_course_id: int | None
    model_version: str
    generated_at: datetime


def recommendations_for(
    learner_id: int, module: str | None = None, duckdb_path: str | Path | None = None
) -> list[Recommendation]:
    """The learner's recommendations, by module then rank (empty list for an unknown learner).

    Reads ``marts.recommendations`` of the DuckDB warehouse (``$DATAPRODUCTS_DUCKDB`` by default).
    """
    import duckdb

    path = Path(duckdb_path) if duckdb_path else default_duckdb_path()
    if not path.exists():
        raise WarehouseError(
            f"no DuckDB warehouse at {path}: run `dataproducts generate` then `dbt build`, "
            "or point $DATAPRODUCTS_DUCKDB at a built warehouse."
        )
    sql = "select * from marts.recommendations where learner_id = ?"
    params: list[object] = [learner_id]
    if module is not None:
        sql += " and module = ?"
        params.append(module)
    sql += " order by module, rank"
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        try:
            rows = con.execute(sql, params).df()
        except duckdb.CatalogException as exc:
            raise WarehouseError(
                f"marts.recommendations is missing in {path}: run `dbt build` first ({exc})."
            ) from exc
    return [
        Recommendation(
            learner_id=int(r.learner_id),
            module=str(r.module),
            rank=int(r.rank),
            course_id=int(r.course_id),
            score=float(r.score),
            algorithm=str(r.algorithm),
            reason=str(r.reason),
            anchor_course_id=None if pd.isna(r.anchor_course_id) else int(r.anchor_course_id),
            model_version=str(r.model_version),
            generated_at=pd.Timestamp(r.generated_at).to_pydatetime(),
        )
        for r in rows.itertuples(index=False)
    ]


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


def top_similar(similarities: pd.DataFrame, k: int) -> pd.DataFrame:
    """The k most similar items per item (similarity desc, ties by item id), with rank."""
    ordered = similarities.sort_values(
        ["item", "similarity", "similar_item"], ascending=[True, False, True]
    )
    ordered = ordered.assign(rank=ordered.groupby("item").cumcount() + 1)
    return ordered[ordered["rank"] <= k].reset_index(drop=True)
