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
    bounded whatever the number of learners.
    """
    columns = {
        "learner_id": pd.Series(dtype="int64"),
        "course_id": pd.Series(dtype="int64"),
        "module_rank": pd.Series(dtype="int64"),
        "score": pd.Series(dtype="float64"),
    }
    if affinities.empty or neighbours.empty:
        return pd.DataFrame(columns)
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

    chunk = chunk_rows(n_courses, chunk_cells)
    frames = []
    for start in range(0, n_learners, chunk):
        stop = min(start + chunk, n_learners)
        block = (affinity[start:stop] @ similarity).toarray()
        # excluded cells become -inf in place: not positive, unpublished, consumed
        block[block <= 0] = -np.inf
        block[:, ~is_published] = -np.inf
        in_chunk = (consumed_rows >= start) & (consumed_rows < stop)
        block[consumed_rows[in_chunk] - start, consumed_cols[in_chunk]] = -np.inf
        rows, cols, ranks, values = top_k(block, None, k)
        frames.append(
            pd.DataFrame(
                {
                    "learner_id": learner_ids[start:stop][rows],
                    "course_id": course_ids[cols],
                    "module_rank": ranks,
                    "score": values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns)
