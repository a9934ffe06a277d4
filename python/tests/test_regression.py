"""dataproducts_pipeline.regression (the for_you fit) against scikit-learn, an independent
implementation of the same logistic regression, log loss and ROC AUC."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss as sklearn_log_loss
from sklearn.metrics import roc_auc_score

import dataproducts_pipeline.regression
from dataproducts_pipeline.regression import (
    fit_logistic_regression,
    log_loss,
    predict_probability,
    roc_auc,
)


def _data(seed: int, n: int = 4000, d: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * np.array([1.0, 3.0, 0.2, 1.0, 0.5])[:d]
    x[:, -1] = (x[:, -1] > 0).astype(float)  # a 0/1 feature, like the match flags
    logit = -2.0 + x @ np.array([0.8, -0.3, 2.0, 0.0, 1.1])[:d]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return x, y


@pytest.mark.parametrize("seed, c", [(1, 1.0), (2, 0.05), (3, 100.0)])
def test_fit_matches_scikit_learn(seed: int, c: float) -> None:
    x, y = _data(seed)
    intercept, coefficients = fit_logistic_regression(x, y, c=c)
    # scikit-learn's Newton solver to a tight tolerance: the same optimum
    reference = LogisticRegression(C=c, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    reference.fit(x, y)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-8)
    np.testing.assert_allclose(coefficients, reference.coef_[0], atol=1e-8)
    # and its default (lbfgs), which stops earlier: close, and never a lower objective
    default = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    np.testing.assert_allclose(coefficients, default.coef_[0], atol=1e-3)

    def objective(b: float, w: np.ndarray) -> float:
        z = b + x @ w
        return c * float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * float(w @ w)

    assert objective(intercept, coefficients) <= objective(default.intercept_[0], default.coef_[0])
    np.testing.assert_allclose(
        predict_probability(x, intercept, coefficients),
        reference.predict_proba(x)[:, 1],
        atol=1e-9,
    )


def test_log_loss_and_auc_match_scikit_learn() -> None:
    x, y = _data(4)
    p = predict_probability(x, *fit_logistic_regression(x, y, c=1.0))
    assert log_loss(y, p) == pytest.approx(sklearn_log_loss(y, p), rel=1e-12)
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    # many ties (scores rounded to 1 decimal): ties count one half
    rounded = np.round(p, 1)
    assert len(np.unique(rounded)) < 12
    assert roc_auc(y, rounded) == pytest.approx(roc_auc_score(y, rounded), rel=1e-12)
    # probabilities of exactly 0 and 1 are clipped, as scikit-learn clips them
    edge_y = np.array([0, 1, 1, 0])
    edge_p = np.array([0.0, 1.0, 0.0, 0.3])
    assert log_loss(edge_y, edge_p) == pytest.approx(sklearn_log_loss(edge_y, edge_p), rel=1e-12)


def test_auc_by_hand() -> None:
    # positives score 0.35 and 0.8, negatives 0.1 and 0.4: of the four (positive,
    # negative) pairs, (0.35, 0.1), (0.8, 0.1), (0.8, 0.4) are ordered right, (0.35, 0.4)
    # wrong: 3/4. A tie counts 1/2: scores [0.5, 0.5] for one of each -> 0.5.
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_fit_rejects_one_class_and_bad_input() -> None:
    x = np.arange(6, dtype=float).reshape(3, 2)
    with pytest.raises(ValueError, match="both classes"):
        fit_logistic_regression(x, np.array([1, 1, 1]), c=1.0)
    with pytest.raises(ValueError, match="both classes"):
        fit_logistic_regression(x, np.array([0, 1, 2]), c=1.0)
    with pytest.raises(ValueError, match="positive"):
        fit_logistic_regression(x, np.array([0, 1, 1]), c=0.0)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        fit_logistic_regression(x[:, 0], np.array([0, 1, 1]), c=1.0)


def test_fit_separable_data_stays_finite() -> None:
    # perfectly separable: the penalty keeps the optimum finite
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    intercept, coefficients = fit_logistic_regression(x, y, c=10.0)
    reference = LogisticRegression(C=10.0, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    reference.fit(x, y)
    assert np.isfinite(coefficients).all()
    np.testing.assert_allclose(coefficients, reference.coef_[0], atol=1e-7)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-7)


def test_doctests() -> None:
    result = doctest.testmod(dataproducts_pipeline.regression)
    assert result.attempted >= 3 and result.failed == 0
