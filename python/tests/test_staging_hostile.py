"""Staging under hostile raw data: one bad raw row never blocks the build nor changes a
result silently (issue 13). Each test builds staging on a small purpose-made warehouse,
on DuckDB and PostgreSQL, and checks every row's fate against values derived by hand.

- Every typed contract column arriving as text (a loader that writes strings): values
  that do not parse are quarantined as ``invalid_value_<column>`` (never a failed
  build, never a rounded or truncated value), timestamps with an offset are converted
  to UTC, and the rest is staged.
- A ``timestamp with time zone`` column is converted to UTC, whatever the session's
  time zone.
- A row stamped implausibly far in the future (``9999-12-31``), in any timestamp
  column, is quarantined as ``implausible_<column>``.
- A dropped contract column fails ``dbt build`` with the contract message, before any
  unit test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_staging import ENGINES, TABLES, _dbt, _raw_env

from dataproducts_pipeline.raw_contract import RAW_TABLES

#: The "now" of the implausibility checks in these builds (var dataproducts_staging_now).
NOW = "2026-10-01 00:00:00"


def _create(execute, types: dict[tuple[str, str], str] | None = None, text: bool = False) -> None:
    """The contract's raw tables, empty; every non-text column as ``varchar`` when
    ``text``; ``types`` overrides single columns ((table, column) → type)."""
    types = types or {}
    execute("create schema if not exists raw")
    for table in RAW_TABLES.values():
        cols = []
        for column, data_type in table.columns.items():
            if text:
                data_type = "varchar"
            data_type = types.get((table.name, column), data_type)
            cols.append(f"{column} {data_type}")
        execute(f"create table raw.{table.name} ({', '.join(cols)})")


def _insert(execute, table: str, rows: list[dict[str, str | None]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        values = ", ".join(
            "null" if v is None else "'" + v.replace("'", "''") + "'" for v in row.values()
        )
        execute(f"insert into raw.{table} ({columns}) values ({values})")


def _build_staging(engine: str, env: dict, tmp_path: Path, check: bool = True):
    dbt = _dbt(engine, env, tmp_path)
    dbt.run("seed")
    proc = dbt.run(
        "build",
        "--select", "path:models/staging", "path:tests/staging",
        "--indirect-selection", "buildable",
        "--vars", f"{{dataproducts_staging_now: '{NOW}'}}",
        check=check,
    )  # fmt: skip
    return dbt, proc


def _query(engine: str, env: dict, sql: str) -> list[tuple]:
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect(env["DATAPRODUCTS_DUCKDB"], read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    import psycopg2

    dsn = " ".join(
        f"{k}={env[v]}"
        for k, v in {
            "host": "DATAPRODUCTS_PG_HOST",
            "port": "DATAPRODUCTS_PG_PORT",
            "user": "DATAPRODUCTS_PG_USER",
            "dbname": "DATAPRODUCTS_PG_DATABASE",
        }.items()
        if v in env
    )
    con = psycopg2.connect(dsn)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def _fates(engine: str, env: dict, table: str, key: str) -> dict[str, str]:
    """raw key → 'staged' or the quarantine reason (or 'superseded')."""
    rows = _query(
        engine,
        env,
        f"select _raw_key, coalesce(_quarantine_reason, _fate) from staging.base_raw__{table}",
    )
    return {k: v for k, v in rows}


def _assert_all_passed(dbt) -> None:
    results = dbt.run_results()["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    bad = {
        k: v
        for k, v in statuses.items()
        if v not in ("success", "pass")
        and not k.startswith("test.dataproducts.source_not_null_raw_")
    }
    assert not bad, bad
    reconciliations = [k for k in statuses if "source_row_count_reconciles_raw_" in k]
    assert len(reconciliations) == len(TABLES)


# --- parents every event below refers to (valid whatever the column types) ------------

LEARNER = {
    "learner_id": "1",
    "first_name": "Ana",
    "signed_up_at": "2026-08-01 10:00:00",
    "_loaded_at": "2026-08-01 10:05:00",
}
COURSE = {
    "course_id": "10",
    "title": "Statistics",
    "difficulty": "beginner",
    "is_published": "true",
    "launched_at": "2026-01-01 00:00:00",
    "_loaded_at": "2026-01-01 00:05:00",
}
ITEM = {
    "item_id": "100",
    "course_id": "10",
    "module_number": "1",
    "position": "1",
    "item_type": "quiz",
    "title": "Quiz 1",
    "passing_score": "70",
    "_loaded_at": "2026-01-01 00:05:00",
}


def _event(event_id: str, **overrides: str | None) -> dict[str, str | None]:
    row = {
        "event_id": event_id,
        "learner_id": "1",
        "course_id": "10",
        "item_id": "100",
        "event_type": "quiz_submit",
        "score": "80",
        "occurred_at": "2026-09-30 14:21:06",
        "_loaded_at": "2026-09-30 16:00:00",
    }
    row.update(overrides)
    return row


# (event, expected fate, expected staged occurred_at in UTC or None). The UTC values are
# derived by hand: local time minus the offset (14:21:06+05:00 → 09:21:06).
EVENTS_AS_TEXT = [
    (_event("1", occurred_at="2026-09-30 14:21:06+05:00"), "staged", "2026-09-30 09:21:06"),
    (_event("2", occurred_at="2026-09-30T14:21:06Z"), "staged", "2026-09-30 14:21:06"),
    (
        _event("3", occurred_at="2026-09-30 14:21:06-0330", _loaded_at="2026-09-30 18:00:00"),
        "staged",
        "2026-09-30 17:51:06",
    ),
    (_event("4", occurred_at="2026-09-30 14:21:06+05"), "staged", "2026-09-30 09:21:06"),
    (_event("5", occurred_at="2026-09-30 14:21:06.5"), "staged", "2026-09-30 14:21:06.500000"),
    # crosses midnight backwards: 2026-10-01 01:30 at +05:00 is 2026-09-30 20:30 UTC
    (
        _event(
            "6", occurred_at="2026-10-01 01:30:00+05:00", _loaded_at="2026-10-01 02:00:00+05:00"
        ),
        "staged",
        "2026-09-30 20:30:00",
    ),
    (_event("7", event_type="course_view", item_id="", score=""), "staged", "2026-09-30 14:21:06"),
    (_event("8", learner_id="1.0"), "staged", "2026-09-30 14:21:06"),
    (_event("x1"), "invalid_value_event_id", None),
    (_event("20", score="abc"), "invalid_value_score", None),
    (_event("21", score="1e400"), "invalid_value_score", None),
    (_event("22", score="NaN"), "invalid_value_score", None),
    (_event("23", learner_id="1.5"), "invalid_value_learner_id", None),
    (_event("24", item_id="99999999999999999999"), "invalid_value_item_id", None),
    (_event("25", occurred_at="2026-02-30 10:00:00"), "invalid_value_occurred_at", None),
    (_event("26", occurred_at="2026-09-30 25:00:00"), "invalid_value_occurred_at", None),
    (_event("27", occurred_at="30/09/2026 14:21"), "invalid_value_occurred_at", None),
    (_event("28", occurred_at="2026-09-30 14:21:06+25:00"), "invalid_value_occurred_at", None),
    (_event("29", _loaded_at="yesterday"), "invalid_value__loaded_at", None),
    # the value checks come before the other rules: "abc" is not a missing score
    (_event("30", score="abc", event_type="bogus"), "invalid_value_score", None),
    (
        _event("40", occurred_at="9999-12-31 00:00:00", _loaded_at="9999-12-31 00:00:00"),
        "implausible_occurred_at",
        None,
    ),
    (_event("41", _loaded_at="9999-12-31 00:00:00"), "implausible__loaded_at", None),
    # an offset cannot hide a future row: 2026-10-02 20:00-05:00 is 10-03 01:00 UTC,
    # later than NOW + 1 day
    (
        _event(
            "42", occurred_at="2026-10-02 20:00:00-05:00", _loaded_at="2026-10-02 20:00:00-05:00"
        ),
        "implausible_occurred_at",
        None,
    ),
    # ...and 2026-10-02 04:00+05:00 is 10-01 23:00 UTC: within a day, staged
    (
        _event(
            "43", occurred_at="2026-10-02 04:00:00+05:00", _loaded_at="2026-10-02 04:00:00+05:00"
        ),
        "staged",
        "2026-10-01 23:00:00",
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_values_as_text_are_parsed_strictly_and_offsets_honoured(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env, execute = _raw_env(engine, tmp_path, request)
    _create(execute, text=True)
    _insert(execute, "learners", [LEARNER])
    _insert(
        execute,
        "courses",
        [
            COURSE,
            {**COURSE, "course_id": "11", "is_published": "maybe"},
            {**COURSE, "course_id": "12", "is_published": "F", "launched_at": "2026-01-01"},
        ],
    )
    _insert(
        execute,
        "course_items",
        [
            ITEM,
            {**ITEM, "item_id": "101", "module_number": "3000000000"},
            {**ITEM, "item_id": "102", "position": "2", "passing_score": "70.5e0"},
        ],
    )
    _insert(execute, "events", [row for row, _, _ in EVENTS_AS_TEXT])
    goal = {
        "goal_id": "1",
        "learner_id": "1",
        "course_id": "10",
        "goal_text": "Finish",
        "target_date": "2028-02-29",
        "created_at": "2026-09-01 00:00:00",
        "_loaded_at": "2026-09-01 00:00:00",
    }
    _insert(
        execute,
        "learner_goals",
        [
            goal,
            {**goal, "goal_id": "2", "target_date": "2027-02-29"},
            {**goal, "goal_id": "3", "target_date": "9999-12-31"},
            {**goal, "goal_id": "4", "target_date": "2027-06-30 00:00:00"},
        ],
    )

    dbt, _ = _build_staging(engine, env, tmp_path)
    _assert_all_passed(dbt)

    fates = _fates(engine, env, "events", "event_id")
    # a key that does not parse has no key in staging (_raw_key null)
    keys = {row["event_id"]: _key(row["event_id"]) for row, _, _ in EVENTS_AS_TEXT}
    assert fates == {keys[row["event_id"]]: fate for row, fate, _ in EVENTS_AS_TEXT}
    staged = dict(
        _query(
            engine,
            env,
            "select cast(event_id as varchar), cast(occurred_at as varchar) from staging.stg_raw__events",
        )
    )
    expected = {row["event_id"]: utc for row, fate, utc in EVENTS_AS_TEXT if fate == "staged"}
    assert {k: _ts(v) for k, v in staged.items()} == {k: _ts(v) for k, v in expected.items()}
    # the typed values, not their text: 80 is a double, 1.0 the learner 1
    (score, learner) = _query(
        engine, env, "select score, learner_id from staging.stg_raw__events where event_id = 8"
    )[0]
    assert (score, learner) == (80.0, 1)

    assert _fates(engine, env, "courses", "course_id") == {
        "10": "staged",
        "11": "invalid_value_is_published",
        "12": "staged",
    }
    published = dict(
        _query(engine, env, "select course_id, is_published from staging.stg_raw__courses")
    )
    assert published == {10: True, 12: False}
    assert _fates(engine, env, "course_items", "item_id") == {
        "100": "staged",
        "101": "invalid_value_module_number",  # beyond the range of integer
        "102": "staged",
    }
    assert _fates(engine, env, "learner_goals", "goal_id") == {
        "1": "staged",  # 2028 is a leap year
        "2": "invalid_value_target_date",  # 2027 is not
        "3": "implausible_target_date",
        "4": "invalid_value_target_date",  # a date, not a timestamp
    }
    # the quarantine names every quarantined row with its reason
    quarantined = _query(
        engine,
        env,
        "select source_table, raw_key, reason from staging.stg_raw__quarantine",
    )
    expected_q = {("events", keys[r["event_id"]], f) for r, f, _ in EVENTS_AS_TEXT if f != "staged"}
    assert {q for q in quarantined if q[0] == "events"} == expected_q


def _key(text: str) -> str | None:
    return text if text.isdigit() else None


def _ts(text: str) -> str:
    """A timestamp's text without the trailing zeros of its fraction (engines differ)."""
    text = str(text)
    return re.sub(r"\.?0+$", "", text) if "." in text else text


@pytest.mark.parametrize("engine", ENGINES)
def test_timestamptz_columns_are_converted_to_utc(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env, execute = _raw_env(engine, tmp_path, request)
    tz = "timestamp with time zone"
    _create(
        execute,
        types={("events", "occurred_at"): tz, ("events", "_loaded_at"): tz},
    )
    execute(
        "insert into raw.learners values (1, 'Ana', null, null, null,"
        " '2026-08-01 10:00:00', '2026-08-01 10:05:00'),"
        # typed timestamps (the example): stamped 9999-12-31 when it happened
        # and when it was loaded, so future_timestamp cannot see it
        " (2, 'Bo', null, null, null, '9999-12-31 00:00:00', '9999-12-31 00:00:00')"
    )
    execute(
        "insert into raw.courses values (10, 'Statistics', null, null, 'beginner', null, null,"
        " true, '2026-01-01 00:00:00', '2026-01-01 00:05:00')"
    )
    # The session time zone must not matter: an engine converting in it would be off.
    set_tz = "set timezone = 'America/New_York'; " if engine == "postgres" else ""
    execute(
        set_tz + "insert into raw.events values"
        " (1, 1, 10, null, 'enroll', null,"
        " cast('2026-09-30 14:21:06+05:00' as timestamp with time zone),"
        " cast('2026-09-30 15:00:00+05:00' as timestamp with time zone)),"
        " (2, 1, 10, null, 'enroll', null,"
        " cast('9999-12-31 00:00:00+00:00' as timestamp with time zone),"
        " cast('9999-12-31 00:00:00+00:00' as timestamp with time zone))"
    )
    dbt, _ = _build_staging(engine, env, tmp_path)
    _assert_all_passed(dbt)
    assert _fates(engine, env, "events", "event_id") == {
        "1": "staged",
        "2": "implausible_occurred_at",
    }
    assert _fates(engine, env, "learners", "learner_id") == {
        "1": "staged",
        "2": "implausible_signed_up_at",
    }
    (row,) = _query(
        engine,
        env,
        "select cast(occurred_at as varchar), cast(_loaded_at as varchar) from staging.stg_raw__events",
    )
    assert row == ("2026-09-30 09:21:06", "2026-09-30 10:00:00")


@pytest.mark.parametrize("engine", ENGINES)
def test_dropped_contract_column_fails_dbt_build_with_the_contract_message(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env, execute = _raw_env(engine, tmp_path, request)
    _create(execute)
    execute("alter table raw.events drop column score")
    dbt = _dbt(engine, env, tmp_path)
    proc = dbt.run("build", check=False)
    assert proc.returncode != 0
    assert "raw.events is missing contract column 'score'" in proc.stdout, proc.stdout[-3000:]
    assert "unit test fixture" not in proc.stdout
