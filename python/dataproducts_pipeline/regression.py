"""Logistic regression for the for_you module (the dbt Python model int_for_you_models_fitted).

The fit minimizes the same objective as scikit-learn's
``LogisticRegression(C=c, penalty="l2")``, the intercept not penalized::

    C * sum_i [log(1 + exp(z_i)) - y_i * z_i] + 1/2 * ||w||^2,   z_i = b + x_i . w

by Newton's method with a backtracking line search (the objective is convex; every step
lowers it), to the optimum rather than to a solver tolerance. The tests check it, the log
loss and the ROC AUC against scikit-learn. It lives here, in numpy alone, because
importing scikit-learn costs about a second inside the build, on the longest path of the
recommendations part, and the fit itself is a handful of 9 x 9 solves.

>>> import numpy as np
>>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> y = np.array([0, 1, 0, 1])
>>> intercept, coefficients = fit_logistic_regression(x, y, c=1.0)
>>> round(float(intercept), 6), np.round(coefficients, 6).tolist()
(-0.679313, [0.452875])

Of the 2 x 2 (positive, negative) pairs below, three are ordered right:

>>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
0.75
"""

from __future__ import annotations

import numpy as np


def _objective(
    design: np.ndarray, y: np.ndarray, beta: np.ndarray, penalty: np.ndarray
) -> tuple[float, np.ndarray]:
    """The objective at ``beta`` (divided by c), and the linear predictor it used."""
    z = design @ beta
    value = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * beta * beta))
    return value, z


def fit_logistic_regression(
    x: np.ndarray, y: np.ndarray, c: float, *, tol: float = 1e-10, max_iter: int = 100
) -> tuple[float, np.ndarray]:
    """``(intercept, coefficients)`` of the L2-penalized logistic regression of ``y`` (0/1)
    on the columns of ``x``, inverse regularization strength ``c`` (scikit-learn's ``C``).

    Written with the objective divided by ``c``: log-likelihood terms plus
    ``||w||^2 / (2c)``. Newton step: solve (X' W X + P) d = X' (p - y) + P beta, with
    W = diag(p (1 - p)) and P = diag(0, 1/c, ..., 1/c); halve the step while it does not
    lower the objective. Stops when the largest step component is below ``tol``.
    Raises ValueError when ``y`` has one class only (no finite optimum for the intercept).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x must be (n, d) and y (n,); got {x.shape} and {y.shape}")
    if not (np.any(y == 0) and np.any(y == 1)) or np.any((y != 0) & (y != 1)):
        raise ValueError("y must hold both classes, 0 and 1, and nothing else")
    if c <= 0:
        raise ValueError(f"c must be positive, got {c}")
    design = np.column_stack([np.ones(len(x)), x])
    penalty = np.full(design.shape[1], 1.0 / c)
    penalty[0] = 0.0
    beta = np.zeros(design.shape[1])
    objective, z = _objective(design, y, beta, penalty)
    for _ in range(max_iter):
        p = np.exp(-np.logaddexp(0.0, -z))  # sigmoid(z), without overflow
        gradient = design.T @ (p - y) + penalty * beta
        hessian = (design.T * (p * (1.0 - p))) @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while True:
            candidate = beta - size * step
            candidate_objective, candidate_z = _objective(design, y, candidate, penalty)
            if candidate_objective <= objective or size < 1e-10:
                break
            size /= 2.0
        beta, objective, z = candidate, candidate_objective, candidate_z
        if np.max(np.abs(size * step)) < tol:
            break
    return float(beta[0]), beta[1:].copy()


def predict_probability(x: np.ndarray, intercept: float, coefficients: np.ndarray) -> np.ndarray:
    """sigmoid(intercept + x . coefficients), row by row."""
    z = intercept + np.asarray(x, dtype=np.float64) @ np.asarray(coefficients, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood of 0/1 labels ``y`` under probabilities ``p``
    (probabilities clipped to [eps, 1 - eps], eps = float64 machine epsilon, as
    scikit-learn's ``log_loss`` does)."""
    y = np.asarray(y, dtype=np.float64)
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative, ties counting one half (the Mann-Whitney U statistic divided by
    n_pos * n_neg, from average ranks). NaN when ``y`` has one class only."""
    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(np.asarray(score), return_inverse=True, return_counts=True)
    # 1-based average rank of each distinct score: the mean of the ranks its ties take
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0
    rank_sum = float(average_rank[inverse.ravel()][y].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
