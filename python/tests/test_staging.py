"""Staging (``models/staging/raw``): every raw row is staged, superseded or quarantined.

What these tests check, and against what (never against staging's own output alone):

- the quarantine reasons and superseded copies per table equal what the generator
  planted (``GenerateReport.expected_staging()``, counted by the generator as it wrote
  the bad rows), on DuckDB and PostgreSQL;
- ``count(raw) = staged + superseded + quarantined`` per table, counted here in SQL;
- each ``stg_raw__*`` view has exactly the contract's columns, in order, with the raw
  table's types (``dataproducts_pipeline.raw_contract``);
- the enum values and quarantine reasons the compiled models use equal
  ``raw_contract.ENUMS`` and the ``accepted_values`` tests of ``_raw__models.yml``;
- a raw table missing a contract column fails the build with a message naming the table
  and the column; empty raw tables (with an extra loader column) build.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Build, DbtRunner

from dataproducts_pipeline.raw_contract import ENUMS, RAW_TABLES

MODELS_YML = REPO / "models/staging/raw/_raw__models.yml"
TABLES = list(RAW_TABLES)

ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


# --- helpers -------------------------------------------------------------------------


def _models_yml() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(MODELS_YML.read_text())
    return {m["name"]: m for m in doc["models"]}


def _accepted_values(model: dict[str, Any], column: str) -> list[str]:
    (col,) = [c for c in model["columns"] if c["name"] == column]
    (test,) = [
        t for t in col.get("data_tests", []) if isinstance(t, dict) and "accepted_values" in t
    ]
    return list(test["accepted_values"]["arguments"]["values"])


def _observed_fates(build: Build) -> dict[tuple[str, str], int]:
    """(table, quarantine reason or 'superseded') → rows, from the base models."""
    union = "\nunion all\n".join(
        f"select '{t}' as source_table, _fate, _quarantine_reason from staging.base_raw__{t}"
        for t in TABLES
    )
    df = build.query(
        f"""
        select source_table, coalesce(_quarantine_reason, _fate) as outcome, count(*) as n
        from ({union}) as fates
        where _fate <> 'staged'
        group by source_table, coalesce(_quarantine_reason, _fate)
        """
    )
    return {(r.source_table, r.outcome): int(r.n) for r in df.itertuples()}


def _raw_env(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[dict, Callable]:
    """A fresh, empty warehouse for ``engine``: (env for dbt, execute(sql) function)."""
    if engine == "duckdb":
        import duckdb

        path = tmp_path / "warehouse.duckdb"

        def execute(sql: str) -> None:
            with closing(duckdb.connect(str(path))) as con:
                con.execute(sql)

        return {"DATAPRODUCTS_DUCKDB": str(path)}, execute

    import psycopg2

    server = request.getfixturevalue("postgres_server")
    name = "staging_" + re.sub(r"\W", "_", request.node.name).lower()[-40:]
    env = server.create_database(name)
    dsn = server.dsn_for(name)

    def execute(sql: str) -> None:
        with closing(psycopg2.connect(dsn)) as con, con.cursor() as cur:
            cur.execute(sql)
            con.commit()

    return env, execute


def _create_raw_tables(execute: Callable[[str], None], drop: tuple[str, str] | None = None) -> None:
    """The raw tables of the contract, empty; ``drop`` = (table, column) left out."""
    execute("create schema if not exists raw")
    for table in RAW_TABLES.values():
        ddl = table.ddl()
        if drop and drop[0] == table.name:
            ddl = re.sub(rf",?\n  {drop[1]} [^,\n]+", "", ddl, count=1)
            assert drop[1] not in ddl, ddl
        execute(ddl)


def _dbt(engine: str, env: dict, tmp_path: Path) -> DbtRunner:
    return DbtRunner(env, "dev" if engine == "duckdb" else "postgres", tmp_path / "target")


# --- on the shared builds of the tiny, dirty dataset ---------------------------------


def test_quarantine_reasons_equal_the_planted_bad_rows(warehouse: Build) -> None:
    expected = warehouse.report.expected_staging()
    assert sum(expected.values()) > 0, "the session dataset should plant bad rows"
    assert _observed_fates(warehouse) == expected


def test_every_raw_row_is_staged_superseded_or_quarantined_once(warehouse: Build) -> None:
    for table in TABLES:
        counts = warehouse.query(
            f"""
            select
                (select count(*) from raw.{table}) as raw_rows,
                (select count(*) from staging.stg_raw__{table}) as staged,
                (select count(*) from staging.base_raw__{table}
                    where _fate = 'superseded') as superseded,
                (select count(*) from staging.stg_raw__quarantine
                    where source_table = '{table}') as quarantined
            """
        ).iloc[0]
        assert counts.raw_rows == warehouse.report.rows[table], table
        assert counts.raw_rows == counts.staged + counts.superseded + counts.quarantined, (
            table,
            dict(counts),
        )


def test_staged_views_have_exactly_the_contract_columns_and_types(warehouse: Build) -> None:
    for table, contract in RAW_TABLES.items():
        cols = warehouse.query(
            f"""
            select table_schema, column_name, data_type
            from information_schema.columns
            where table_name in ('{table}', 'stg_raw__{table}')
                and table_schema in ('raw', 'staging')
            order by table_schema, ordinal_position
            """
        )
        staged = cols[cols.table_schema == "staging"]
        raw = cols[cols.table_schema == "raw"].set_index("column_name").data_type
        assert list(staged.column_name) == list(contract.columns), table
        assert list(staged.data_type) == [raw[c] for c in contract.columns], table


def test_staging_nodes_all_ran_and_passed(warehouse: Build) -> None:
    manifest = warehouse.manifest
    ours = {
        uid
        for uid, node in [*manifest["nodes"].items(), *manifest["unit_tests"].items()]
        if node["original_file_path"].startswith(("models/staging/", "tests/staging/"))
    }
    statuses = {
        r["unique_id"]: r["status"]
        for r in warehouse.run_results["results"]
        if r["unique_id"] in ours
    }
    assert set(statuses) == ours, f"not run: {sorted(ours - set(statuses))}"
    bad = {k: v for k, v in statuses.items() if v not in ("success", "pass")}
    # Source not_null tests are warnings by design (raw data is dirty); nothing else may be.
    assert all(k.startswith("test.dataproducts.source_not_null_raw_") for k in bad), bad
    reconciliations = [k for k in statuses if "source_row_count_reconciles_raw_" in k]
    assert len(reconciliations) == len(TABLES)
    assert sum(k.startswith("unit_test.dataproducts.base_raw__") for k in statuses) >= 3
    assert sum(k.startswith("model.dataproducts.base_raw__") for k in statuses) == len(TABLES)
    assert sum(k.startswith("test.dataproducts.assert_superseded") for k in statuses) == 2


# --- the rules the compiled SQL uses agree with the contract and the YAML ------------


def test_compiled_rules_agree_with_the_contract_and_the_yaml(duckdb_build: Build) -> None:
    manifest = duckdb_build.manifest
    models = _models_yml()
    for table in TABLES:
        sql = manifest["nodes"][f"model.dataproducts.base_raw__{table}"]["compiled_code"]
        reasons = re.findall(r"then '([a-z_]+)'", sql.split("as _quarantine_reason")[0])
        assert reasons[0] == "null_key", table
        assert len(reasons) == len(set(reasons)), f"{table}: a reason used twice"
        documented = _accepted_values(models[f"base_raw__{table}"], "_quarantine_reason")
        # invalid_value_<column> reasons are rendered only for raw columns that arrive
        # in another type (test_staging_hostile.py): one per typed contract column.
        parsed = [r for r in documented if r.startswith("invalid_value_")]
        typed = [c for c, t in RAW_TABLES[table].columns.items() if t != "varchar"]
        assert parsed == [f"invalid_value_{c}" for c in typed], table
        assert sorted(reasons) == sorted(set(documented) - set(parsed)), table
        assert "then cleaned._invalid_value_reason" in sql, table
        assert set(reasons) <= set(_accepted_values(models["stg_raw__quarantine"], "reason"))
        for (enum_table, column), values in ENUMS.items():
            if enum_table != table:
                continue
            (in_list,) = re.findall(rf"{column} not in \(([^)]*)\) then 'invalid_{column}'", sql)
            assert [v.strip(" '") for v in in_list.split(",")] == list(values)
            assert _accepted_values(models[f"stg_raw__{table}"], column) == list(values)


# --- builds on purpose-made raw tables ------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_contract_column_fails_naming_table_and_column(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env, execute = _raw_env(engine, tmp_path, request)
    _create_raw_tables(execute, drop=("events", "score"))
    proc = _dbt(engine, env, tmp_path).run("run", "--select", "base_raw__events", check=False)
    assert proc.returncode != 0
    assert "raw.events is missing contract column 'score'" in proc.stdout, proc.stdout[-3000:]


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_raw_tables_build(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env, execute = _raw_env(engine, tmp_path, request)
    _create_raw_tables(execute)
    # Loaders may add columns: an extra one must not break anything.
    execute("alter table raw.events add column loader_batch varchar")
    dbt = _dbt(engine, env, tmp_path)
    dbt.run("seed")
    # Staging and its tests only (with the seeds they read); other products are not ours.
    dbt.run(
        "build",
        "--select", "path:models/staging", "path:tests/staging",
        "--indirect-selection", "buildable",
    )  # fmt: skip
    statuses = {r["unique_id"]: r["status"] for r in dbt.run_results()["results"]}
    assert sum(k.startswith("model.dataproducts.stg_raw__") for k in statuses) == len(TABLES) + 1
    assert set(statuses.values()) <= {"success", "pass"}, statuses
