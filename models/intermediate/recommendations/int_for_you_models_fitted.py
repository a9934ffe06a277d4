"""The for_you regression: logistic regression of "enrolls in the following window"
on the candidate features, fitted on the training snapshot (time split).

Features are standardized with the training means and scales; the table holds, per
term, the coefficient on the standardized feature with its mean and scale, so SQL
scores a candidate as sigmoid(intercept + sum coefficient * (x - mean) / scale).
Training metrics (rows, positives, log loss, ROC AUC) and the holdout ROC AUC on the
evaluation snapshot (fitted on earlier data, so an honest estimate) repeat on every
row. model_version names the training cutoff and a hash of the configuration.
The fit is dataproducts_pipeline.regression (numpy): the objective of scikit-learn's
LogisticRegression(C, l2), solved to the optimum by Newton steps and checked against
scikit-learn in the tests, without scikit-learn's import on the build's longest path.
On Spark (run through Spark Connect) the labelled candidates are collected the same way
(the evaluation sample keeps them about the same size at any scale) and fitted by the same
code, so DuckDB and Spark give the same coefficients for the same features.
"""

import hashlib

import numpy as np
import pandas as pd

from dataproducts_pipeline.regression import (
    fit_logistic_regression,
    log_loss,
    predict_probability,
    roc_auc,
)


def model(dbt, session):
    dbt.config(materialized="table")
    features = [f.strip() for f in str(dbt.config.get("for_you_features")).split(",")]
    regularization = float(dbt.config.get("for_you_c"))

    on_spark = dbt.config.get("target_type") == "spark"

    def frame(relation, where=None, columns=None):
        """A pandas frame of a DuckDB relation or a Spark DataFrame."""
        if where is not None:
            relation = relation.filter(where)
        if on_spark:
            return (relation.select(*columns) if columns else relation).toPandas()
        return (relation.project(", ".join(columns)) if columns else relation).df()

    # only the labelled snapshots leave the database (serving has no label), numeric
    # columns only
    candidates = dbt.ref("int_recommendation_candidates_featurized")
    columns = ["enrolled_after", *features]
    training = frame(candidates, "snapshot_name = 'training'", columns)
    holdout = frame(candidates, "snapshot_name = 'evaluation'", columns)
    snapshots = frame(dbt.ref("int_recommendation_snapshots_defined"))
    y = training["enrolled_after"].to_numpy(dtype=np.int64)
    if len(np.unique(y)) < 2:
        raise ValueError(
            "for_you: the training snapshot has "
            f"{len(y)} candidates and {int(y.sum())} enrollments; logistic regression needs "
            "both classes. Load more history, or raise var recommendations_evaluation_days, "
            "or disable the Python modules with var recommendations_python_modules: false."
        )
    x = training[features].to_numpy(dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    intercept, coefficients = fit_logistic_regression((x - mean) / scale, y, c=regularization)

    p_train = predict_probability((x - mean) / scale, intercept, coefficients)
    holdout_auc = np.nan
    if len(holdout) and holdout["enrolled_after"].nunique() == 2:
        xh = (holdout[features].to_numpy(dtype=np.float64) - mean) / scale
        holdout_auc = roc_auc(
            holdout["enrolled_after"].to_numpy(dtype=np.int64),
            predict_probability(xh, intercept, coefficients),
        )

    trained_at = snapshots.loc[snapshots["snapshot_name"] == "training", "as_of"].iloc[0]
    config_hash = hashlib.md5(
        f"{','.join(features)}|C={regularization}".encode(), usedforsecurity=False
    ).hexdigest()[:8]
    version = f"logreg-{pd.Timestamp(trained_at):%Y%m%d}-{config_hash}-v1"

    terms = ["intercept", *features]
    fitted = pd.DataFrame(
        {
            "model_version": version,
            "term": terms,
            "coefficient": np.concatenate([[intercept], coefficients]).astype(np.float64),
            "feature_mean": np.concatenate([[0.0], mean]),
            "feature_scale": np.concatenate([[1.0], scale]),
            "trained_at": pd.Timestamp(trained_at),
            "n_training_rows": len(y),
            "n_training_positives": int(y.sum()),
            "training_log_loss": float(log_loss(y, p_train)),
            "training_auc": float(roc_auc(y, p_train)),
            "holdout_auc": float(holdout_auc),
        }
    )
    if on_spark:
        return session.createDataFrame(fitted)
    return fitted
