"""The raw contract is written twice, for two readers: the Python loader/generator
(``raw_contract.py``) and dbt (the sources YAML, which staging checks at build time).
These tests fail when the two drift apart, so neither can change alone."""

from __future__ import annotations

from pathlib import Path

import yaml

from dataproducts_pipeline.raw_contract import ENUMS, RAW_TABLES

SOURCES = Path(__file__).resolve().parents[2] / "models/staging/raw/_raw__sources.yml"


def _yaml_tables() -> dict[str, dict]:
    doc = yaml.safe_load(SOURCES.read_text())
    (raw,) = [s for s in doc["sources"] if s["name"] == "raw"]
    assert raw["schema"] == "raw"
    return {t["name"]: t for t in raw["tables"]}


def test_same_tables() -> None:
    assert set(_yaml_tables()) == set(RAW_TABLES)


def test_same_columns_types_and_order() -> None:
    for name, table in _yaml_tables().items():
        yaml_cols = [(c["name"], c["data_type"]) for c in table["columns"]]
        assert yaml_cols == list(RAW_TABLES[name].columns.items()), name


def test_every_column_documented_and_keys_tested() -> None:
    for name, table in _yaml_tables().items():
        assert table.get("description"), name
        for col in table["columns"]:
            assert col.get("description"), f"{name}.{col['name']} has no description"
        pk = RAW_TABLES[name].primary_key
        (pk_col,) = [c for c in table["columns"] if c["name"] == pk]
        assert any("not_null" in t for t in pk_col.get("data_tests", [])), name


def test_enum_columns_exist_and_are_documented_with_their_values() -> None:
    tables = _yaml_tables()
    for (table, column), values in ENUMS.items():
        (col,) = [c for c in tables[table]["columns"] if c["name"] == column]
        for value in values:
            assert f"`{value}`" in col["description"], f"{table}.{column}: {value}"


def test_ddl_is_valid_on_duckdb() -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("create schema raw")
    for table in RAW_TABLES.values():
        con.execute(table.ddl())
    cols = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall()
    assert len(cols) == sum(len(t.columns) for t in RAW_TABLES.values())
