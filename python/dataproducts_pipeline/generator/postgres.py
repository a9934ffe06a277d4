"""Copies the raw tables from a DuckDB database into PostgreSQL with COPY.

DuckDB writes each table as CSV in chunks (by primary-key range, null keys separately);
each chunk is streamed into ``COPY raw.<table> FROM STDIN`` with psycopg2. In CSV, DuckDB
quotes empty strings (``""``) and leaves NULLs empty, which is exactly how PostgreSQL's
CSV format tells them apart. A full generation replaces the tables, an append adds to
them; either way the rows and the generator log's row go in one PostgreSQL transaction:
a failure leaves the previous raw tables in place.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import duckdb

from dataproducts.errors import WarehouseError

from ..raw_contract import RAW_SCHEMA, RAW_TABLES
from .log import LOG, Entry, from_row, select_last

CHUNK_ROWS = 500_000


def connect(dsn: str):  # -> psycopg2 connection
    import psycopg2

    try:
        return psycopg2.connect(dsn)
    except psycopg2.OperationalError as exc:
        safe = " ".join(p for p in dsn.split() if not p.startswith("password"))
        raise WarehouseError(
            f"cannot connect to PostgreSQL ({safe}): {str(exc).strip()}. Start the server, "
            "create the database, or set DATAPRODUCTS_PG_HOST/PORT/USER/PASSWORD/DATABASE."
        ) from exc


def last_entry(dsn: str, where: str) -> Entry:
    """The generator log's last row in PostgreSQL (for an append)."""
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select to_regclass(%s)", (f"{RAW_SCHEMA}.{LOG.name}",))
            row = None
            if cur.fetchone()[0] is not None:
                cur.execute(select_last())
                row = cur.fetchone()
    finally:
        conn.close()
    return from_row(row, where)


def copy_tables(
    duck: duckdb.DuckDBPyConnection,
    dsn: str,
    progress: bool = False,
    *,
    where: str = "true",
    log: Entry | None = None,
) -> dict[str, int]:
    """Copies the rows of the DuckDB database's raw tables that match ``where`` into
    PostgreSQL: replacing its tables, or adding to them when ``log`` is an append; then
    logs the run. Returns the rows copied per table."""
    from tqdm import tqdm

    replace = log is None or log.mode == "generate"
    totals = {
        name: int(duck.execute(f"select count(*) from raw.{name} where {where}").fetchone()[0])
        for name in RAW_TABLES
    }
    conn = connect(dsn)
    copied: dict[str, int] = {}
    try:
        with conn, conn.cursor() as cur, tempfile.TemporaryDirectory(prefix="dp-copy-") as tmp:
            cur.execute("create schema if not exists raw")
            tables = [*RAW_TABLES.items(), *([(LOG.name, LOG)] if log else [])]
            for name, table in tables:
                if replace:
                    # cascade: dbt's staging views are rebuilt by the next `dbt build`
                    cur.execute(f"drop table if exists raw.{name} cascade")
                cur.execute(table.ddl(if_not_exists=True))
            bar = tqdm(
                total=sum(totals.values()), desc="copy to postgres", unit="row",
                unit_scale=True, disable=not progress,
            )  # fmt: skip
            for name, table in RAW_TABLES.items():
                cols = ", ".join(table.columns)
                copy_sql = f"copy raw.{name} ({cols}) from stdin with (format csv)"
                copied[name] = 0
                for chunk in _chunks(duck, name, table.primary_key, totals[name]):
                    path = Path(tmp) / f"{name}.csv"
                    duck.execute(
                        f"copy (select {cols} from raw.{name} where ({chunk}) and {where}) "
                        f"to '{path}' (format csv, header false)"
                    )
                    with open(path, encoding="utf-8") as f:
                        cur.copy_expert(copy_sql, f)
                    copied[name] += cur.rowcount
                    bar.update(cur.rowcount)
                    path.unlink()
            bar.close()
            if log is not None:
                cur.execute(f"insert into {RAW_SCHEMA}.{LOG.name} values {log.sql_values()}")
    finally:
        conn.close()
    return copied


def _chunks(duck: duckdb.DuckDBPyConnection, name: str, key: str, rows: int) -> list[str]:
    """WHERE clauses that split a table into about CHUNK_ROWS rows each, nulls included."""
    lo, hi = duck.execute(f"select min({key}), max({key}) from raw.{name}").fetchone()
    wheres = [f"{key} is null"]
    if lo is None:
        return wheres
    n = max(1, -(-rows // CHUNK_ROWS))
    bounds = [lo + (hi - lo + 1) * i // n for i in range(n)] + [hi + 1]
    wheres += [f"{key} >= {a} and {key} < {b}" for a, b in itertools.pairwise(bounds)]
    return wheres
