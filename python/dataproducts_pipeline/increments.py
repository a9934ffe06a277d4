"""Which models a build ran incrementally, and how many rows each added.

The incremental models (``config(materialized='incremental')``: the event-like base
models of staging and the daily sums of events, see the doc blocks
``staging_incremental`` and ``day_incremental``) keep their rows between builds and
recompute only the days that may have changed. `dataproducts build`
counts each one's rows before and after dbt, and says for each whether it ran
incrementally or was built from all history (``--full-refresh``, or a first build):

>>> print(render([Increment("base_raw__events", "staging.base_raw__events", "incremental",
...                         4215, 4366)]))  # doctest: +NORMALIZE_WHITESPACE
incremental models: 1 ran incrementally, 0 built from all history
  base_raw__events    incremental   4,215 → 4,366 rows (+151)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Increment:
    """One incremental model in one build: ``mode`` is ``incremental`` (it kept its rows
    and replaced some), ``full`` (built from all history: ``--full-refresh``, or the
    table did not exist) or ``unknown`` (the table existed, but no previous build in the
    target directory said which relations to count before dbt); ``rows_before`` is None
    when it did not exist or was not counted."""

    model: str
    relation: str
    mode: str
    rows_before: int | None
    rows_after: int

    @property
    def added(self) -> int | None:
        if self.rows_before is None:
            return None if self.mode == "unknown" else self.rows_after
        return self.rows_after - self.rows_before

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "added": self.added}


def incremental_relations(target_path: Path) -> dict[str, str] | None:
    """Model name -> ``schema.identifier`` of the incremental models in the dbt manifest
    of ``target_path`` (None when there is no manifest there yet)."""
    try:
        manifest = json.loads((Path(target_path) / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return {
        node["name"]: f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and (node.get("config") or {}).get("materialized") == "incremental"
    }


def count_rows(target: str, source: str | Path, relations: Iterable[str]) -> dict[str, int]:
    """Rows of each of ``relations`` (``schema.identifier``) on ``target`` (``dev``: the
    DuckDB file ``source``; ``postgres``: the DSN ``source``; ``spark``: the Thrift server
    of ``$DATAPRODUCTS_SPARK_*``); a relation that does not exist is left out."""
    relations = list(relations)
    if not relations:
        return {}
    counts: dict[str, int] = {}
    if target == "postgres":
        import psycopg2

        with closing(psycopg2.connect(str(source))) as con, con.cursor() as cur:
            for relation in relations:
                cur.execute("select to_regclass(%s) is not null", (relation,))
                if cur.fetchone()[0]:
                    cur.execute(f"select count(*) from {relation}")
                    counts[relation] = int(cur.fetchone()[0])
        return counts
    if target == "spark":
        from .generator.spark import server_from_env
        from .spark_server import connect

        with closing(connect(**server_from_env())) as con, closing(con.cursor()) as cur:
            for relation in relations:
                schema, name = relation.split(".", 1)
                cur.execute(f"show tables in {schema} like '{name}'")
                if cur.fetchall():
                    cur.execute(f"select count(*) from {relation}")
                    counts[relation] = int(cur.fetchall()[0][0])
        return counts
    import duckdb

    with closing(duckdb.connect(str(source), read_only=True)) as con:
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        for relation in relations:
            if relation in present:
                counts[relation] = int(
                    con.execute(f"select count(*) from {relation}").fetchone()[0]
                )
    return counts


def existing_tables(target: str, source: str | Path) -> set[str] | None:
    """``schema.identifier`` of every table on ``target`` (see :func:`count_rows`), to
    tell, when no previous build names the incremental relations, a relation dbt creates
    from one it keeps; None on Spark (not listed: a query per database)."""
    if target == "postgres":
        import psycopg2

        with closing(psycopg2.connect(str(source))) as con, con.cursor() as cur:
            cur.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_type = 'BASE TABLE'"
            )
            return {row[0] for row in cur.fetchall()}
    if target == "spark":
        return None
    if not Path(source).exists():
        return set()
    import duckdb

    with closing(duckdb.connect(str(source), read_only=True)) as con:
        return {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }


def increments(
    after: Mapping[str, str],
    rows_before: Mapping[str, int] | None,
    rows_after: Mapping[str, int],
    *,
    full_refresh: bool,
    existed: set[str] | None = None,
) -> list[Increment]:
    """The :class:`Increment` of each model of ``after`` (name -> relation) that exists
    after the build; ``rows_before`` None: not counted (no previous build known), and
    then ``existed`` (the tables before the build, None: not known) tells a new table
    (built from all history) from one that was kept (unknown).

    >>> [i.mode for i in increments({"a": "s.a", "b": "s.b"}, None, {"s.a": 5, "s.b": 7},
    ...                              full_refresh=False, existed={"s.b"})]
    ['full', 'unknown']
    """

    def mode(relation: str) -> str:
        if full_refresh:
            return "full"
        if rows_before is None:
            return "full" if existed is not None and relation not in existed else "unknown"
        return "incremental" if relation in rows_before else "full"

    return [
        Increment(
            model=name,
            relation=relation,
            mode=mode(relation),
            rows_before=None if rows_before is None else rows_before.get(relation),
            rows_after=rows_after[relation],
        )
        for name, relation in sorted(after.items())
        if relation in rows_after
    ]


def render(items: Iterable[Increment]) -> str:
    """The lines `dataproducts build` prints (see the module's example)."""
    items = list(items)
    ran = sum(i.mode == "incremental" for i in items)
    full = sum(i.mode == "full" for i in items)
    head = f"incremental models: {ran} ran incrementally, {full} built from all history"
    if len(items) - ran - full:
        head += (
            f", {len(items) - ran - full} not counted before dbt (no previous build in this "
            "target directory)"
        )
    lines = [head]
    width = max((len(i.model) for i in items), default=0)
    for i in items:
        if i.mode == "unknown":
            rows = f"{i.rows_after:,} rows"
        elif i.rows_before is None:
            rows = f"{i.rows_after:,} rows (new)"
        else:
            rows = f"{i.rows_before:,} → {i.rows_after:,} rows ({i.added:+,})"
        lines.append(f"  {i.model:<{width}}  {i.mode:<12}  {rows}")
    return "\n".join(lines)
