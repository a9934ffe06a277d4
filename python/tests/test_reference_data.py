"""The reference data (seeds of the experiment registry and the coaching catalog) is
validated by dbt tests that fail the build, and every failure names the offending row.

A copy of the project gets a copy of the seeds with one bad row per rule (``BAD``), and
``dbt build --select path:seeds --indirect-selection cautious`` loads the seeds and runs
their tests (nothing else: no raw data needed). For each rule the test asserts that the
named dbt test failed and that the failure names the offending row's key:

- in ``run_results.json`` (the message the project's test materialization stores);
- in the ``dbt build`` output (one "<test>: failing rows ..." line before dbt's FAIL);
- in the report of ``dataproducts build`` (``build.dbt_failures``).

The unmodified seeds pass the same tests (so none of them fails whatever the data), and
every case has its own row and its own key, so that a case cannot pass on another's
failure. On DuckDB, and on PostgreSQL (marked ``postgres``).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dataproducts_pipeline.build import dbt_failures

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
_ISOLATE = ("DATAPRODUCTS_", "DBT_")

Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Case:
    """One bad row: which seed, how it is broken, which test must fail, which key it names."""

    seed: str  # path under seeds/
    edit: Callable[[Rows], None]
    test: str  # dbt test name that must fail (a prefix for generated names)
    key: str  # the offending row's key, which the failure must name


def _row(rows: Rows, **match: str) -> dict[str, str]:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def _set(**changes: str) -> Callable[..., Callable[[Rows], None]]:
    def on(**match: str) -> Callable[[Rows], None]:
        def edit(rows: Rows) -> None:
            _row(rows, **match).update(changes)

        return edit

    return on


def _drop(**match: str) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        rows.remove(_row(rows, **match))

    return edit


def _add(**row: str) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        rows.append({k: row.get(k, "") for k in rows[0]})

    return edit


EXP = "experiments/experiments.csv"
VAR = "experiments/experiment_variants.csv"
MET = "experiments/metric_definitions.csv"
MSG = "coaching/coaching_messages.csv"
SEG = "coaching/coaching_segments.csv"
TOK = "coaching/coaching_tokens.csv"

#: name -> case. Each breaks a different row (its key is unique to the case).
BAD: dict[str, Case] = {
    # the example: end_at before start_at
    "window_inverted": Case(
        EXP,
        _set(start_at="2026-10-20 00:00:00", end_at="2026-09-01 00:00:00")(
            experiment_id="exp_srm_checkout"
        ),
        "experiments_start_at_before_end_at",
        "exp_srm_checkout",
    ),
    "salt_padded": Case(
        EXP,
        _set(salt="aa-homepage-v1 ")(experiment_id="exp_aa_homepage"),
        "experiments_salt_not_blank_nor_padded",
        "exp_aa_homepage",
    ),
    "status_unknown": Case(
        EXP,
        _set(status="Running")(experiment_id="exp_syllabus_layout"),
        "accepted_values_experiments_status",
        "exp_syllabus_layout",
    ),
    "primary_metric_unknown": Case(
        EXP,
        _set(primary_metric="course_complete")(experiment_id="exp_completion_nudge"),
        "relationships_experiments_primary_metric",
        "exp_completion_nudge",
    ),
    "experiment_id_malformed": Case(
        EXP,
        _add(
            experiment_id="Exp Pricing",
            name="Pricing",
            salt="pricing-v1",
            start_at="2026-09-01 00:00:00",
            end_at="2026-10-01 00:00:00",
            status="draft",
            primary_metric="enrollments",
        ),
        "is_identifier_experiments_experiment_id",
        "Exp Pricing",
    ),
    # exp_syllabus_layout: 0.5 + 0.25 + 0.3 = 1.05
    "weights_do_not_sum_to_one": Case(
        VAR,
        _set(weight="0.3")(experiment_id="exp_syllabus_layout", variant="modular"),
        "assert_experiment_variant_weights_sum_to_one",
        "exp_syllabus_layout",
    ),
    "two_controls": Case(
        VAR,
        _set(is_control="true")(experiment_id="exp_completion_nudge", variant="treatment"),
        "assert_experiment_has_one_control",
        "exp_completion_nudge",
    ),
    "variant_unknown_experiment": Case(
        VAR,
        _add(
            experiment_id="exp_ghost",
            variant="control",
            weight="1",
            is_control="true",
            allocation_order="1",
        ),
        "relationships_experiment_variants_experiment_id",
        "exp_ghost",
    ),
    "variant_name_malformed": Case(
        VAR,
        _set(variant="Treatment ")(experiment_id="exp_srm_checkout", variant="treatment"),
        "is_identifier_experiment_variants_variant",
        "Treatment",
    ),
    "metric_event_unknown": Case(
        MET,
        _set(numerator_event_type="quiz_pass")(metric_id="quiz_pass_rate"),
        "accepted_values_metric_definitions_numerator_event_type",
        "quiz_pass_rate",
    ),
    "metric_window_negative": Case(
        MET,
        _set(window_days="-28")(metric_id="unenroll_rate"),
        "accepted_range_metric_definitions_window_days",
        "unenroll_rate",
    ),
    "metric_direction_unknown": Case(
        MET,
        _set(direction="up")(metric_id="items_completed"),
        "accepted_values_metric_definitions_direction",
        "items_completed",
    ),
    "message_cooldown_zero": Case(
        MSG,
        _set(cooldown_days="0")(message_id="msg_item_tip"),
        "accepted_range_coaching_messages_cooldown_days",
        "msg_item_tip",
    ),
    "message_template_bidi_override": Case(
        MSG,
        _set(template="Nice work on {item_title}.\u202e!seY")(message_id="msg_goal_congrats"),
        "coaching_catalog_text_inert",
        "msg_goal_congrats",
    ),
    "message_unknown_token": Case(
        MSG,
        _set(template="Hi {firstname}, keep going!")(message_id="msg_inactive_tip"),
        "coaching_templates_use_known_tokens",
        "msg_inactive_tip",
    ),
    "segment_unknown_trigger": Case(
        SEG,
        _set(trigger_type="quiz_passed")(segment_id="completed_item"),
        "accepted_values_coaching_segments_trigger_type",
        "completed_item",
    ),
    "segment_window_zero": Case(
        SEG,
        _set(window_days="0")(segment_id="goal_stale"),
        "accepted_range_coaching_segments_window_days",
        "goal_stale",
    ),
    "token_missing": Case(
        TOK,
        _drop(token="days_to_target"),
        "coaching_tokens_match_renderer",
        "days_to_target",
    ),
    "segment_days_missing": Case(
        SEG,
        _set(days="")(segment_id="inactive_7_days"),
        "coaching_segments_have_required_days",
        "inactive_7_days",
    ),
    "message_variants_disagree": Case(
        MSG,
        _set(priority="3")(message_id="msg_welcome_goal", variant="b"),
        "coaching_message_variants_consistent",
        "msg_welcome_goal",
    ),
    "allocation_order_gap": Case(
        VAR,
        _set(allocation_order="3")(experiment_id="exp_aa_homepage", variant="treatment"),
        "assert_experiment_allocation_order_contiguous",
        "exp_aa_homepage",
    ),
    "cuped_lookback_zero": Case(
        MET,
        _set(cuped_lookback_days="0")(metric_id="course_completion_to_date"),
        "accepted_range_metric_definitions_cuped_lookback_days",
        "course_completion_to_date",
    ),
    "token_fallback_blank": Case(
        TOK,
        _set(fallback=" ")(token="item_title"),
        "expression_is_true_coaching_tokens_fallback",
        "item_title",
    ),
}


def _copy_project(dest: Path) -> Path:
    for name in ("dbt_project.yml", "profiles.yml", ".dbtignore"):
        shutil.copy(REPO / name, dest / name)
    for name in ("macros", "models", "seeds", "docs"):
        shutil.copytree(REPO / name, dest / name)
    shutil.copytree(
        REPO / "tests", dest / "tests", ignore=shutil.ignore_patterns("generic_tests_project")
    )
    return dest


def _edit_seeds(project: Path, cases: dict[str, Case]) -> None:
    by_seed: dict[str, list[Case]] = {}
    for case in cases.values():
        by_seed.setdefault(case.seed, []).append(case)
    for seed, seed_cases in by_seed.items():
        path = project / "seeds" / seed
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        columns = list(rows[0])
        for case in seed_cases:
            case.edit(rows)
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)


@dataclass
class SeedRun:
    returncode: int
    stdout: str
    results: dict[str, dict[str, Any]]  # test name -> run result
    report: list[str]  # dataproducts build's failure lines


def _run_seeds(project: Path, target: str, env: dict[str, str], target_path: Path) -> SeedRun:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATE)}
    full_env.update(env)
    full_env["DBT_PROFILES_DIR"] = str(project)
    full_env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    cmd = [
        str(DBT),
        "build",
        "--select",
        "path:seeds",
        "--indirect-selection",
        "cautious",
        "--project-dir",
        str(project),
        "--target",
        target,
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, cwd=project)
    assert proc.returncode in (0, 1), proc.stdout[-5000:] + proc.stderr[-2000:]
    run_results = json.loads((target_path / "run_results.json").read_text())["results"]
    results = {r["unique_id"].split(".")[2]: r for r in run_results}
    return SeedRun(proc.returncode, proc.stdout, results, dbt_failures(target_path))


def _engine_env(request: pytest.FixtureRequest, root: Path, name: str) -> tuple[str, dict]:
    if request.param == "duckdb":
        return "dev", {"DATAPRODUCTS_DUCKDB": str(root / f"{name}.duckdb")}
    server = request.getfixturevalue("postgres_server")
    return "postgres", server.create_database(f"reference_{name}")


ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=ENGINES)
def seed_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, SeedRun]:
    """The seeds and their tests, on the repository's seeds and on the bad copy."""
    root = tmp_path_factory.mktemp(f"reference_{request.param}")
    runs = {}
    for name, cases in (("good", {}), ("bad", BAD)):
        project = _copy_project(_mkdir(root / name))
        _edit_seeds(project, cases)
        target, env = _engine_env(request, root, name)
        runs[name] = _run_seeds(project, target, env, root / name / "target")
    return runs


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _result(run: SeedRun, prefix: str) -> dict[str, Any]:
    found = [r for name, r in run.results.items() if name.startswith(prefix)]
    assert len(found) == 1, (prefix, sorted(run.results))
    return found[0]


def test_the_repository_seeds_pass(seed_runs: dict[str, SeedRun]) -> None:
    good = seed_runs["good"]
    not_passing = {
        n: r["status"] for n, r in good.results.items() if r["status"] not in ("pass", "success")
    }
    assert good.returncode == 0 and not not_passing, not_passing
    # every rule of BAD is a test that ran (and passed) on the good seeds
    for case in BAD.values():
        assert _result(good, case.test)["status"] == "pass"


def test_bad_seeds_fail_the_build(seed_runs: dict[str, SeedRun]) -> None:
    assert seed_runs["bad"].returncode == 1


@pytest.mark.parametrize("case_name", sorted(BAD))
def test_failure_names_the_offending_row(seed_runs: dict[str, SeedRun], case_name: str) -> None:
    case = BAD[case_name]
    bad = seed_runs["bad"]
    result = _result(bad, case.test)
    assert result["status"] == "fail", result
    # run_results.json: the failing rows, with the key
    listing = result["adapter_response"].get("_message", "")
    assert listing.startswith("failing rows (") and case.key in listing, listing
    # the dbt build output: a line naming the test and the row
    test_name = result["unique_id"].split(".")[2]
    lines = [ln for ln in bad.stdout.splitlines() if f"{test_name}: failing rows (" in ln]
    assert lines and case.key in lines[0], bad.stdout[-3000:]
    # dataproducts build's report
    reported = [ln for ln in bad.report if result["unique_id"] in ln]
    assert reported and case.key in reported[0], bad.report
    # the same test passes on the good seeds: the failure comes from this case's row
    assert _result(seed_runs["good"], case.test)["status"] == "pass"
