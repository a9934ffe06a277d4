"""Publishing from Spark: a Spark build's relations, read from their Parquet files into a
DuckDB stage, then published as an ordinary snapshot the reader package opens.

The relations here are made in Spark by hand (one partitioned, one empty, one of each
scalar type, a text table, a table with a nested type), so the stage is checked on
what Spark itself wrote; the full project on Spark is issue 15's build test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dataproducts.errors import PublishError
from dataproducts_pipeline.spark_publish import parse_spark_url, spark_url, stage

pytestmark = pytest.mark.spark


def _sql(server: Any, *statements: str) -> None:
    with contextlib.closing(server.connect()) as con, contextlib.closing(con.cursor()) as cur:
        for statement in statements:
            cur.execute(statement)


@pytest.fixture(scope="module")
def spark_tables(spark_server) -> Any:
    _sql(
        spark_server,
        "create database if not exists stage_test",
        "drop table if exists stage_test.typed",
        "create table stage_test.typed (id bigint, n int, x double, d decimal(10, 2), "
        "s string, b boolean, day date, at timestamp) using parquet",
        "insert into stage_test.typed values "
        "(1, 2, 0.5, 12.34, 'it''s', true, date'2026-11-01', timestamp'2026-11-01 08:30:00'), "
        "(2, null, null, null, null, null, null, null)",
        "drop table if exists stage_test.by_day",
        "create table stage_test.by_day (id bigint, v string, day date) using parquet "
        "partitioned by (day)",
        "insert into stage_test.by_day values (1, 'a', date'2026-11-01'), "
        "(2, 'b', date'2026-11-02'), (3, 'c', date'2026-11-02')",
        "drop table if exists stage_test.empty",
        "create table stage_test.empty (id bigint, v string) using parquet",
        "drop table if exists stage_test.as_text",
        "create table stage_test.as_text (id bigint) stored as textfile",
        "drop table if exists stage_test.nested",
        "create table stage_test.nested (id bigint, tags array<string>) using parquet",
    )
    return spark_server


def _spec(relation: str) -> dict[str, Any]:
    return {"schema": "stage_test", "relation": relation}


def _url(server: Any) -> str:
    return spark_url(server.host, server.port, server.user)


def test_the_url_round_trips() -> None:
    assert parse_spark_url(spark_url("127.0.0.1", 10001, "me")) == {
        "host": "127.0.0.1",
        "port": 10001,
        "user": "me",
    }


def test_every_scalar_type_arrives_as_spark_wrote_it(spark_tables, tmp_path: Path) -> None:
    file = tmp_path / "stage.duckdb"
    rows = stage(_url(spark_tables), [_spec("typed"), _spec("by_day"), _spec("empty")], file)
    assert rows == {"stage_test.typed": 2, "stage_test.by_day": 3, "stage_test.empty": 0}
    con = duckdb.connect(str(file), read_only=True)
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'typed' order by ordinal_position"
        ).fetchall()
    )
    assert types == {
        "id": "BIGINT",
        "n": "INTEGER",
        "x": "DOUBLE",
        "d": "DECIMAL(10,2)",
        "s": "VARCHAR",
        "b": "BOOLEAN",
        "day": "DATE",
        "at": "TIMESTAMP",
    }
    got = con.execute("select * from stage_test.typed order by id").fetchall()
    assert got == [
        (
            1,
            2,
            0.5,
            Decimal("12.34"),
            "it's",
            True,
            dt.date(2026, 11, 1),
            dt.datetime(2026, 11, 1, 8, 30),  # the server's session is in UTC
        ),
        (2, None, None, None, None, None, None, None),
    ]
    # the partition column comes from the directories, in Spark's column order
    assert con.execute("select * from stage_test.by_day order by id").fetchall() == [
        (1, "a", dt.date(2026, 11, 1)),
        (2, "b", dt.date(2026, 11, 2)),
        (3, "c", dt.date(2026, 11, 2)),
    ]
    assert con.execute("select count(*) from stage_test.empty").fetchone() == (0,)


def test_a_table_that_is_not_parquet_is_refused(spark_tables, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"stage_test.as_text is stored as hive.*Parquet"):
        stage(_url(spark_tables), [_spec("as_text")], tmp_path / "stage.duckdb")


def test_a_nested_column_is_refused_with_its_type(spark_tables, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"array<string>"):
        stage(_url(spark_tables), [_spec("nested")], tmp_path / "stage.duckdb")


def test_files_that_disagree_with_spark_publish_nothing(spark_tables, tmp_path: Path) -> None:
    """Spark's count and the rows read from the files must agree: here the table gains a
    row between the listing of its files and Spark's count (a build still writing)."""
    from dataproducts_pipeline.generator.spark import connect

    def racing_connect(**server: Any) -> Any:
        con = connect(**server)
        cursor = con.cursor

        def cursor_that_races() -> Any:
            cur = cursor()
            execute = cur.execute

            def run(sql: str, *args: Any) -> Any:
                if sql.startswith("select count(*)"):
                    execute("insert into stage_test.racing values (4, 'd')")
                return execute(sql, *args)

            cur.execute = run
            return cur

        con.cursor = cursor_that_races
        return con

    _sql(
        spark_tables,
        "drop table if exists stage_test.racing",
        "create table stage_test.racing (id bigint, v string) using parquet",
        "insert into stage_test.racing values (1, 'a'), (2, 'b'), (3, 'c')",
    )
    with pytest.raises(PublishError, match=r"Spark counts 4 rows but its files hold 3"):
        stage(
            _url(spark_tables),
            [_spec("racing")],
            tmp_path / "stage.duckdb",
            connect=racing_connect,
        )
