"""Our generic data tests (``macros/tests``) can fail, and fail on exactly the rows they should.

``tests/generic_tests_project`` is a tiny dbt project that attaches every generic test to
``good_*`` relations (where it must pass) and ``bad_*`` relations (where it must fail).
It is built once per engine; this module reads ``run_results.json`` and checks each test's
status and failing-row count against ``EXPECTED``, whose counts are derived by hand below
from the rows written in ``tests/generic_tests_project/models/*.sql`` (not computed by the
macros under test). A second, DuckDB-only group checks that a misused test stops the
parse with a message that says what to write instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dataproducts_pipeline.test_failures import failing_rows

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "tests" / "generic_tests_project"
MACROS = REPO / "macros" / "tests"
DBT = Path(sys.executable).parent / "dbt"

PASS = "pass"
FAIL = "fail"
WARN = "warn"

#: test name -> (status, failing rows). Derivations from the fixture rows:
EXPECTED: dict[str, tuple[str, int]] = {
    # --- expression_is_true -------------------------------------------------------------
    # good_orders (id, amount, discount) = (1,10,0) (2,20,5) (3,5,5): 0<=10, 5<=20, 5<=5.
    "expr_good_orders_discount_le_amount": (PASS, 0),
    "expr_good_orders_amount_nonneg": (PASS, 0),
    # bad_orders = (1,10,0) (2,20,25) (3,-5,0) (4,7,9) (5,null,1):
    # discount <= amount is false for id 2 (25>20), id 3 (0>-5), id 4 (9>7) -> 3;
    # id 5 is null (unknown), which is not a failure.
    "expr_bad_orders_discount_le_amount": (FAIL, 3),
    # the same test with severity warn: same 3 rows, status warn.
    "expr_bad_orders_discount_le_amount_warn": (WARN, 3),
    # amount >= 0 is false only for id 3 (-5) -> 1.
    "expr_bad_orders_amount_nonneg": (FAIL, 1),
    # config where "id <> 3" removes the only failing row -> pass.
    "expr_bad_orders_amount_nonneg_where": (PASS, 0),
    # --- contract_not_null ----------------------------------------------------------------
    # id and amount declare not_null constraints (no contract: not enforced by the engine).
    # good_orders: no nulls. bad_orders: amount is null for id 5 -> 1.
    "cnn_good_orders": (PASS, 0),
    "cnn_bad_orders": (FAIL, 1),
    # --- accepted_range -----------------------------------------------------------------
    # good_scores = 0, 50, 100, null: all in [0,100], all in (-1,101), all >= 0.
    "range_good_scores_0_100": (PASS, 0),
    "range_good_scores_exclusive": (PASS, 0),
    "range_good_scores_min_only": (PASS, 0),
    # bad_scores = -1, 0, 50, 100, 101, null (ids 1..6):
    # [0,100] rejects -1 and 101 -> 2; (0,100) also rejects 0 and 100 -> 4;
    # >= 0 rejects -1 -> 1; <= 100 rejects 101 -> 1; nulls never fail.
    "range_bad_scores_0_100": (FAIL, 2),
    "range_bad_scores_exclusive": (FAIL, 4),
    "range_bad_scores_min_only": (FAIL, 1),
    "range_bad_scores_max_only": (FAIL, 1),
    # config where "id not in (1, 5)" drops -1 and 101 -> pass.
    "range_bad_scores_where": (PASS, 0),
    # --- unique_combination_of_columns ----------------------------------------------------
    # good_assignments: (1,e1) (1,e2) (2,e1), each once.
    "ucc_good_assignments": (PASS, 0),
    # bad_assignments: (1,e1) x2, (1,e2) x1, (2,e1) x3, (3,e3) x1 -> 2 duplicated pairs;
    # with variant: (2,e1,control) x2 is the only duplicated triple -> 1.
    "ucc_bad_assignments": (FAIL, 2),
    "ucc_bad_assignments_three_cols": (FAIL, 1),
    # --- recency ------------------------------------------------------------------------
    # good_events: newest 2026-10-31 12:00. Reference 2026-11-01 00:00:
    # 1 day -> threshold 10-31 00:00 <= 12:00; 12 hours -> threshold 10-31 12:00, equal
    # (the boundary passes); reference from recency_anchor (2026-11-01 00:00), 1 day.
    "recency_good_events_1_day": (PASS, 0),
    "recency_good_events_12_hour": (PASS, 0),
    "recency_good_events_anchor": (PASS, 0),
    # good_fresh_loads: loaded_at = the database clock at build time, seconds before the
    # test; default reference (now) minus 1 hour is earlier.
    "recency_good_fresh_loads_default_reference": (PASS, 0),
    # bad_events: newest 2026-10-30 23:59:59 < 10-31 00:00 (1 day) and < 10-31 12:00
    # (12 hours); against the database clock (later than 2026-10-31) it is older too.
    # The test returns one row (most_recent, threshold).
    "recency_bad_events_1_day": (FAIL, 1),
    "recency_bad_events_12_hour": (FAIL, 1),
    "recency_bad_events_default_reference": (FAIL, 1),
    # bad_empty_events has no row: max() is null -> one failing row.
    "recency_bad_empty_events": (FAIL, 1),
    # --- row_count_reconciles -------------------------------------------------------------
    # fixture_raw.good_raw_events has 6 rows = recon_staged 3 + recon_superseded 1 +
    # recon_quarantine where source_table = 'events' 2 (its 'learners' row excluded).
    "recon_good_raw_events": (PASS, 0),
    # bad_raw_events has 7 rows != 6 -> one row (model_count 7, parts_count 6).
    "recon_bad_raw_events": (FAIL, 1),
    # config where "raw_id <> 7" leaves 6 rows = 6 -> pass.
    "recon_bad_raw_events_where": (PASS, 0),
    # good_events_total has 6 rows = good_raw_events 6 (source as "source(...)" and as
    # the shorthand fixture_raw.good_raw_events); mixed: recon_staged 3 (as a rendered
    # relation) + recon_superseded 1 + good_raw_events where raw_id > 4 (5, 6) 2 = 6.
    "recon_good_events_total_source": (PASS, 0),
    "recon_good_events_total_source_shorthand": (PASS, 0),
    "recon_good_events_total_mixed": (PASS, 0),
    # bad_events_total has 5 rows != 6 -> one row.
    "recon_bad_events_total_source": (FAIL, 1),
    # --- ranks_contiguous ---------------------------------------------------------------
    # good_ranks: learner 1 -> {2,1,3}, learner 2 -> {1}, learner 3 -> {1,2}: all 1..n.
    "ranks_good_by_learner": (PASS, 0),
    "ranks_good_by_list": (PASS, 0),
    # good_ranks_global: {3,1,4,2} = 1..4.
    "ranks_good_global": (PASS, 0),
    # bad_ranks: learner 1 {1,2,4} gap, 2 {1,1,2} tie, 3 {2,3} starts at 2, 5 {1,null}
    # null, 7 {1,2,2,4} tie with min 1 and max n = 4; learners 4 {1,2} and 6 {2,1} are
    # fine -> 5 broken partitions.
    "ranks_bad_by_learner": (FAIL, 5),
    # whole model as one partition (18 rows, ranks nowhere near 1..18) -> 1 row.
    "ranks_bad_global": (FAIL, 1),
    # config where "learner_id in (4, 6)" keeps only the fine partitions -> pass.
    "ranks_bad_by_learner_where": (PASS, 0),
    # --- is_finite ----------------------------------------------------------------------
    # good_metrics: 0.5, -3, 1e300, null.
    "finite_good_metrics": (PASS, 0),
    # bad_metrics: 1.0, NaN, Infinity, -Infinity, null -> 3.
    "finite_bad_metrics": (FAIL, 3),
    # --- array_entries ------------------------------------------------------------------
    # good_vectors: [0.5, -3], [1e300, 0], null: two finite entries each.
    "vectors_good_size_2": (PASS, 0),
    # bad_vectors: 1 [1, 2] fine; 2 [NaN, 1], 3 [Infinity, 1] not finite; 4 [1, 2, 3]
    # has three entries; 5 [-Infinity] neither; 6 null skipped -> ids 2, 3, 4, 5 = 4.
    "vectors_bad_size_2": (FAIL, 4),
    # without a size only finiteness counts -> ids 2, 3, 5 = 3.
    "vectors_bad_finite_only": (FAIL, 3),
    # --- no_unrendered_tokens -----------------------------------------------------------
    # good_messages: 'Hi Ana, keep going!', 'Week 3: 80% done', null: no brace, no quote.
    "tokens_good_messages": (PASS, 0),
    "tokens_good_messages_quote": (PASS, 0),
    # bad_messages: 1 'Hi {first_name}!', 2 'Hi {{ first_name }}, finish {{ course_title }}',
    # 3 'Done}', 4 'All good', 5 null, 6 'It''s done'.
    # braces: ids 1, 2, 3 -> 3; token first_name: ids 1, 2 -> 2; token "'": id 6 -> 1.
    "tokens_bad_messages": (FAIL, 3),
    "tokens_bad_messages_custom": (FAIL, 2),
    "tokens_bad_messages_quote": (FAIL, 1),
    # --- is_identifier ------------------------------------------------------------------
    # good_identifiers: exp_completion_nudge, control, a1_b2, null.
    "ident_good_identifiers": (PASS, 0),
    # bad_identifiers: 'Exp_a', ' control', 'treat ment', '1abc', 'a-b', 'zoë', 'a<U+200B>b',
    # '' and 65 x's fail (ids 1-7, 10, 11) -> 9; 'ok_id' passes, null is not a failure.
    "ident_bad_identifiers": (FAIL, 9),
    # max_length 4: the same 9 and 'ok_id' (5 characters) -> 10.
    "ident_bad_identifiers_short": (FAIL, 10),
    # --- dbt's not_null / accepted_values / relationships (macros/tests/core_tests.sql) ---
    # good_children: ids 1-3 set; statuses on/off; parent keys a, b and a null.
    "core_not_null_good_children": (PASS, 0),
    "core_accepted_values_good_children": (PASS, 0),
    "core_relationships_good_children": (PASS, 0),
    # bad_children: one null id -> 1; statuses 'ON' (ids 2, 5) and 'maybe' (id 3) -> 3 rows
    # (dbt's own test would count 2 distinct values); parent keys 'zzz' (id 3) and 'yyy'
    # (id 5) have no parent -> 2.
    "core_not_null_bad_children": (FAIL, 1),
    "core_accepted_values_bad_children": (FAIL, 3),
    "core_relationships_bad_children": (FAIL, 2),
}

#: Failing tests whose listing must name these rows (the key column as `name=value`).
NAMED_ROWS: dict[str, list[str]] = {
    "core_not_null_bad_children": ["id=null, status=off, parent_key=a"],
    "core_accepted_values_bad_children": ["id=2,", "id=3,", "id=5,"],
    "core_relationships_bad_children": ["id=3,", "id=5,"],
    "ident_bad_identifiers": ["name=Exp_a", "name=treat ment", "name=1abc"],
    "expr_bad_orders_discount_le_amount": ["id=2,", "id=3,", "id=4,"],
    "ucc_bad_assignments": ["experiment_id=e1"],
}

#: Every test macro must be proven on at least one good and one bad relation.
MACRO_NAMES = {
    "contract_not_null",
    "expression_is_true",
    "accepted_range",
    "unique_combination_of_columns",
    "recency",
    "row_count_reconciles",
    "ranks_contiguous",
    "is_finite",
    "array_entries",
    "no_unrendered_tokens",
    "is_identifier",
    # dbt's built-in tests, replaced in macros/tests/core_tests.sql
    "not_null",
    "accepted_values",
    "relationships",
}

# Variables of the developer's shell must not leak into the builds.
_ISOLATE = ("DATAPRODUCTS_", "DBT_", "GENERIC_TESTS_")


def _dbt(
    args: list[str], project: Path, target: str, target_path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATE)}
    full_env.update(env)
    full_env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    cmd = [
        str(DBT),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target",
        target,
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, cwd=project)


@dataclass(frozen=True)
class Outcome:
    name: str
    macro: str
    relation: str
    status: str
    failures: int | None
    #: the failing-row listing the project's test materialization stored, or None
    listing: str | None


def _relation_of(kwargs: dict[str, Any]) -> str:
    """The tested model or source table, from the test's ``model`` kwarg."""
    rendered = kwargs["model"]
    found = re.search(r"ref\('(\w+)'\)", rendered) or re.search(
        r"source\('\w+',\s*'(\w+)'\)", rendered
    )
    assert found, f"cannot tell the tested relation from {rendered!r}"
    return found.group(1)


def _build(engine_env: dict[str, str], target: str, target_path: Path) -> list[Outcome]:
    proc = _dbt(["build"], PROJECT, target, target_path, engine_env)
    # dbt exits 1 because the bad_* tests fail (that is the point); anything else is a crash.
    assert proc.returncode in (0, 1), proc.stdout[-5000:] + proc.stderr[-2000:]
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    nodes = json.loads((target_path / "manifest.json").read_text())["nodes"]

    not_built = [
        (r["unique_id"], r["status"], r["message"])
        for r in results
        if not r["unique_id"].startswith("test.") and r["status"] != "success"
    ]
    assert not not_built, f"fixture models or hooks did not build: {not_built}"

    outcomes = []
    for r in results:
        if not r["unique_id"].startswith("test."):
            continue
        node = nodes[r["unique_id"]]
        meta = node["test_metadata"]
        outcomes.append(
            Outcome(
                name=node["name"],
                macro=meta["name"],
                relation=_relation_of(meta["kwargs"]),
                status=r["status"],
                failures=r["failures"],
                listing=failing_rows(r),
            )
        )
    return outcomes


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> list[Outcome]:
    root = tmp_path_factory.mktemp(f"generic_tests_{request.param}")
    env = {"GENERIC_TESTS_SCHEMA": "generic_tests"}
    if request.param == "duckdb":
        env["GENERIC_TESTS_DUCKDB"] = str(root / "generic_tests.duckdb")
    else:
        server = request.getfixturevalue("postgres_server")
        env.update(server.create_database("generic_tests"))
    return _build(env, request.param, root / "target")


def test_every_expected_test_ran(outcomes: list[Outcome]) -> None:
    ran = {o.name for o in outcomes}
    assert ran == set(EXPECTED), {
        "ran but no expectation": sorted(ran - set(EXPECTED)),
        "expected but did not run": sorted(set(EXPECTED) - ran),
    }


def test_status_and_failing_rows(outcomes: list[Outcome]) -> None:
    wrong = {
        o.name: {"got": (o.status, o.failures), "expected": EXPECTED[o.name]}
        for o in outcomes
        if o.name in EXPECTED and (o.status, o.failures) != EXPECTED[o.name]
    }
    assert not wrong, wrong


def test_good_relations_pass_and_bad_relations_fail(outcomes: list[Outcome]) -> None:
    """The naming rule, checked on what dbt reports: every test on a good_* relation
    passes; every test on a bad_* relation fails, except those whose config changes the
    outcome on purpose (*_warn: severity warn; *_where: a where config drops the bad rows)."""
    for o in outcomes:
        if o.relation.startswith("good_"):
            assert o.status == PASS, o
        elif o.relation.startswith("bad_"):
            if o.name.endswith("_warn"):
                assert o.status == WARN and o.failures, o
            elif o.name.endswith("_where"):
                assert o.status == PASS, o
            else:
                assert o.status == FAIL and o.failures, o
        else:
            pytest.fail(f"{o.name} is attached to {o.relation}, neither good_* nor bad_*")


def test_every_macro_is_proven_both_ways(outcomes: list[Outcome]) -> None:
    passing = {o.macro for o in outcomes if o.relation.startswith("good_") and o.status == PASS}
    failing = {o.macro for o in outcomes if o.relation.startswith("bad_") and o.status == FAIL}
    assert passing == MACRO_NAMES, sorted(MACRO_NAMES - passing)
    assert failing == MACRO_NAMES, sorted(MACRO_NAMES - failing)


def test_failures_name_their_rows(outcomes: list[Outcome]) -> None:
    """dbt only says "Got N results": every failing (or warning) test also lists its first
    rows (macros/tests/test_materialization.sql), "(first n of N)" with n = min(5, N);
    a passing test lists nothing."""
    for o in outcomes:
        if o.status == PASS:
            assert o.listing is None, o
            continue
        shown = min(5, o.failures or 0)
        assert o.listing and o.listing.startswith(
            f"failing rows (first {shown} of {o.failures}): ["
        ), o
    by_name = {o.name: o for o in outcomes}
    for name, fragments in NAMED_ROWS.items():
        listing = by_name[name].listing or ""
        missing = [f for f in fragments if f not in listing]
        assert not missing, (name, missing, listing)


# --- misuse: a wrongly configured test stops the parse with a message saying what to do ---

MISUSE = {
    "accepted_range_without_bounds": (
        "columns: [{name: score, data_tests: [{accepted_range: {arguments: {inclusive: true}}}]}]",
        "give min_value, max_value or both",
    ),
    "unique_combination_of_no_columns": (
        "data_tests: [{unique_combination_of_columns: {arguments: {combination_of_columns: []}}}]",
        "combination_of_columns must list at least one column",
    ),
    "row_count_part_with_two_relations": (
        "data_tests: [{row_count_reconciles: {arguments: {parts: "
        "[{model: misuse_target, source: raw.events}]}}}]",
        "a part needs exactly one of model, source, relation",
    ),
    "row_count_source_without_dot": (
        "data_tests: [{row_count_reconciles: {arguments: {parts: [{source: events}]}}}]",
        "must be written <source_name>.<table_name>",
    ),
}


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misused_test_fails_parse_with_clear_message(case: str, tmp_path: Path) -> None:
    yaml_tests, message = MISUSE[case]
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(PROJECT / "profiles.yml", project / "profiles.yml")
    (project / "dbt_project.yml").write_text(
        "name: misuse\nconfig-version: 2\nprofile: generic_tests\n"
        f'model-paths: ["models"]\nmacro-paths: ["{MACROS}"]\n'
        "flags: {require_generic_test_arguments_property: true}\n"
    )
    (project / "models" / "misuse_target.sql").write_text("select 1 as id, 5 as score\n")
    (project / "models" / "_misuse.yml").write_text(
        f"models:\n  - name: misuse_target\n    {yaml_tests}\n"
    )
    proc = _dbt(
        ["parse", "--no-partial-parse"],
        project,
        "duckdb",
        tmp_path / "target",
        {"GENERIC_TESTS_DUCKDB": str(tmp_path / "misuse.duckdb")},
    )
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert message in proc.stdout, proc.stdout[-3000:]
