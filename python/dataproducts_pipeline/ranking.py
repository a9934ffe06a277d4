"""Exact top-k selection for the recommendations models (dbt Python models import it).

Both functions return the same rows as ranking every candidate with a full sort by
score descending, then column (course) ascending, but touch each score only a few times:

>>> import numpy as np
>>> scores = np.array([[0.5, 0.9, 0.5, 0.1], [0.0, 0.3, 0.3, 0.3]])
>>> allowed = np.array([[True, True, True, True], [True, False, True, True]])
>>> rows, cols, ranks, values = top_k(scores, allowed, k=2)
>>> rows.tolist(), cols.tolist(), ranks.tolist(), values.tolist()
([0, 0, 1, 1], [1, 0, 2, 3], [1, 2, 1, 2], [0.9, 0.5, 0.3, 0.3])

Row 0: 0.9 (column 1), then the tie at 0.5 goes to the lower column (0 before 2).
Row 1: column 1 is not allowed; the tie at 0.3 keeps columns 2 and 3 in column order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp

IntArray = np.ndarray
FloatArray = np.ndarray

#: Scores held at once by the chunked scorers (10M float64 = 80 MB).
CHUNK_CELLS = 10_000_000


def chunk_rows(n_columns: int, cells: int = CHUNK_CELLS) -> int:
    """Rows per chunk so that a chunk holds about ``cells`` scores (at least one row)."""
    return max(1, cells // max(1, n_columns))


#: Chunks scored at once by the chunked scorers (threads: numpy's products, comparisons,
#: sorts and selections release the GIL; two threads score a chunk in about 0.6x the time
#: of one on the 2-core reference machine). Each holds one chunk of scores in memory.
SCORING_THREADS = min(2, os.cpu_count() or 1)


def _map_chunks(
    score_chunk: Callable[[int, int], pd.DataFrame],
    n_rows: int,
    chunk: int,
    threads: int = SCORING_THREADS,
) -> list[pd.DataFrame]:
    """``score_chunk(start, stop)`` for consecutive chunks of ``chunk`` rows, on up to
    ``threads`` threads; the results in row order (the same whatever the thread count)."""
    bounds = [(start, min(start + chunk, n_rows)) for start in range(0, n_rows, chunk)]
    if threads <= 1 or len(bounds) <= 1:
        return [score_chunk(start, stop) for start, stop in bounds]
    with ThreadPoolExecutor(threads, thread_name_prefix="dataproducts-scoring") as pool:
        return list(pool.map(lambda b: score_chunk(*b), bounds))


def top_k(
    scores: FloatArray, allowed: np.ndarray | None, k: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Per row of ``scores``, the ``k`` best allowed cells: score desc, then column asc.

    ``allowed`` is a boolean mask of the same shape, or None when every finite cell is
    allowed (callers that own ``scores`` can write ``-inf`` into the cells they exclude
    and skip building a mask). Returns ``(rows, columns, ranks, values)`` of the picked
    cells, sorted by row then rank (1-based). A row with fewer than ``k`` allowed finite
    cells gets all of them; a row with none gets nothing.

    How: the columns are cut into ``g = 4k`` contiguous groups; the k-th largest of the
    ``g`` group maxima is reached by k distinct cells, so it is a lower bound of the
    row's k-th best score. Only the cells at or above that bound (about k to 2k per
    row) are sorted, exactly, so ties at the k-th score are settled by column.
    """
    masked = scores if allowed is None else np.where(allowed, scores, -np.inf)
    n_rows, n_cols = masked.shape
    k = min(int(k), n_cols)
    if k <= 0 or n_rows == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty, np.array([], dtype=np.float64)
    n_groups = min(n_cols, 4 * k)
    starts = np.linspace(0, n_cols, n_groups, endpoint=False).astype(np.int64)
    group_max = np.maximum.reduceat(masked, starts, axis=1)
    bound = -np.partition(-group_max, k - 1, axis=1)[:, k - 1]
    # a row with fewer than k finite cells has bound -inf: take its finite cells only
    bound = np.maximum(bound, np.finfo(np.float64).min)
    rows, cols = np.nonzero(masked >= bound[:, None])
    values = masked[rows, cols]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    ranks = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") + 1
    keep = ranks <= k
    return (
        rows[keep].astype(np.int64),
        cols[keep].astype(np.int64),
        ranks[keep].astype(np.int64),
        values[keep].astype(np.float64),
    )


def nearest_neighbours(
    course_ids: np.ndarray, similar_course_ids: np.ndarray, similarities: np.ndarray, n: int
) -> np.ndarray:
    """Boolean mask of the pairs that are among their course's ``n`` nearest neighbours.

    Each course's neighbours are ordered by similarity desc, then neighbour id asc (the
    same order as ``row_number() over (partition by course_id order by similarity desc,
    similar_course_id asc)``) and the first ``n`` kept: one sort of the pairs, no window.

    >>> nearest_neighbours(
    ...     np.array([1, 1, 1, 2]), np.array([3, 2, 4, 1]), np.array([0.5, 0.5, 0.9, 0.1]), 2
    ... ).tolist()
    [False, True, True, True]
    """
    course_ids = np.asarray(course_ids, dtype=np.int64)
    order = np.lexsort(
        (
            np.asarray(similar_course_ids, dtype=np.int64),
            -np.asarray(similarities, dtype=np.float64),
            course_ids,
        )
    )
    sorted_courses = course_ids[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_courses, sorted_courses, side="left")
    keep = np.zeros(len(order), dtype=bool)
    keep[order] = rank < int(n)
    return keep


def sar_top_k(
    affinities: pd.DataFrame,
    neighbours: pd.DataFrame,
    published_course_ids: np.ndarray,
    k: int,
    chunk_cells: int = CHUNK_CELLS,
) -> pd.DataFrame:
    """SAR personalized scores and their top k per learner, as a sparse matrix product.

    ``affinities``: learner_id, course_id, affinity, is_consumed (one row per pair);
    ``neighbours``: course_id, similar_course_id, similarity (the pruned item-item
    neighbourhoods). score(learner, c) = sum over the learner's courses i of
    affinity(learner, i) * similarity(i, c). Listed: published courses the learner has
    not consumed with a positive score, k per learner by score desc then course id asc.
    Returns learner_id, course_id, module_rank (1-based), score.

    Scores are computed a chunk of learners at a time (affinity rows times the similarity
    matrix, densified per chunk), about ``chunk_cells`` scores per chunk, so memory stays
    bounded whatever the number of learners; :data:`SCORING_THREADS` chunks at once.
    """
    if affinities.empty or neighbours.empty:
        return ranked_frame()
    learner_ids, learner_index = np.unique(
        affinities["learner_id"].to_numpy(dtype=np.int64), return_inverse=True
    )
    course_ids = np.unique(
        np.concatenate(
            [
                affinities["course_id"].to_numpy(dtype=np.int64),
                neighbours["course_id"].to_numpy(dtype=np.int64),
                neighbours["similar_course_id"].to_numpy(dtype=np.int64),
            ]
        )
    )
    n_learners, n_courses = len(learner_ids), len(course_ids)
    course_index = np.searchsorted(course_ids, affinities["course_id"].to_numpy(dtype=np.int64))
    affinity = sp.csr_matrix(
        (affinities["affinity"].to_numpy(dtype=np.float64), (learner_index, course_index)),
        shape=(n_learners, n_courses),
    )
    similarity = sp.csr_matrix(
        (
            neighbours["similarity"].to_numpy(dtype=np.float64),
            (
                np.searchsorted(course_ids, neighbours["course_id"].to_numpy(dtype=np.int64)),
                np.searchsorted(
                    course_ids, neighbours["similar_course_id"].to_numpy(dtype=np.int64)
                ),
            ),
        ),
        shape=(n_courses, n_courses),
    )
    is_published = np.isin(course_ids, np.asarray(published_course_ids, dtype=np.int64))
    consumed = affinities["is_consumed"].to_numpy(dtype=bool)
    consumed_rows, consumed_cols = learner_index[consumed], course_index[consumed]

    def score_chunk(start: int, stop: int) -> pd.DataFrame:
        block = (affinity[start:stop] @ similarity).toarray()
        # excluded cells become -inf in place: not positive, unpublished, consumed
        block[block <= 0] = -np.inf
        block[:, ~is_published] = -np.inf
        in_chunk = (consumed_rows >= start) & (consumed_rows < stop)
        block[consumed_rows[in_chunk] - start, consumed_cols[in_chunk]] = -np.inf
        rows, cols, ranks, values = top_k(block, None, k)
        return ranked_frame(learner_ids[start:stop][rows], course_ids[cols], ranks, values)

    frames = _map_chunks(score_chunk, n_learners, chunk_rows(n_courses, chunk_cells))
    return pd.concat(frames, ignore_index=True) if frames else ranked_frame()


def factor_top_k(
    learner_ids: np.ndarray,
    learner_factors: np.ndarray,
    course_ids: np.ndarray,
    course_factors: np.ndarray,
    excluded: pd.DataFrame,
    k: int,
    chunk_cells: int = CHUNK_CELLS,
) -> pd.DataFrame:
    """Matrix-factorization scores and their top k per learner.

    ``learner_ids`` (sorted) with their ``learner_factors`` rows, ``course_ids`` (sorted)
    with their ``course_factors`` rows; score = the dot product. ``excluded``
    (learner_id, course_id) pairs are never listed (pairs naming an unknown learner or
    course are ignored). Returns learner_id, course_id, module_rank (1-based, score desc
    then course id asc), score: k rows per learner, or every allowed course when fewer.
    Scored a chunk of learners at a time (about ``chunk_cells`` scores), so memory stays
    bounded whatever the number of learners; :data:`SCORING_THREADS` chunks at once.
    """
    learner_ids = np.asarray(learner_ids, dtype=np.int64)
    course_ids = np.asarray(course_ids, dtype=np.int64)
    frames = [ranked_frame()]
    if len(learner_ids) == 0 or len(course_ids) == 0:
        return frames[0]
    excluded_learners = excluded["learner_id"].to_numpy(dtype=np.int64)
    excluded_courses = excluded["course_id"].to_numpy(dtype=np.int64)
    rows = np.searchsorted(learner_ids, excluded_learners)
    cols = np.searchsorted(course_ids, excluded_courses)
    known = (rows < len(learner_ids)) & (cols < len(course_ids))
    known &= learner_ids[np.minimum(rows, len(learner_ids) - 1)] == excluded_learners
    known &= course_ids[np.minimum(cols, len(course_ids) - 1)] == excluded_courses
    rows, cols = rows[known], cols[known]

    def score_chunk(start: int, stop: int) -> pd.DataFrame:
        scores = learner_factors[start:stop] @ course_factors.T
        # excluded cells become -inf in place (never listed)
        in_chunk = (rows >= start) & (rows < stop)
        scores[rows[in_chunk] - start, cols[in_chunk]] = -np.inf
        picked_rows, picked_cols, ranks, values = top_k(scores, None, k)
        return ranked_frame(
            learner_ids[start:stop][picked_rows], course_ids[picked_cols], ranks, values
        )

    frames += _map_chunks(score_chunk, len(learner_ids), chunk_rows(len(course_ids), chunk_cells))
    return pd.concat(frames, ignore_index=True)


def ranked_frame(
    learner_ids: np.ndarray | None = None,
    course_ids: np.ndarray | None = None,
    ranks: np.ndarray | None = None,
    scores: np.ndarray | None = None,
) -> pd.DataFrame:
    """A ranked list as learner_id, course_id, module_rank, score (empty without arguments)."""

    def column(values: np.ndarray | None, dtype: type) -> np.ndarray:
        return np.asarray([] if values is None else values, dtype=dtype)

    return pd.DataFrame(
        {
            "learner_id": column(learner_ids, np.int64),
            "course_id": column(course_ids, np.int64),
            "module_rank": column(ranks, np.int64),
            "score": column(scores, np.float64),
        }
    )


def stack_snapshots(
    frames: dict[str, pd.DataFrame], empty: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    """One numeric frame for the snapshots' frames, and the SQL naming its snapshots.

    dbt Python models hand their rows to DuckDB as numeric columns only (a pandas string
    column costs more to hand over than the computation): the frames get an int16
    ``snapshot_index`` column, and the returned SQL expression turns it back into the
    snapshot name (``case snapshot_index when 0 then 'evaluation' ... end``). ``empty``
    (the columns with their dtypes) is what an empty ``frames`` gives.

    >>> stacked, name_sql = stack_snapshots(
    ...     {"serving": pd.DataFrame({"x": [1, 2]})}, empty=pd.DataFrame({"x": []})
    ... )
    >>> stacked["snapshot_index"].tolist(), name_sql
    ([0, 0], "case snapshot_index when 0 then 'serving' end")
    """
    stacked = [
        frame.assign(snapshot_index=np.int16(index)) for index, frame in enumerate(frames.values())
    ]
    if not stacked:
        return empty.assign(snapshot_index=pd.Series(dtype="int16")), "null"
    return pd.concat(stacked, ignore_index=True), snapshot_name_sql(list(frames))


def snapshot_name_sql(names: list[str]) -> str:
    """The SQL turning a ``snapshot_index`` column back into the snapshot's name: index
    i names ``names[i]`` (``null`` for no names).

    >>> snapshot_name_sql(["training", "serving"])
    "case snapshot_index when 0 then 'training' when 1 then 'serving' end"
    """
    if not names:
        return "null"
    cases = "".join(f" when {index} then '{name}'" for index, name in enumerate(names))
    return f"case snapshot_index{cases} end"
