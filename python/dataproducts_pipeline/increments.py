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

A model that stores the vars its history depends on (a ``_history_vars`` column, see
macro ``history_vars_stamp``) recomputes every day in an incremental run when one of them
changed; the line then says so, since its row count alone (often +0) would not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
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
    #: An incremental run that recomputed every day: a var the model's history depends
    #: on changed since its rows were built (its ``_history_vars`` differ).
    vars_changed: bool = False

    @property
    def added(self) -> int | None:
        if self.rows_before is None:
            return None if self.mode == "unknown" else self.rows_after
        return self.rows_after - self.rows_before

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "added": self.added}


def _manifest_nodes(target_path: Path) -> list[dict[str, Any]] | None:
    try:
        manifest = json.loads((Path(target_path) / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and (node.get("config") or {}).get("materialized") == "incremental"
    ]


def _relation(node: dict[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def incremental_relations(target_path: Path) -> dict[str, str] | None:
    """Model name -> ``schema.identifier`` of the incremental models in the dbt manifest
    of ``target_path`` (None when there is no manifest there yet)."""
    nodes = _manifest_nodes(target_path)
    if nodes is None:
        return None
    return {node["name"]: _relation(node) for node in nodes}


def history_relations(target_path: Path) -> list[str]:
    """``schema.identifier`` of the incremental models of the manifest of
    ``target_path`` that store the vars their history depends on (a documented
    ``_history_vars`` column)."""
    return [
        _relation(node)
        for node in _manifest_nodes(target_path) or []
        if "_history_vars" in (node.get("columns") or {})
    ]


@contextmanager
def _session(
    target: str, source: str | Path
) -> Iterator[tuple[Callable[[str], bool], Callable[[str], list[tuple]]]]:
    """``(exists, query)`` on ``target`` (``dev``: the DuckDB file ``source``;
    ``postgres``: the DSN ``source``; ``spark``: the Thrift server of
    ``$DATAPRODUCTS_SPARK_*``): whether a relation (``schema.identifier``) exists, and
    the rows of a query."""
    if target == "postgres":
        import psycopg2

        with closing(psycopg2.connect(str(source))) as con, con.cursor() as cur:

            def query(sql: str) -> list[tuple]:
                cur.execute(sql)
                return cur.fetchall()

            yield (
                (lambda relation: query(f"select to_regclass('{relation}') is not null")[0][0]),
                query,
            )
        return
    if target == "spark":
        from .generator.spark import server_from_env
        from .spark_server import connect

        with closing(connect(**server_from_env())) as con, closing(con.cursor()) as cur:

            def query(sql: str) -> list[tuple]:
                cur.execute(sql)
                return cur.fetchall()

            def exists(relation: str) -> bool:
                schema, name = relation.split(".", 1)
                return bool(query(f"show tables in {schema} like '{name}'"))

            yield exists, query
        return
    import duckdb

    with closing(duckdb.connect(str(source), read_only=True)) as con:
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        yield present.__contains__, (lambda sql: con.execute(sql).fetchall())


def _per_relation(
    target: str,
    source: str | Path,
    relations: Iterable[str],
    sql: str,
    read: Callable[[list[tuple]], Any],
) -> dict[str, Any]:
    """``read`` of the rows of ``sql`` (``{relation}`` filled in) for each of ``relations``
    that exists on ``target`` (see :func:`_session`)."""
    relations = list(relations)
    if not relations:
        return {}
    with _session(target, source) as (exists, query):
        return {r: read(query(sql.format(relation=r))) for r in relations if exists(r)}


def count_rows(target: str, source: str | Path, relations: Iterable[str]) -> dict[str, int]:
    """Rows of each of ``relations`` (``schema.identifier``) on ``target`` (see
    :func:`_session`); a relation that does not exist is left out."""
    return _per_relation(
        target, source, relations, "select count(*) from {relation}", lambda rows: int(rows[0][0])
    )


def history_stamps(
    target: str, source: str | Path, relations: Iterable[str]
) -> dict[str, frozenset[int]]:
    """The ``_history_vars`` stamps stored in each of ``relations`` (see
    :func:`history_relations`); a relation that does not exist is left out."""
    return _per_relation(
        target,
        source,
        relations,
        "select distinct _history_vars from {relation}",
        lambda rows: frozenset(int(row[0]) for row in rows if row[0] is not None),
    )


def existing_tables(target: str, source: str | Path) -> set[str] | None:
    """``schema.identifier`` of every table on ``target`` (see :func:`count_rows`), to
    tell, when no previous build names the incremental relations, a relation dbt creates
    from one it keeps; None on Spark (not listed: a query per database)."""
    if target == "spark":
        return None
    if target != "postgres" and not Path(source).exists():
        return set()  # (and the DuckDB file is not created)
    sql = (
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE'"
        if target == "postgres"
        else "select schema_name || '.' || table_name from duckdb_tables()"
    )
    with _session(target, source) as (_, query):
        return {row[0] for row in query(sql)}


def increments(
    after: Mapping[str, str],
    rows_before: Mapping[str, int] | None,
    rows_after: Mapping[str, int],
    *,
    full_refresh: bool,
    existed: set[str] | None = None,
    stamps_before: Mapping[str, frozenset[int]] | None = None,
    stamps_after: Mapping[str, frozenset[int]] | None = None,
) -> list[Increment]:
    """The :class:`Increment` of each model of ``after`` (name -> relation) that exists
    after the build; ``rows_before`` None: not counted (no previous build known), and
    then ``existed`` (the tables before the build, None: not known) tells a new table
    (built from all history) from one that was kept (unknown). ``stamps_before`` /
    ``stamps_after``: the ``_history_vars`` of the models that store them
    (:func:`history_stamps`); an incremental run whose stamps changed recomputed every
    day (``vars_changed``).

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
            vars_changed=mode(relation) == "incremental"
            and bool((stamps_before or {}).get(relation))
            and (stamps_before or {}).get(relation) != (stamps_after or {}).get(relation),
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
        if i.vars_changed:
            rows += ", every day recomputed: a var its history depends on changed"
        lines.append(f"  {i.model:<{width}}  {i.mode:<12}  {rows}")
    return "\n".join(lines)
