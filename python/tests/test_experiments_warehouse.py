"""The experiments product on the session's generated dataset, on both engines.

The shared ``warehouse`` fixture is the whole project built on ``generate(tiny, seed=7,
bad_row_rate=0.02)``. Health figures are recomputed here in pandas from the staged
exposure log with the Python allocator and the documented exposure rules; the
statistics are recomputed with scipy from the unit-level table (the scenario tests in
test_experiments_stats.py check that table against values known by construction).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dataproducts.allocation import Registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.from_seeds()


def _units(exposures: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """The exposure rules, in pandas: window, multiple variants, first exposure."""
    out = []
    for exp_id, log in exposures.groupby("experiment_id"):
        exp = registry[exp_id]
        start, end = pd.Timestamp(exp.start_at), pd.Timestamp(exp.end_at)
        inside = log[(log.exposed_at >= start) & (log.exposed_at < end)]
        n_variants = inside.groupby("learner_id").variant.nunique()
        clean = inside[inside.learner_id.isin(n_variants[n_variants == 1].index)]
        first = clean.sort_values(["exposed_at", "exposure_id"]).drop_duplicates("learner_id")
        out.append(first.assign(multi=int((n_variants > 1).sum()), learners=len(n_variants)))
    return pd.concat(out, ignore_index=True)


def test_health_recomputed_from_the_exposure_log(warehouse, registry):
    health = warehouse.query("select * from marts.experiment_health").set_index("experiment_id")
    assert set(health.index) == set(registry.experiments)
    log = warehouse.query(
        "select exposure_id, experiment_id, learner_id, variant, exposed_at "
        "from staging.stg_raw__experiment_exposures"
    )
    log["exposed_at"] = pd.to_datetime(log.exposed_at)
    log["learner_id"] = log.learner_id.astype("int64")
    units = _units(log, registry)
    for exp_id, exp in registry.experiments.items():
        row = health.loc[exp_id]
        mine = log[log.experiment_id == exp_id]
        # a learner seen in several variants inside the window is counted once, as a
        # multiple exposure; mismatches are counted among the others
        start, end = pd.Timestamp(exp.start_at), pd.Timestamp(exp.end_at)
        inside = mine[(mine.exposed_at >= start) & (mine.exposed_at < end)]
        n_variants = inside.groupby("learner_id").variant.nunique()
        several = set(n_variants[n_variants > 1].index)
        mismatches = sum(
            exp.assign(int(r.learner_id)) != r.variant
            for r in mine.itertuples()
            if r.learner_id not in several
        )
        assert row.allocation_mismatches == mismatches
        # the generator plants no allocation bug (only second-variant exposures), so the
        # allocation alarm must stay quiet on its data
        assert row.allocation_mismatches == 0
        assert not row.is_allocation_mismatch_alarm
        assert row.exposures_logged == len(mine)
        u = units[units.experiment_id == exp_id]
        assert row.units_analysed == len(u)
        if len(u):
            assert row.multiple_variant_learners == u.multi.iloc[0]
        observed = np.array([(u.variant == v.name).sum() for v in exp.variants], dtype=float)
        expected = observed.sum() * np.array([v.weight for v in exp.variants])
        chi = stats.chisquare(observed, expected)
        assert row.srm_chi_square == pytest.approx(chi.statistic, rel=1e-4, abs=1e-9)
        assert row.srm_p_value == pytest.approx(chi.pvalue, rel=1e-4)
        assert bool(row.is_srm_alarm) == (chi.pvalue < 0.001)


def test_results_recomputed_from_unit_values(warehouse):
    results = warehouse.query("select * from marts.experiment_results")
    units = warehouse.query(
        "select experiment_id, metric_id, variant, is_control, metric_type, numerator_value "
        "from marts.experiment_unit_metrics where metric_type <> 'ratio'"
    )
    checked = 0
    for r in results[results.metric_type != "ratio"].itertuples():
        u = units[(units.experiment_id == r.experiment_id) & (units.metric_id == r.metric_id)]
        t = u[u.variant == r.variant].numerator_value.to_numpy(float)
        c = u[u.is_control].numerator_value.to_numpy(float)
        assert (len(t), len(c)) == (r.treatment_units, r.control_units)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = stats.ttest_ind(t, c, equal_var=False).pvalue
        assert r.treatment_mean == pytest.approx(t.mean(), rel=1e-9)
        if np.isnan(p):
            assert pd.isna(r.p_value)
        else:
            assert r.p_value == pytest.approx(p, rel=1e-4)
            checked += 1
    assert checked > 0
    # every experiment x metric x treatment variant has a row
    n_metrics = warehouse.scalar("select count(*) from reference.metric_definitions")
    n_treatments = warehouse.scalar(
        "select count(*) from reference.experiment_variants where not is_control"
    )
    assert len(results) == n_metrics * n_treatments
