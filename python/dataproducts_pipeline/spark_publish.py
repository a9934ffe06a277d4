"""Publishing a Spark build: its published relations, read from their Parquet files into a
DuckDB file, which is then published like a DuckDB build.

Readers keep reading the same immutable DuckDB snapshots, whatever engine built them: a
build on Spark ends with :func:`stage` copying every relation dbt publishes (the public
marts and the seeds the package reads) out of Spark into a local DuckDB *stage* file,
then :func:`dataproducts_pipeline.publish.publish` copies that stage into a new snapshot,
runs the validation gate on it and switches the pointer, exactly as for DuckDB. So the
guarantees are the same: readers never see half a build, a failed build or gate publishes
nothing.

Spark is asked where each table's files are (``describe table extended``), and DuckDB
reads them directly: no row passes through the Thrift connection. The tables must be
Parquet (``+file_format: parquet`` in dbt_project.yml for the ``spark`` target); the row
count Spark reports must equal what DuckDB read, or nothing is published. Columns are cast
to the DuckDB type of their Spark type, timestamps read as UTC.

A local Thrift server's files are local paths; a cluster's (``s3://``, ``hdfs://``) need
DuckDB to reach that storage (httpfs for S3), which this project does not set up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from dataproducts.errors import ConfigurationError, PublishError

#: A Spark build to publish: ``spark://user@host:port`` (the Thrift server of the build).
SPARK_PREFIX = "spark://"

#: Spark SQL type -> DuckDB type (decimal(p,s) is kept as written).
_DUCKDB_TYPES = {
    "string": "varchar",
    "varchar": "varchar",
    "char": "varchar",
    "double": "double",
    "float": "real",
    "bigint": "bigint",
    "int": "integer",
    "integer": "integer",
    "smallint": "smallint",
    "tinyint": "tinyint",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
}


def is_spark(target: object) -> bool:
    """Whether ``target`` names a Spark build (``spark://user@host:port``)."""
    return isinstance(target, str) and target.startswith(SPARK_PREFIX)


def spark_url(host: str, port: int, user: str) -> str:
    """The ``spark://`` URL of a Thrift server (what :func:`publish` takes)."""
    return f"{SPARK_PREFIX}{user}@{host}:{int(port)}"


def parse_spark_url(url: str) -> dict[str, Any]:
    """host, port and user of a ``spark://user@host:port`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "spark" or not parts.hostname:
        raise ConfigurationError(
            f"{url!r} is not a Spark target: write spark://user@host:port "
            "(the Thrift server of the build)."
        )
    return {
        "host": parts.hostname,
        "port": parts.port or 10000,
        "user": unquote(parts.username or "dataproducts"),
    }


def duckdb_type(spark_type: str) -> str:
    """The DuckDB type a Spark column is read as.

    >>> duckdb_type("string"), duckdb_type("decimal(10,2)"), duckdb_type("int")
    ('varchar', 'decimal(10,2)', 'integer')
    """
    text = spark_type.strip().lower()
    if re.fullmatch(r"decimal\(\s*\d+\s*,\s*\d+\s*\)", text):
        return text.replace(" ", "")
    base = re.sub(r"\(.*\)", "", text)
    if base not in _DUCKDB_TYPES:
        raise PublishError(
            f"a published column has the Spark type {spark_type!r}, which the snapshot "
            "cannot hold: publish only scalar columns (cast it in the model)."
        )
    return _DUCKDB_TYPES[base]


def describe(cursor: Any, schema: str, relation: str) -> tuple[list[tuple[str, str]], dict]:
    """(columns with their Spark types, detailed table information) of a Spark table."""
    cursor.execute(f"describe table extended `{schema}`.`{relation}`")
    columns: list[tuple[str, str]] = []
    details: dict[str, str] = {}
    section = "columns"
    for name, data_type, *_ in cursor.fetchall():
        name = (name or "").strip()
        if name.startswith("#"):
            section = "details" if "Detailed Table Information" in name else "other"
            continue
        if not name:
            continue
        if section == "columns":
            columns.append((name, (data_type or "").strip()))
        elif section == "details":
            details[name] = (data_type or "").strip()
    return columns, details


def local_path(location: str) -> Path:
    """The local directory of a table's ``location`` (Spark's ``file:`` URI)."""
    if not location.startswith(("file:", "/")):
        raise PublishError(
            f"the table's files are at {location}, which cannot be read here: only a "
            "local Spark warehouse (file: locations) is."
        )
    return Path(unquote(re.sub(r"^file:(//)?", "", location)))


def _parquet_files(location: str) -> list[str]:
    """The data files of a table at a local ``location`` (Spark's ``file:`` URI)."""
    root = local_path(location)
    return sorted(
        str(p)
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(("_", ".")) and p.stat().st_size > 0
    )


def stage(
    url: str, specs: Sequence[Mapping[str, Any]], file: Path, *, connect: Any = None
) -> dict[str, int]:
    """Copy every relation of ``specs`` (``dbt_published_tables``) from the Spark build at
    ``url`` into the new DuckDB file ``file``, schema and name as in Spark; rows per
    relation. Refuses non-Parquet tables and any row count that differs from Spark's."""
    import duckdb

    from .generator.spark import connect as spark_connect

    server = parse_spark_url(url)
    rows: dict[str, int] = {}
    with (
        closing((connect or spark_connect)(**server)) as spark,
        closing(spark.cursor()) as cursor,
        closing(duckdb.connect(str(file))) as duck,
    ):
        duck.execute("set TimeZone = 'UTC'")  # Spark's timestamps are instants: read as UTC
        for spec in specs:
            schema, relation = spec["schema"], spec["relation"]
            label = f"{schema}.{relation}"
            columns, details = describe(cursor, schema, relation)
            provider = details.get("Provider", "").lower()
            if provider != "parquet":
                raise PublishError(
                    f"{label} is stored as {provider or 'an unknown format'} on Spark, not "
                    "Parquet: set +file_format: parquet for the spark target. Nothing was "
                    "published."
                )
            typed = [(name, duckdb_type(data_type)) for name, data_type in columns]
            q = _quote
            duck.execute(f"create schema if not exists {q(schema)}")
            duck.execute(
                f"create table {q(schema)}.{q(relation)} ("
                + ", ".join(f"{q(n)} {t}" for n, t in typed)
                + ")"
            )
            files = _parquet_files(details.get("Location", ""))
            if files:
                names = ", ".join(q(n) for n, _ in typed)
                select = ", ".join(f"cast({q(n)} as {t}) as {q(n)}" for n, t in typed)
                duck.execute(
                    f"insert into {q(schema)}.{q(relation)} ({names}) select {select} "
                    "from read_parquet(?, union_by_name = true, hive_partitioning = true)",
                    [files],
                )
            cursor.execute(f"select count(*) from `{schema}`.`{relation}`")
            expected = int(cursor.fetchone()[0])
            got = duck.execute(f"select count(*) from {q(schema)}.{q(relation)}").fetchone()[0]
            if got != expected:
                raise PublishError(
                    f"{label}: Spark counts {expected} rows but its files hold {got} (was the "
                    "table rewritten during the publish?). Nothing was published."
                )
            rows[label] = int(got)
        duck.execute("checkpoint")
    return rows


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
