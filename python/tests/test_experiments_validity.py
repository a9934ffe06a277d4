"""Statistical validity of experiment_results over many simulated experiments (slow).

Runs outside the default test run (``pytest -m slow``). One registry of 400 A/A
experiments (no effect) and 200 experiments with a planted effect (every unit's
item-completion and enrollment rates x 1.2 in treatment: the true relative lift of the
mean is exactly +20%), each on fresh learners, simulated by ``experiments_scenarios``
and pushed through the real dbt models on DuckDB.

- At alpha = 0.05, the share of A/A experiments called significant must lie in
  [0.02, 0.09] (Welch and CUPED p-values, a mean and a proportion metric).
- The 95% interval of the relative lift must contain the true +20% in at least 93% of
  the planted experiments (issue 17): the fixed-horizon interval, plain and CUPED-adjusted,
  and the always-valid confidence sequence. At seed 11: 0.935 / 0.940 plain, 0.955 /
  0.950 CUPED, 1.000 / 1.000 sequential (items completed / enrollments); the sequences
  are conservative by design, valid at every look.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DbtRunner
from experiments_scenarios import ExperimentSpec, build_scenario, scenario_project, write_raw_duckdb

pytestmark = pytest.mark.slow

N_AA, N_PLANTED, UNITS, TRUE_LIFT = 400, 200, 80, 0.2


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> pd.DataFrame:
    specs = [
        ExperimentSpec(f"aa_{i:03d}", {"control": 0.5, "treatment": 0.5}, UNITS)
        for i in range(N_AA)
    ] + [
        ExperimentSpec(
            f"planted_{i:03d}",
            {"control": 0.5, "treatment": 0.5},
            UNITS,
            effects={"treatment": 1 + TRUE_LIFT},
        )
        for i in range(N_PLANTED)
    ]
    scenario = build_scenario(specs, seed=11)
    root = tmp_path_factory.mktemp("validity")
    project = scenario_project(root / "project", scenario.experiments, scenario.variants)
    path = root / "warehouse.duckdb"
    write_raw_duckdb(path, scenario.tables)
    runner = DbtRunner({"DATAPRODUCTS_DUCKDB": str(path)}, "dev", root / "target", project)
    runner.run("build", "--select", "+experiment_results", "--indirect-selection", "cautious")
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select * from marts.experiment_results").df()


@pytest.mark.parametrize(
    "metric_id",
    ["items_completed", "course_completion", "course_completion_to_date", "enrollments"],
)
@pytest.mark.parametrize("column", ["p_value", "cuped_p_value"])
def test_aa_false_positive_rate(results, metric_id, column):
    aa = results[results.experiment_id.str.startswith("aa_") & (results.metric_id == metric_id)]
    assert len(aa) == N_AA and aa[column].notna().all()
    rate = float((aa[column] < 0.05).mean())
    print(f"A/A false-positive rate of {metric_id} {column}: {rate:.3f}")
    assert 0.02 <= rate <= 0.09


@pytest.mark.parametrize("metric_id", ["items_completed", "enrollments"])
@pytest.mark.parametrize("prefix", ["", "cuped_", "sequential_"])
def test_planted_lift_coverage(results, metric_id, prefix):
    planted = results[
        results.experiment_id.str.startswith("planted_") & (results.metric_id == metric_id)
    ]
    assert len(planted) == N_PLANTED
    lo, hi = planted[f"{prefix}relative_lift_ci_lower"], planted[f"{prefix}relative_lift_ci_upper"]
    coverage = float(((lo <= TRUE_LIFT) & (hi >= TRUE_LIFT)).mean())
    print(f"coverage of the true lift, {metric_id} {prefix or 'plain '}CI: {coverage:.3f}")
    assert coverage >= 0.93
