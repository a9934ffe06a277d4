"""experiment_results and experiment_health against independent implementations.

The experiments models are built (DuckDB and PostgreSQL) on purpose-made raw data
(``experiments_scenarios``) whose unit-level metric values are known by construction.
The expected statistics are computed here from those drawn values with scipy /
statsmodels, or by the delta-method formulas written out below — never from anything
the models produced. Datasets: tiny arms (3 vs 2 units), zero variance (every unit
completes; every unit completes exactly 3 items), metrics with no events at all,
unequal weights (80/20, with repeat exposures, learners in two variants, exposures
outside the window and mis-allocated units), three variants.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import Build, DbtRunner
from experiments_scenarios import (
    ExperimentSpec,
    build_scenario,
    read_metric_definitions,
    scenario_project,
    write_raw_duckdb,
    write_raw_postgres,
)
from scipy import stats
from statsmodels.stats.multitest import multipletests

RTOL = (
    1e-4  # the tolerance; the SQL is far more accurate (see test_experiments_stats_macros)
)
# Absolute tolerance for values that are 0: a variance that is exactly 0 comes out of the
# sum-of-squares formulas as ~1e-16 (double rounding), i.e. a standard deviation ~1e-8.
ATOL = 1e-7

SPECS = [
    ExperimentSpec("exp_tiny", {"control": 0.5, "treatment": 0.5}, {"control": 3, "treatment": 2}),
    ExperimentSpec(
        "exp_zero_var",
        {"control": 0.5, "treatment": 0.5},
        40,
        constant_items={"control": 3, "treatment": 3},
        all_complete=True,
    ),
    ExperimentSpec(
        "exp_no_events", {"control": 0.5, "treatment": 0.5}, 40, no_quiz=True, no_unenroll=True
    ),
    ExperimentSpec(
        "exp_unequal",
        {"control": 0.8, "treatment": 0.2},
        300,
        effects={"treatment": 1.2},
        sequential_tuning_parameter=1000.0,  # the registry's own setting
        multiple_variant_learners=3,
        outside_window_learners=4,
        repeat_exposures=5,
        mismatched_units=2,
    ),
    ExperimentSpec(
        "exp_three",
        {"control": 0.5, "weekly": 0.25, "modular": 0.25},
        300,
        effects={"weekly": 1.1},
    ),
    # a broken split: 80 vs 40 units under 50/50 (chi-square 13.3, p ≈ 2.6e-4 < 0.001)
    ExperimentSpec("exp_srm", {"control": 0.5, "treatment": 0.5}, {"control": 80, "treatment": 40}),
]

SELECT = [
    "--select",
    "+experiment_results",
    "+experiment_slice_results",
    "+experiment_daily_results",
    "+experiment_health",
    "--indirect-selection",
    "cautious",
]


HOSTILE_NAME = '<script>alert("x")</script> & <b>tiny</b>'


@pytest.fixture(scope="module")
def scenario():
    sc = build_scenario(SPECS, seed=3)
    # registry text is rendered in the HTML scorecard: it must come out escaped
    sc.experiments.loc[sc.experiments.experiment_id == "exp_tiny", "name"] = HOSTILE_NAME
    return sc


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built(request, scenario, tmp_path_factory) -> Build:
    root = tmp_path_factory.mktemp(f"experiments_{request.param}")
    project = scenario_project(root / "project", scenario.experiments, scenario.variants)
    if request.param == "duckdb":
        path = root / "warehouse.duckdb"
        write_raw_duckdb(path, scenario.tables)
        runner = DbtRunner({"DATAPRODUCTS_DUCKDB": str(path)}, "dev", root / "target", project)
        runner.run("build", *SELECT)
        return Build("duckdb", runner, None, path=path)
    server = request.getfixturevalue("postgres_server")
    env = server.create_database("experiments_stats")
    dsn = server.dsn_for("experiments_stats")
    write_raw_postgres(dsn, scenario.tables)
    runner = DbtRunner(env, "postgres", root / "target", project)
    runner.run("build", *SELECT)
    return Build("postgres", runner, None, dsn=dsn)


# --- expected values, from the drawn unit values ------------------------------------


def _welch(a: np.ndarray, b: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.ttest_ind(a, b, equal_var=False)
    # scipy reports df = 1 when both variances are 0 ("it doesn't matter what df is"):
    # undefined here, as in the mart, so that no interval is built on it
    undefined = np.var(a, ddof=1) == 0 and np.var(b, ddof=1) == 0
    return float(res.pvalue), math.nan if undefined else float(res.df)


def _lift_interval(m_t, v_t, m_c, v_c, df):
    """Relative lift L = m_t/m_c - 1 and its delta-method 95% interval, with the t
    quantile at the Welch df of the same comparison (as its p-value; as gbstats does).

    dL/dm_t = 1/m_c and dL/dm_c = -m_t/m_c^2, the arms are independent, so
    Var(L) = V_t/m_c^2 + m_t^2 V_c/m_c^4.
    """
    if m_c == 0 or np.isnan(m_c):
        return math.nan, math.nan, math.nan
    lift = m_t / m_c - 1
    se = math.sqrt(v_t / m_c**2 + m_t**2 * v_c / m_c**4)
    q = stats.t.isf(0.025, df) if df >= 1 else math.nan
    return lift, lift - q * se, lift + q * se


def _relative_p(m_t, v_t, m_c, v_c, df):
    """The relative lift's own test: L / se(L), two-sided, at the Welch df."""
    if m_c == 0 or np.isnan(m_c) or not df >= 1:
        return math.nan
    se = math.sqrt(v_t / m_c**2 + m_t**2 * v_c / m_c**4)
    return 2 * stats.t.sf(abs((m_t / m_c - 1) / se), df) if se > 0 else math.nan


def _lift_variance(m_t, v_t, m_c, v_c):
    """Var(L) of the relative lift by the delta method (nan without a control mean)."""
    if m_c == 0 or np.isnan(m_c):
        return math.nan
    return v_t / m_c**2 + m_t**2 * v_c / m_c**4


def _bayesian(estimate, variance, lower_is_better):
    """The Bayesian view of an effect with gbstats' flat prior, by gbstats' own code
    (EffectBayesianABTest's chance to win, risk and credible interval, given the
    posterior N(estimate, variance)); nan where the mart has null (no positive variance).
    """
    from gbstats.bayesian.tests import EffectBayesianABTest

    names = (
        "chance_to_beat_control",
        "risk_of_shipping",
        "risk_of_keeping_control",
        "credible_interval_lower",
        "credible_interval_upper",
    )
    if not variance > 0 or np.isnan(estimate):
        return dict.fromkeys(names, math.nan)
    sd = math.sqrt(variance)
    chance = float(stats.norm.sf(0, estimate, sd))
    risk_control, risk_treatment = EffectBayesianABTest.get_risk(estimate, sd)
    if lower_is_better:  # gbstats' inverse metrics
        chance, risk_control, risk_treatment = 1 - chance, risk_treatment, risk_control
    lo, hi = stats.norm.ppf([0.025, 0.975], estimate, sd)
    return dict(zip(names, (chance, risk_treatment, risk_control, lo, hi), strict=True))


#: The confidence sequences' tuning parameter where the registry leaves it empty (var
#: experiments_sequential_tuning_parameter; gbstats' default).
DEFAULT_TUNING = 5000.0


def _confidence_sequence(estimate, variance, n, tuning, alpha=0.05):
    """The always-valid interval and p-value of an estimate, written out from Waudby-Smith
    et al. (arXiv 2103.06476v7): rho^2 = (-2 ln a + ln(1 - 2 ln a)) / tuning (eq. 161);
    half-width sqrt(N V) sqrt(2 (N rho^2 + 1) ln(sqrt(N rho^2 + 1) / a) / (N rho)^2)
    (eq. 9); p = min(1, 1 / e-value) (eq. 155). nan where the mart has null."""
    if not variance > 0 or np.isnan(estimate):
        return math.nan, math.nan, math.nan
    rho2 = (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / tuning
    grow = n * rho2 + 1
    half = math.sqrt(n * variance) * math.sqrt(
        2 * grow * math.log(math.sqrt(grow) / alpha) / (n * n * rho2)
    )
    evalue = math.exp(rho2 * estimate**2 * n / variance / (2 * grow)) / math.sqrt(grow)
    return estimate - half, estimate + half, min(1.0, 1 / evalue)


def _difference_interval(d, v_t, v_c, df):
    """d ± t* sqrt(V_t + V_c), t* at the Welch df."""
    q = stats.t.isf(0.025, df) if df >= 1 else math.nan
    se = math.sqrt(v_t + v_c)
    return d - q * se, d + q * se


def expected_results(scenario, effect: str = "relative") -> pd.DataFrame:
    """The expected rows of experiment_results, decisions on ``effect`` (the value of var
    experiments_decision_effect)."""
    metrics = read_metric_definitions().set_index("metric_id")
    variants = scenario.variants
    tunings = scenario.experiments.set_index("experiment_id").sequential_tuning_parameter.dropna()
    rows = []
    for (exp_id, metric_id), unit in scenario.truth.groupby(["experiment_id", "metric_id"]):
        m = metrics.loc[metric_id]
        control = variants[(variants.experiment_id == exp_id) & variants.is_control].variant.item()
        cuped = bool(m.cuped_enabled) and m.metric_type != "ratio"
        if cuped:
            y_all = unit.numerator.to_numpy(float)
            c_all = unit.covariate.to_numpy(float)
            var_c = np.var(c_all, ddof=1)
            theta = np.cov(y_all, c_all, ddof=1)[0, 1] / var_c if var_c > 0 else 0.0
            unit = unit.assign(adjusted=unit.numerator - theta * (unit.covariate - c_all.mean()))
        c = unit[unit.variant == control]
        for variant, t in unit[unit.variant != control].groupby("variant"):
            n_t, n_c = len(t), len(c)
            row = {"experiment_id": exp_id, "metric_id": metric_id, "variant": variant}
            if m.metric_type == "ratio":
                # ratio of sums; variance by linearisation: z_i = (y_i - R x_i) / xbar,
                # Var(R) ≈ var(z) / n (first-order Taylor expansion of ybar/xbar)
                def arm(d):
                    y, x = d.numerator.to_numpy(float), d.denominator.to_numpy(float)
                    if x.sum() == 0:
                        return math.nan, math.nan
                    r = y.sum() / x.sum()
                    z = (y - r * x) / x.mean()
                    return r, np.std(z, ddof=1)

                r_t, sd_t = arm(t)
                r_c, sd_c = arm(c)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = stats.ttest_ind_from_stats(
                        r_t, sd_t, n_t, r_c, sd_c, n_c, equal_var=False
                    )
                v_t, v_c = np.float64(sd_t) ** 2 / n_t, np.float64(sd_c) ** 2 / n_c
                with np.errstate(all="ignore"):  # Welch-Satterthwaite df (nan: undefined)
                    df = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
                p = float(res.pvalue)
                m_t, m_c, s_t, s_c = r_t, r_c, sd_t, sd_c
            else:
                y_t, y_c = t.numerator.to_numpy(float), c.numerator.to_numpy(float)
                p, df = _welch(y_t, y_c)
                m_t, m_c = y_t.mean(), y_c.mean()
                s_t, s_c = np.std(y_t, ddof=1), np.std(y_c, ddof=1)
            lift, lo, hi = _lift_interval(m_t, s_t**2 / n_t, m_c, s_c**2 / n_c, df)
            d_lo, d_hi = _difference_interval(m_t - m_c, s_t**2 / n_t, s_c**2 / n_c, df)
            row.update(
                control_units=n_c,
                treatment_units=n_t,
                control_mean=m_c,
                treatment_mean=m_t,
                control_std_dev=s_c,
                treatment_std_dev=s_t,
                absolute_difference=m_t - m_c,
                absolute_difference_ci_lower=d_lo,
                absolute_difference_ci_upper=d_hi,
                relative_lift=lift,
                relative_lift_ci_lower=lo,
                relative_lift_ci_upper=hi,
                relative_lift_p_value=_relative_p(m_t, s_t**2 / n_t, m_c, s_c**2 / n_c, df),
                p_value=p,
                is_guardrail=bool(m.is_guardrail),
            )
            if cuped:
                a_t, a_c = t.adjusted.to_numpy(float), c.adjusted.to_numpy(float)
                cp, cdf = _welch(a_t, a_c)
                va_t, va_c = np.var(a_t, ddof=1) / n_t, np.var(a_c, ddof=1) / n_c
                clift, clo, chi = _lift_interval(a_t.mean(), va_t, a_c.mean(), va_c, cdf)
                cd_lo, cd_hi = _difference_interval(a_t.mean() - a_c.mean(), va_t, va_c, cdf)
                se2 = s_t**2 / n_t + s_c**2 / n_c
                row.update(
                    cuped_theta=theta,
                    cuped_absolute_difference=a_t.mean() - a_c.mean(),
                    cuped_absolute_difference_ci_lower=cd_lo,
                    cuped_absolute_difference_ci_upper=cd_hi,
                    cuped_relative_lift=clift,
                    cuped_relative_lift_ci_lower=clo,
                    cuped_relative_lift_ci_upper=chi,
                    cuped_relative_lift_p_value=_relative_p(
                        a_t.mean(), va_t, a_c.mean(), va_c, cdf
                    ),
                    cuped_p_value=cp,
                    cuped_variance_reduction=(1 - (va_t + va_c) / se2) if se2 > 0 else math.nan,
                )
            # each effect as decisions see it (CUPED-adjusted where CUPED applies): its
            # estimate, the variance of the estimate and its p-value
            if cuped:
                relative = (clift, _lift_variance(a_t.mean(), va_t, a_c.mean(), va_c))
                absolute = (a_t.mean() - a_c.mean(), va_t + va_c)
                p_of = {"relative": row["cuped_relative_lift_p_value"], "absolute": cp}
            else:
                relative = (lift, _lift_variance(m_t, s_t**2 / n_t, m_c, s_c**2 / n_c))
                absolute = (m_t - m_c, s_t**2 / n_t + s_c**2 / n_c)
                p_of = {"relative": row["relative_lift_p_value"], "absolute": p}
            tuning = tunings.get(exp_id, DEFAULT_TUNING)
            row["sequential_tuning_parameter"] = tuning
            for name, (estimate, variance) in (
                ("relative_lift", relative),
                ("absolute_difference", absolute),
            ):
                lo, hi, seq_p = _confidence_sequence(estimate, variance, n_t + n_c, tuning)
                row[f"sequential_{name}_ci_lower"] = lo
                row[f"sequential_{name}_ci_upper"] = hi
                row[f"sequential_{name}_p_value"] = seq_p
            # the decision effect: the relative lift by default (var experiments_decision_effect)
            decision = relative if effect == "relative" else absolute
            row["decision_p_value"] = p_of[effect]
            row.update(_bayesian(*decision, lower_is_better=m.direction == "lower"))
            rows.append(row)
    out = pd.DataFrame(rows)
    # Holm over each experiment's decision metrics x treatment variants (untestable rows left out)
    out["adjusted_p_value"] = math.nan
    for _exp_id, idx in out.groupby("experiment_id").groups.items():
        fam = out.loc[idx]
        fam = fam[~fam.is_guardrail & fam.decision_p_value.notna()]
        if len(fam):
            out.loc[fam.index, "adjusted_p_value"] = multipletests(
                fam.decision_p_value, method="holm"
            )[1]
    return out


#: The columns that follow the decision effect (var experiments_decision_effect).
DECISION_COLUMNS = [
    "decision_p_value",
    "adjusted_p_value",
    "chance_to_beat_control",
    "risk_of_shipping",
    "risk_of_keeping_control",
    "credible_interval_lower",
    "credible_interval_upper",
]

#: The always-valid columns (both effects, CUPED-adjusted where CUPED applies).
SEQUENTIAL_COLUMNS = [
    "sequential_tuning_parameter",
    *(
        f"sequential_{name}_{part}"
        for name in ("relative_lift", "absolute_difference")
        for part in ("ci_lower", "ci_upper", "p_value")
    ),
]

STAT_COLUMNS = [
    "control_mean",
    "treatment_mean",
    "control_std_dev",
    "treatment_std_dev",
    "absolute_difference",
    "absolute_difference_ci_lower",
    "absolute_difference_ci_upper",
    "relative_lift",
    "relative_lift_ci_lower",
    "relative_lift_ci_upper",
    "relative_lift_p_value",
    "p_value",
    "cuped_theta",
    "cuped_absolute_difference",
    "cuped_absolute_difference_ci_lower",
    "cuped_absolute_difference_ci_upper",
    "cuped_relative_lift",
    "cuped_relative_lift_ci_lower",
    "cuped_relative_lift_ci_upper",
    "cuped_relative_lift_p_value",
    "cuped_p_value",
    "cuped_variance_reduction",
    *DECISION_COLUMNS,
    *SEQUENTIAL_COLUMNS,
]


def _compare(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str], columns: list[str]):
    merged = expected.merge(
        actual, on=keys, suffixes=("_expected", "_sql"), how="outer", indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][keys]
    problems = []
    for col in columns:
        exp = pd.to_numeric(merged[f"{col}_expected"], errors="coerce").astype(float).to_numpy()
        got = pd.to_numeric(merged[f"{col}_sql"], errors="coerce").astype(float).to_numpy()
        ok = np.isclose(got, exp, rtol=RTOL, atol=ATOL, equal_nan=True)
        for i in np.flatnonzero(~ok):
            problems.append(
                f"{tuple(merged.loc[i, keys])} {col}: sql={got[i]!r} expected={exp[i]!r}"
            )
    assert not problems, "\n".join(problems)


def test_unit_metrics_match_the_drawn_values(built, scenario):
    """Windows, aggregations and covariates: every unit x metric value as constructed."""
    got = built.query(
        "select experiment_id, learner_id, metric_id, numerator_value as numerator, "
        "denominator_value as denominator, covariate_value as covariate "
        "from marts.experiment_unit_metrics"
    )
    truth = scenario.truth.copy()
    metrics = read_metric_definitions().set_index("metric_id")
    no_cov = truth.metric_id.map(
        lambda m: not metrics.loc[m].cuped_enabled or metrics.loc[m].metric_type == "ratio"
    )
    truth.loc[no_cov, "covariate"] = np.nan
    truth["learner_id"] = truth.learner_id.astype("int64")
    got["learner_id"] = got.learner_id.astype("int64")
    assert len(got) == len(truth)
    _compare(
        got,
        truth,
        ["experiment_id", "learner_id", "metric_id"],
        ["numerator", "denominator", "covariate"],
    )


def test_results_match_scipy_and_delta_method(built, scenario):
    expected = expected_results(scenario)
    got = built.query("select * from marts.experiment_results")
    n_metrics = len(read_metric_definitions())
    assert n_metrics == 6
    assert len(got) == len(expected) == n_metrics * (1 + 1 + 1 + 1 + 2 + 1)
    _compare(
        got,
        expected,
        ["experiment_id", "metric_id", "variant"],
        [*STAT_COLUMNS, "control_units", "treatment_units"],
    )


def _gbstats_arm(d: pd.DataFrame, metric_type: str):
    """An arm's sufficient statistics as GrowthBook's engine takes them. Proportions as
    sample means (sum of squares = sum, 0/1 values): the mart uses Welch's unbiased
    variance for them, as scipy's t-test on 0/1 values does, where gbstats'
    ProportionStatistic uses p(1 - p)/n, smaller by (n - 1)/n."""
    from gbstats.models.statistics import RatioStatistic, SampleMeanStatistic

    y = d.numerator.to_numpy(float)
    m = SampleMeanStatistic(n=len(y), sum=float(y.sum()), sum_squares=float((y * y).sum()))
    if metric_type != "ratio":
        return m
    x = d.denominator.to_numpy(float)
    return RatioStatistic(
        n=len(y),
        m_statistic=m,
        d_statistic=SampleMeanStatistic(
            n=len(x), sum=float(x.sum()), sum_squares=float((x * x).sum())
        ),
        m_d_sum_of_products=float((x * y).sum()),
    )


def test_results_agree_with_growthbooks_engine(built, scenario):
    """GrowthBook's engine (gbstats 0.8, its frequentist two-sided t-test), given each
    arm's sufficient statistics of the drawn unit values, gives the mart's relative lift
    (gbstats' default effect) and the absolute difference, each with its 95% interval and
    p-value, to 1e-6 relative, for mean, proportion and ratio metrics. Where the lift or
    the test is undefined (a control mean of 0, zero variance in both arms), the mart has
    no interval and gbstats declines as well. gbstats also declines when only one arm has
    zero variance, where Welch's test (scipy's, the mart's) is defined: those rows are
    compared with gbstats' own formulas. The Bayesian view (chance to beat control, both
    risks, credible interval) of rows without CUPED is its EffectBayesianABTest's, flat
    prior, and their always-valid intervals and p-values its SequentialTwoSidedTTest's, at
    each experiment's tuning parameter. CUPED is not compared: gbstats adjusts with a per-comparison theta, the
    mart with one theta per experiment (see the doc block experiments_statistics)."""
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )

    metrics = read_metric_definitions().set_index("metric_id")
    variants = scenario.variants
    got = built.query("select * from marts.experiment_results").set_index(
        ["experiment_id", "metric_id", "variant"]
    )
    compared = undefined = one_arm_constant = bayesian = sequential = 0
    for (exp_id, metric_id), unit in scenario.truth.groupby(["experiment_id", "metric_id"]):
        kind = metrics.loc[metric_id].metric_type
        control = variants[(variants.experiment_id == exp_id) & variants.is_control].variant.item()
        a = _gbstats_arm(unit[unit.variant == control], kind)
        for variant, arm in unit[unit.variant != control].groupby("variant"):
            b = _gbstats_arm(arm, kind)
            row = got.loc[(exp_id, metric_id, variant)]
            where = (exp_id, metric_id, variant)
            if a.mean == 0 or (a.variance <= 0 and b.variance <= 0):
                # no relative lift, or no test: gbstats declines too
                assert TwoSidedTTest(a, b).compute_result().error_message is not None, where
                assert pd.isna(row.relative_lift_ci_lower), where
                assert pd.isna(row.relative_lift_ci_upper), where
                undefined += 1
                continue
            # gbstats declines to test when either arm has zero variance (a proportion of
            # 0 or 1 in a tiny arm); Welch's test, scipy's and the mart's, is defined then:
            # compared with gbstats' own formulas, which its result would have used
            relative = TwoSidedTTest(a, b)
            absolute = TwoSidedTTest(a, b, FrequentistConfig(difference_type="absolute"))
            one_arm_constant += relative.compute_result().error_message is not None
            expected = {
                "relative_lift": relative.point_estimate,
                "relative_lift_ci_lower": relative.confidence_interval[0],
                "relative_lift_ci_upper": relative.confidence_interval[1],
                "relative_lift_p_value": relative.p_value,
                "absolute_difference": absolute.point_estimate,
                "absolute_difference_ci_lower": absolute.confidence_interval[0],
                "absolute_difference_ci_upper": absolute.confidence_interval[1],
                "p_value": absolute.p_value,
            }
            if not row.is_cuped_applied:
                # the always-valid columns (on the CUPED-adjusted effects where CUPED
                # applies, compared in the CUPED test below): its SequentialTwoSidedTTest
                tuning = float(row.sequential_tuning_parameter)
                for name, difference in (
                    ("relative_lift", "relative"),
                    ("absolute_difference", "absolute"),
                ):
                    seq = SequentialTwoSidedTTest(
                        a,
                        b,
                        SequentialConfig(
                            difference_type=difference, sequential_tuning_parameter=tuning
                        ),
                    )
                    expected[f"sequential_{name}_ci_lower"] = seq.confidence_interval[0]
                    expected[f"sequential_{name}_ci_upper"] = seq.confidence_interval[1]
                    expected[f"sequential_{name}_p_value"] = seq.p_value
                sequential += 1
            if not row.is_cuped_applied and relative.compute_result().error_message is None:
                # the Bayesian view of the decision effect (the relative lift, not CUPED
                # here), gbstats' flat prior; a lower-is-better metric is its "inverse"
                bayes = EffectBayesianABTest(
                    a, b, EffectBayesianConfig(inverse=row.direction == "lower")
                ).compute_result()
                assert bayes.error_message is None, where
                expected.update(
                    chance_to_beat_control=bayes.chance_to_win,
                    risk_of_keeping_control=bayes.risk[0],
                    risk_of_shipping=bayes.risk[1],
                    credible_interval_lower=bayes.ci[0],
                    credible_interval_upper=bayes.ci[1],
                )
                bayesian += 1
            for column, value in expected.items():
                assert float(row[column]) == pytest.approx(value, rel=1e-6, abs=1e-9), (
                    where,
                    column,
                )
            compared += 1
    assert compared >= 20 and undefined >= 1 and one_arm_constant >= 1, (compared, undefined)
    assert bayesian >= 4 and sequential >= 4, (bayesian, sequential)
    # the registry's own tuning parameter reached the rows of its experiment
    assert set(got.loc["exp_unequal"].sequential_tuning_parameter) == {1000.0}


def test_cuped_agrees_with_growthbooks_engine_on_two_arms(built, scenario):
    """gbstats' CUPED (RegressionAdjustedStatistic, theta from both arms pooled) and the
    mart's (theta from all units of the experiment) are the same adjustment when an
    experiment has two arms: the CUPED-adjusted absolute difference, its 95% interval, its
    p-value and its always-valid interval and p-value agree with gbstats' frequentist
    tests to 1e-6. (The CUPED relative lift
    differs by definition: gbstats divides by the unadjusted control mean, the mart by the
    adjusted one; see the doc block experiments_statistics.)"""
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )
    from gbstats.models.statistics import (
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
        compute_theta,
    )

    def sample(v: np.ndarray) -> SampleMeanStatistic:
        return SampleMeanStatistic(n=len(v), sum=float(v.sum()), sum_squares=float((v * v).sum()))

    def adjusted(d: pd.DataFrame, theta: float) -> RegressionAdjustedStatistic:
        y, c = d.numerator.to_numpy(float), d.covariate.to_numpy(float)
        return RegressionAdjustedStatistic(
            n=len(y),
            post_statistic=sample(y),
            pre_statistic=sample(c),
            post_pre_sum_of_products=float((y * c).sum()),
            theta=theta,
        )

    got = built.query("select * from marts.experiment_results where is_cuped_applied").set_index(
        ["experiment_id", "metric_id", "variant"]
    )
    variants = scenario.variants
    compared = declined = 0
    for (exp_id, metric_id), unit in scenario.truth.groupby(["experiment_id", "metric_id"]):
        arms = variants[variants.experiment_id == exp_id]
        if len(arms) != 2 or (exp_id, metric_id) not in got.index.droplevel("variant"):
            continue
        control = arms[arms.is_control].variant.item()
        treatment = arms[~arms.is_control].variant.item()
        c, t = unit[unit.variant == control], unit[unit.variant == treatment]
        theta = compute_theta(adjusted(c, 0.0), adjusted(t, 0.0))
        a, b = adjusted(c, theta), adjusted(t, theta)
        row = got.loc[(exp_id, metric_id, treatment)]
        assert float(row.cuped_theta) == pytest.approx(theta, rel=1e-6, abs=1e-12)
        test = TwoSidedTTest(a, b, FrequentistConfig(difference_type="absolute"))
        if test.compute_result().error_message is not None:  # zero variance in an arm
            declined += 1
            continue
        seq = SequentialTwoSidedTTest(
            a,
            b,
            SequentialConfig(
                difference_type="absolute",
                sequential_tuning_parameter=float(row.sequential_tuning_parameter),
            ),
        )
        expected = {
            "cuped_absolute_difference": test.point_estimate,
            "cuped_absolute_difference_ci_lower": test.confidence_interval[0],
            "cuped_absolute_difference_ci_upper": test.confidence_interval[1],
            "cuped_p_value": test.p_value,
            "sequential_absolute_difference_ci_lower": seq.confidence_interval[0],
            "sequential_absolute_difference_ci_upper": seq.confidence_interval[1],
            "sequential_absolute_difference_p_value": seq.p_value,
        }
        for column, value in expected.items():
            assert float(row[column]) == pytest.approx(value, rel=1e-6, abs=1e-9), (
                exp_id,
                metric_id,
                column,
            )
        compared += 1
    assert compared >= 10, (compared, declined)


def test_decisions_can_use_the_absolute_difference(built, scenario):
    """With var experiments_decision_effect = absolute, the decision p-value, its Holm
    correction and the Bayesian view are those of the absolute difference (CUPED-adjusted
    where CUPED applies), against scipy and gbstats' formulas as for the relative lift.
    `dbt show` runs the query of int_experiment_effects (every breakdown; the overall rows
    are experiment_results) with the var set, on the tables built."""
    proc = built.dbt.scratch("absolute").run(
        "show",
        "--quiet",
        "--output",
        "json",
        "--limit",
        "1000000",
        "--select",
        "int_experiment_effects",
        "--vars",
        '{"experiments_decision_effect": "absolute"}',
    )
    got = pd.DataFrame(json.loads(proc.stdout[proc.stdout.index("{") :])["show"])
    got = got[got.breakdown == "overall"]
    assert set(got.decision_effect) == {"absolute"}
    expected = expected_results(scenario, effect="absolute")
    _compare(got, expected, ["experiment_id", "metric_id", "variant"], DECISION_COLUMNS)
    relative = built.query("select * from marts.experiment_results")
    assert set(relative.decision_effect) == {"relative"}
    # the two effects' tests differ (a difference of means, a ratio of means)
    merged = got.merge(relative, on=["experiment_id", "metric_id", "variant"])
    differ = ~np.isclose(
        merged.decision_p_value_x.astype(float),
        merged.decision_p_value_y.astype(float),
        equal_nan=True,
    )
    assert differ.sum() >= 5


def test_a_replay_as_of_a_time_counts_only_the_exposures_until_then(built, scenario):
    """With var experiments_as_of set, an exposure after it has not happened yet: it is
    outside the window (as the events after it never count), every exposure still has a
    row, and the units are the learners with one variant in the window up to then (a
    learner whose second variant comes later is still a unit then)."""
    as_of = "2026-09-15 00:00:00"
    proc = built.dbt.scratch("as_of").run(
        "show",
        "--quiet",
        "--output",
        "json",
        "--limit",
        "1000000",
        "--select",
        "int_experiment_exposures_classified",
        "--vars",
        json.dumps({"experiments_as_of": as_of}),
    )
    got = pd.DataFrame(json.loads(proc.stdout[proc.stdout.index("{") :])["show"])
    got["exposed_at"] = pd.to_datetime(got.exposed_at)
    cut = pd.Timestamp(as_of)
    assert len(got) == len(
        built.query("select * from intermediate.int_experiment_exposures_classified")
    )
    assert (got[got.exposed_at > cut].exposure_status == "outside_window").all()
    assert (got.exposed_at > cut).sum() > 100  # the cut is inside the experiments
    # the units as of then, from the raw exposures
    raw = scenario.tables["experiment_exposures"].copy()
    raw["exposed_at"] = pd.to_datetime(raw.exposed_at)
    windows = scenario.experiments.set_index("experiment_id")
    start = pd.to_datetime(raw.experiment_id.map(windows.start_at))
    end = pd.to_datetime(raw.experiment_id.map(windows.end_at))
    seen = raw[(raw.exposed_at >= start) & (raw.exposed_at < end) & (raw.exposed_at <= cut)]
    variants = seen.groupby(["experiment_id", "learner_id"]).variant.nunique()
    expected = variants[variants == 1].groupby("experiment_id").size()
    units = got[got.exposure_status == "first_exposure"].groupby("experiment_id").size()
    pd.testing.assert_series_equal(units.sort_index(), expected.sort_index(), check_names=False)


def test_edge_cases_are_null_not_errors(built):
    got = built.query("select * from marts.experiment_results").set_index(
        ["experiment_id", "metric_id"]
    )
    # zero variance in both arms: no test (scipy returns nan as well)
    assert pd.isna(got.loc[("exp_zero_var", "items_completed"), "p_value"])
    assert got.loc[("exp_zero_var", "items_completed"), "relative_lift"] == pytest.approx(0.0)
    # ... and no interval either: the t quantile at an undefined df is undefined (it
    # was (0, 0) with the normal quantile, an interval that claimed certainty)
    zero = got.loc[("exp_zero_var", "items_completed")]
    assert pd.isna(zero.relative_lift_ci_lower) and pd.isna(zero.relative_lift_ci_upper)
    # ... nor a Bayesian view (gbstats' placeholders would be 0.5, (0, 0) and no risk)
    bayesian = ["chance_to_beat_control", "risk_of_shipping", "credible_interval_lower"]
    assert zero[bayesian].isna().all() and not zero.is_significant
    # a metric with no events: control mean 0, no lift, no test, not significant
    row = got.loc[("exp_no_events", "unenroll_rate")]
    assert row.control_mean == 0 and pd.isna(row.relative_lift) and pd.isna(row.p_value)
    assert not row.is_significant and not row.is_guardrail_breached
    # a ratio metric with no denominator at all
    assert pd.isna(got.loc[("exp_no_events", "quiz_pass_rate"), "control_mean"])


def test_welch_degrees_of_freedom(built, scenario):
    """Welch-Satterthwaite df as scipy reports it (mean and proportion metrics)."""
    got = built.query(
        "select experiment_id, metric_id, variant, degrees_of_freedom from marts.experiment_results "
        "where metric_type <> 'ratio' and p_value is not null"
    )
    truth = scenario.truth
    controls = scenario.variants[scenario.variants.is_control].set_index("experiment_id").variant
    for r in got.itertuples():
        unit = truth[(truth.experiment_id == r.experiment_id) & (truth.metric_id == r.metric_id)]
        _, df = _welch(
            unit[unit.variant == r.variant].numerator.to_numpy(float),
            unit[unit.variant == controls[r.experiment_id]].numerator.to_numpy(float),
        )
        assert r.degrees_of_freedom == pytest.approx(df, rel=RTOL)


def test_guardrails_are_outside_the_family(built):
    got = built.query("select * from marts.experiment_results")
    guard = got[got.is_guardrail]
    assert len(guard) and guard.adjusted_p_value.isna().all() and (guard.family_size == 0).all()
    assert set(got.correction_method) == {"holm"}


def test_health_matches_scipy_and_construction(built, scenario):
    got = built.query("select * from marts.experiment_health").set_index("experiment_id")
    registry = scenario.registry
    exposures = scenario.tables["experiment_exposures"]
    for exp in scenario.expected_health.itertuples():
        row = got.loc[exp.experiment_id]
        names = list(exp.weights)
        observed = np.array([exp.units[n] for n in names], dtype=float)
        f_exp = observed.sum() * np.array([exp.weights[n] for n in names])
        chi = stats.chisquare(observed, f_exp)
        assert row.srm_chi_square == pytest.approx(chi.statistic, rel=RTOL)
        assert row.srm_p_value == pytest.approx(chi.pvalue, rel=RTOL)
        assert row.srm_degrees_of_freedom == len(names) - 1
        assert row.units_analysed == exp.units_analysed
        assert row.multiple_variant_learners == exp.multiple_variant_learners
        assert row.exposures_outside_window == exp.exposures_outside_window
        assert row.units_by_variant == ", ".join(f"{n}: {exp.units[n]}" for n in names)
        # mismatches recounted with the Python allocator on the raw exposure log, among
        # learners seen in one variant inside the window (a learner seen in two is counted
        # once, as a multiple exposure, not again as a mismatch) ...
        log = exposures[exposures.experiment_id == exp.experiment_id]
        start = pd.Timestamp(registry[exp.experiment_id].start_at)
        end = pd.Timestamp(registry[exp.experiment_id].end_at)
        exposed_at = pd.to_datetime(log.exposed_at)
        inside = log[(exposed_at >= start) & (exposed_at < end)]
        several = inside.groupby("learner_id").variant.nunique()
        several = set(several[several > 1].index)
        expected_mismatches = sum(
            registry.assign(exp.experiment_id, int(r.learner_id)) != r.variant
            for r in log.itertuples()
            if r.learner_id not in several
        )
        assert row.allocation_mismatches == expected_mismatches
        # ... which is the number of mismatched units the scenario planted
        assert row.allocation_mismatches == exp.allocation_mismatches
        assert row.exposures_logged == len(log)
        assert row.days_running == 30
        assert bool(row.is_srm_alarm) == (chi.pvalue < 0.001)
    assert bool(got.loc["exp_srm", "is_srm_alarm"])
    assert got.loc["exp_unequal", "allocation_mismatches"] > 0
    assert bool(got.loc["exp_unequal", "is_allocation_mismatch_alarm"])


# --- the scorecard ---------------------------------------------------------------------


def test_scorecard_report_is_self_contained(built, scenario, tmp_path):
    if built.engine != "duckdb":
        pytest.skip("the scorecard reads the DuckDB warehouse")
    import xml.etree.ElementTree as ET

    from dataproducts.report import write_experiment_report

    results = built.query("select * from marts.experiment_results")
    for exp_id in scenario.experiments.experiment_id:
        path = write_experiment_report(exp_id, tmp_path / f"{exp_id}.html", built.path)
        html = path.read_text(encoding="utf-8")
        low = html.lower()
        # opens from disk: nothing to fetch, nothing to run
        assert (
            "<script" not in low
            and "<link" not in low
            and " src=" not in low
            and "href=" not in low
        )
        assert "@import" not in low and "url(" not in low
        # health first, then the forest plot
        assert html.index("Health checks") < html.index("<svg") < html.index("<h2>Numbers")
        for title in ("Sample ratio", "Allocation", "Multiple exposures"):
            assert title in html
        svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + len("</svg>")])
        circles = svg.findall(".//{http://www.w3.org/2000/svg}circle")
        mine = results[results.experiment_id == exp_id]
        estimable = mine.apply(
            lambda r: not pd.isna(r.cuped_relative_lift if r.is_cuped_applied else r.relative_lift),
            axis=1,
        )
        assert len(circles) == int(estimable.sum())
        assert "guardrail" in html  # unenroll_rate is a guardrail in every experiment
        # then the lift over time: one chart per results row, each a line and a band
        # from the daily series (checked against it: the last point is the overall lift)
        over_time = html[html.index("<h2>Over time") : html.index("<h2>By slice")]
        pieces = over_time.split("</svg>")[:-1]
        charts = [ET.fromstring(c[c.index("<svg") :] + "</svg>") for c in pieces]
        assert len(charts) == len(mine)
        drawn = [c.find(".//{http://www.w3.org/2000/svg}polyline") is not None for c in charts]
        assert sum(drawn) >= int(estimable.sum()) - 2  # a row needs 2 estimable days
        # and the primary metric by slice, its family named
        by_slice = html[html.index("<h2>By slice") :]
        slices = built.query(
            "select * from marts.experiment_slice_results where experiment_id = ? "
            "and is_primary_metric",
            [exp_id],
        )
        assert by_slice.count("<tr>") == len(slices) + 1
        if len(slices):
            assert f"all {int(slices.family_size.max())} slice tests" in by_slice
    srm = (tmp_path / "exp_srm.html").read_text(encoding="utf-8")
    assert "Sample ratio: ALARM" in srm and "Health check failed" in srm
    assert "Sample ratio: ok" in (tmp_path / "exp_three.html").read_text(encoding="utf-8")
    tiny = (tmp_path / "exp_tiny.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;tiny&lt;/b&gt;" in tiny


def test_report_cli(built, tmp_path):
    if built.engine != "duckdb":
        pytest.skip("the scorecard reads the DuckDB warehouse")
    from click.testing import CliRunner

    from dataproducts.cli import cli
    from dataproducts.errors import UnknownExperimentError

    out = tmp_path / "card.html"
    res = CliRunner().invoke(
        cli, ["report", "experiment", "exp_three", "--duckdb", str(built.path), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.exists() and str(out) in res.output
    # the toggle: the always-valid confidence sequences in the plot and the table
    seq = tmp_path / "sequential.html"
    args = ["report", "experiment", "exp_three", "--duckdb", str(built.path), "--out", str(seq)]
    res = CliRunner().invoke(cli, [*args, "--sequential"])
    assert res.exit_code == 0, res.output
    fixed, always = out.read_text(encoding="utf-8"), seq.read_text(encoding="utf-8")
    assert "always-valid confidence sequences" in always and "95% CI (always valid)" in always
    assert "always-valid confidence sequences" not in fixed
    row = built.query(
        "select * from marts.experiment_results where experiment_id = 'exp_three' "
        "and metric_id = 'items_completed' and variant = 'weekly'"
    ).iloc[0]
    bounds = (
        f"[{row.sequential_relative_lift_ci_lower * 100:+.1f}%, "
        f"{row.sequential_relative_lift_ci_upper * 100:+.1f}%]"
    )
    assert bounds in always and bounds not in fixed
    res = CliRunner().invoke(cli, ["report", "experiment", "nope", "--duckdb", str(built.path)])
    assert isinstance(res.exception, UnknownExperimentError)
    assert "exp_three" in str(res.exception)  # the message lists what exists


# --- slices and the daily series ------------------------------------------------------

#: The statistics experiment_slice_results and experiment_daily_results carry.
BREAKDOWN_STAT_COLUMNS = [
    "control_units",
    "treatment_units",
    "control_mean",
    "treatment_mean",
    "absolute_difference",
    "absolute_difference_ci_lower",
    "absolute_difference_ci_upper",
    "p_value",
    "relative_lift",
    "relative_lift_ci_lower",
    "relative_lift_ci_upper",
    "relative_lift_p_value",
    "cuped_relative_lift",
    "cuped_relative_lift_ci_lower",
    "cuped_relative_lift_ci_upper",
    "sequential_relative_lift_ci_lower",
    "sequential_relative_lift_ci_upper",
    "sequential_absolute_difference_ci_lower",
    "sequential_absolute_difference_ci_upper",
    "decision_p_value",
    "chance_to_beat_control",
]


def test_slices_match_scipy_on_each_slices_units(built, scenario):
    """Every slice row is the comparison over the units whose learner has that language,
    computed from the drawn values as the overall rows are (scipy, delta method; CUPED's
    theta over the slice's units)."""
    language = scenario.tables["learners"].set_index("learner_id").language
    truth = scenario.truth.assign(language=scenario.truth.learner_id.map(language))
    expected = []
    controls = scenario.variants[scenario.variants.is_control].set_index("experiment_id").variant
    for value, units in truth.groupby("language"):
        # a slice is compared where its control arm has units (else the mart has no row)
        has_control = units[units.variant == units.experiment_id.map(controls)].experiment_id
        units = units[units.experiment_id.isin(set(has_control))]
        part = pd.DataFrame(expected_results(_with_truth(scenario, units)))
        expected.append(part.assign(dimension_id="language", dimension_value=value))
    got = built.query("select * from marts.experiment_slice_results")
    assert set(got.dimension_value) == {"en", "es", "pt"}
    want = pd.concat(expected, ignore_index=True)
    keys = ["experiment_id", "dimension_id", "dimension_value", "metric_id", "variant"]
    _compare(got, want, keys, BREAKDOWN_STAT_COLUMNS)
    assert len(got) > 100


def _with_truth(scenario, truth: pd.DataFrame):
    """``scenario`` with only the units of ``truth`` (the same registry)."""
    import dataclasses

    return dataclasses.replace(scenario, truth=truth.drop(columns="language"))


def test_the_correction_covers_every_slice(built):
    """Holm over an experiment's slice family: every slice row of a decision metric, of
    every value (statsmodels on the mart's decision p-values)."""
    got = built.query("select * from marts.experiment_slice_results")
    checked = 0
    for exp_id, rows in got.groupby("experiment_id"):
        family = rows[~rows.is_guardrail & rows.decision_p_value.notna()]
        if family.empty:
            continue
        adjusted = multipletests(family.decision_p_value.astype(float), method="holm")[1]
        np.testing.assert_allclose(family.adjusted_p_value.astype(float), adjusted, rtol=1e-9)
        assert (family.family_size == len(family)).all(), exp_id
        checked += len(family)
    assert (got[got.is_guardrail].adjusted_p_value.isna()).all()
    assert checked > 50


def test_the_daily_series_ends_at_the_overall_result(built):
    """The last day of the series (every window closed) is experiment_results."""
    daily = built.query("select * from marts.experiment_daily_results")
    last = daily.loc[daily.groupby(["experiment_id", "metric_id", "variant"]).day_number.idxmax()]
    overall = built.query("select * from marts.experiment_results")
    assert len(last) == len(overall)
    columns = [*BREAKDOWN_STAT_COLUMNS, "adjusted_p_value", "family_size"]
    _compare(last, overall, ["experiment_id", "metric_id", "variant"], columns)
    # one row per day from the first day both arms have a unit, no gap
    spans = daily.groupby(["experiment_id", "metric_id", "variant"]).day_number.agg(
        ["min", "max", "count"]
    )
    assert (spans["count"] == spans["max"] - spans["min"] + 1).all()


def test_each_day_of_the_series_is_a_replay_as_of_its_end(built, tmp_path):
    """A day's rows are experiment_results rebuilt with var experiments_as_of at the end
    of that day: another path through the SQL (the exposures, windows and values of an
    as-of build) gives the same numbers (DuckDB: the build is replayed on a copy)."""
    if built.engine != "duckdb":
        pytest.skip("the replay rebuilds a copy of the DuckDB file")
    import shutil

    copy = tmp_path / "replay.duckdb"
    shutil.copy(built.path, copy)
    day_end = pd.Timestamp("2026-09-15 00:00:00")
    replay_as_of = "2026-09-14 23:59:59.999999"
    runner = DbtRunner(
        {"DATAPRODUCTS_DUCKDB": str(copy)},
        "dev",
        tmp_path / "target",
        built.dbt.project_dir,
    )
    runner.run(
        "run",
        "--select",
        "+experiment_results",
        "--exclude",
        "resource_type:seed",
        "--vars",
        json.dumps({"experiments_as_of": replay_as_of}),
    )
    import duckdb

    with duckdb.connect(str(copy), read_only=True) as con:
        replay = con.execute("select * from marts.experiment_results").df()
    daily = built.query("select * from marts.experiment_daily_results")
    day = daily[pd.to_datetime(daily.day_ends_at) == day_end]
    keys = ["experiment_id", "metric_id", "variant"]
    assert len(day) > 20 and set(map(tuple, day[keys].to_numpy())) == set(
        map(tuple, replay[keys].to_numpy())
    )
    columns = [*BREAKDOWN_STAT_COLUMNS, "adjusted_p_value", "family_size"]
    _compare(day, replay, keys, columns)
