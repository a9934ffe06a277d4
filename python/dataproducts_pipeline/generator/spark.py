"""Puts the raw tables of a DuckDB database into Spark: Parquet files, external tables.

DuckDB writes each table with ``COPY ... (format parquet)`` into
``<raw_dir>/run-<time>-<id>/<table>/``, timestamps as UTC instants (Parquet TIMESTAMP
adjusted to UTC: Spark's ``timestamp``). Then, over the Thrift server (PyHive, as dbt's
``method: thrift``), database ``raw`` gets each table dropped and re-created as an external
Parquet table on its directory, with the raw contract's columns in Spark SQL types
(:data:`~dataproducts_pipeline.raw_contract.SPARK_TYPES`), and Spark's count of one table
is checked against DuckDB's. The previous run's files are removed last.

Spark must read ``raw_dir`` at the same path: a local server (the tests', or
``python -m dataproducts_pipeline.spark_server``) does. Nothing in Spark changes until
every file is written, so a failed generation leaves the previous raw tables in place
(Spark's catalog has no transactions: the re-registration itself is eight quick
statements, not one atomic switch).

An append (``generate --append``) writes one more Parquet file per table into the
directories the tables already read, named after the loaded range it holds (rerunning
the same append rewrites the same files), then refreshes the tables; the generator log
(``raw.generator_runs``, a managed table) gets its row last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb

from dataproducts.errors import ConfigurationError, WarehouseError
from dataproducts.paths import IN_CHECKOUT, REPO_ROOT

from ..raw_contract import RAW_SCHEMA, RAW_TABLES
from .log import LOG, Entry, from_row, select_last

RUN_PREFIX = "run-"
#: The table whose rows Spark counts after registering (every scale has learners).
PROBE = "learners"


def default_raw_dir() -> Path:
    """``$DATAPRODUCTS_SPARK_RAW_DIR``, else ``warehouse/spark_raw`` of the checkout."""
    env = os.environ.get("DATAPRODUCTS_SPARK_RAW_DIR")
    if env:
        return Path(env)
    return (REPO_ROOT if IN_CHECKOUT else Path.cwd()) / "warehouse" / "spark_raw"


def server_from_env() -> dict[str, Any]:
    """The Thrift server of profiles.yml's target ``spark``: host, port, user."""
    return {
        "host": os.environ.get("DATAPRODUCTS_SPARK_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DATAPRODUCTS_SPARK_PORT", "10000")),
        "user": os.environ.get("DATAPRODUCTS_SPARK_USER", "dataproducts"),
    }


def connect(host: str, port: int, user: str) -> Any:
    """A PyHive connection; :class:`WarehouseError` saying what to do when it fails."""
    try:
        from pyhive import hive
    except ImportError as exc:
        raise ConfigurationError(
            "the Spark target needs the spark extra (dbt-spark[PyHive], pyspark): "
            "pip install -c constraints.txt -e '.[pipeline,spark]'"
        ) from exc
    try:
        return hive.connect(host=host, port=port, username=user)
    except Exception as exc:  # thrift's TTransportException, socket errors...
        raise WarehouseError(
            f"cannot connect to the Spark Thrift server at {host}:{port} as {user}: "
            f"{str(exc).strip() or type(exc).__name__}. Start one (python -m "
            "dataproducts_pipeline.spark_server) or set DATAPRODUCTS_SPARK_HOST/PORT/USER."
        ) from exc


def check_raw_dir(raw_dir: Path) -> Path:
    """The absolute directory, refused when a SQL string literal could not hold it."""
    path = Path(raw_dir).expanduser().resolve()
    if any(c in str(path) for c in "'\\\n\r\t") or (path.exists() and not path.is_dir()):
        raise ConfigurationError(
            f"the Spark raw-data directory {str(path)!r} must be a directory path without "
            "quotes, backslashes or control characters (DATAPRODUCTS_SPARK_RAW_DIR)."
        )
    return path


def last_entry(server: dict[str, Any], where: str) -> Entry:
    """The generator log's last row in Spark (for an append)."""
    conn = connect(**server)
    try:
        with contextlib.closing(conn.cursor()) as cur:
            cur.execute(f"show tables in {RAW_SCHEMA} like '{LOG.name}'")
            row = None
            if cur.fetchall():
                cur.execute(select_last())
                row = cur.fetchone()
    finally:
        conn.close()
    return from_row(row, where)


def _location(cur: Any, table: str) -> Path:
    """The directory an external table reads."""
    from ..spark_publish import describe, local_path

    location = describe(cur, RAW_SCHEMA, table)[1].get("Location")
    if not location:
        raise WarehouseError(f"Spark does not say where {RAW_SCHEMA}.{table} reads its files.")
    return local_path(location)


def _parquet_cols(table: Any) -> str:
    return ", ".join(
        f"timezone('UTC', {c}) as {c}" if t == "timestamp" else c for c, t in table.columns.items()
    )


def _log_row(cur: Any, log: Entry) -> None:
    if log.mode == "generate":
        cols = ", ".join(f"`{c}` {t}" for c, t in LOG.spark_columns.items())
        cur.execute(f"drop table if exists {RAW_SCHEMA}.{LOG.name}")
        cur.execute(f"create table {RAW_SCHEMA}.{LOG.name} ({cols}) using parquet")
    cur.execute(f"insert into {RAW_SCHEMA}.{LOG.name} values {log.sql_values()}")


def append_tables(
    duck: duckdb.DuckDBPyConnection,
    server: dict[str, Any],
    where: str,
    log: Entry,
    progress: bool = False,
) -> dict[str, int]:
    """Adds the rows matching ``where`` to database ``raw``'s tables: one Parquet file per
    table in the directory it reads; returns the rows added to each."""
    from tqdm import tqdm

    assert log.loaded_from is not None
    name_of_part = f"part-{log.loaded_from:%Y%m%dT%H%M%S}-{log.loaded_to:%Y%m%dT%H%M%S}.parquet"
    conn = connect(**server)
    added: dict[str, int] = {}
    try:
        with contextlib.closing(conn.cursor()) as cur:
            places = {name: _location(cur, name) for name in RAW_TABLES}
            with tqdm(total=len(RAW_TABLES), desc="parquet for spark", disable=not progress) as bar:
                for name, table in RAW_TABLES.items():
                    added[name] = int(
                        duck.execute(f"select count(*) from raw.{name} where {where}").fetchone()[0]
                    )
                    tmp = places[name].parent / f".{name}-{name_of_part}"
                    duck.execute(
                        f"copy (select {_parquet_cols(table)} from raw.{name} where {where}) "
                        f"to '{tmp}' (format parquet, compression zstd)"
                    )
                    os.replace(tmp, places[name] / name_of_part)  # atomic: whole file or none
                    bar.update()
            for name in RAW_TABLES:
                cur.execute(f"refresh table {RAW_SCHEMA}.{name}")
            _log_row(cur, log)
    finally:
        conn.close()
    return added


def copy_tables(
    duck: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    server: dict[str, Any],
    progress: bool = False,
    *,
    where: str = "true",
    log: Entry | None = None,
) -> dict[str, int]:
    """Replaces database ``raw``'s tables in Spark with the rows of the DuckDB database's
    that match ``where`` (an append, ``log.mode == 'append'``, adds them instead: see
    :func:`append_tables`); returns the rows of each."""
    from tqdm import tqdm

    if log is not None and log.mode == "append":
        return append_tables(duck, server, where, log, progress)
    root = check_raw_dir(raw_dir)
    run = root / f"{RUN_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    totals = {
        name: int(duck.execute(f"select count(*) from raw.{name} where {where}").fetchone()[0])
        for name in RAW_TABLES
    }
    conn = connect(**server)
    registering = False
    try:
        try:
            with tqdm(total=len(RAW_TABLES), desc="parquet for spark", disable=not progress) as bar:
                for name, table in RAW_TABLES.items():
                    (run / name).mkdir(parents=True)
                    duck.execute(
                        f"copy (select {_parquet_cols(table)} from raw.{name} where {where}) to "
                        f"'{run / name / 'part-0.parquet'}' (format parquet, compression zstd)"
                    )
                    bar.update()
            counted: dict[str, int] = {}
            registering = True
            with contextlib.closing(conn.cursor()) as cur:
                cur.execute(f"create database if not exists {RAW_SCHEMA}")
                for name, table in RAW_TABLES.items():
                    cols = ", ".join(f"`{c}` {t}" for c, t in table.spark_columns.items())
                    cur.execute(f"drop table if exists {RAW_SCHEMA}.{name}")
                    cur.execute(
                        f"create table {RAW_SCHEMA}.{name} ({cols}) using parquet "
                        f"location '{(run / name).as_uri()}'"
                    )
                # Spark reads the files (at least one learner): a server that cannot see
                # raw_dir at the same path would read an empty table. One table only: a
                # count is a Spark job, ~0.5 s each at tiny.
                cur.execute(f"select count(*) from {RAW_SCHEMA}.{PROBE}")
                counted[PROBE] = int(cur.fetchone()[0])
                if log is not None:
                    _log_row(cur, log)
        except BaseException:
            if not registering:  # else some tables may already read the new files
                shutil.rmtree(run, ignore_errors=True)
            raise
    finally:
        conn.close()
    if counted[PROBE] != totals[PROBE]:
        raise WarehouseError(
            f"Spark counts {counted[PROBE]} rows in {RAW_SCHEMA}.{PROBE}, DuckDB wrote "
            f"{totals[PROBE]}: does the Spark server read {root} at the same path?"
        )
    for old in root.glob(f"{RUN_PREFIX}*"):
        if old != run and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return totals
