"""Table contracts: what columns and types a published table promises.

dbt holds the contract of every public mart (``contract: {enforced: true}``, a
``data_type`` on every column) and the declared ``column_types`` of every seed. The
publisher copies them into each snapshot's manifest; the client compares the tables it
opens with them, and with what the package itself reads, and raises
:class:`~dataproducts.errors.ContractError` naming the table and the column on any
difference.

Types are compared by their canonical name, so the same contract reads on DuckDB and
PostgreSQL:

>>> canonical_type("double precision"), canonical_type("DOUBLE"), canonical_type("float8")
('double', 'double', 'double')
>>> canonical_type("character varying(20)"), canonical_type("text"), canonical_type("VARCHAR")
('varchar', 'varchar', 'varchar')
>>> canonical_type("timestamp without time zone"), canonical_type("TIMESTAMP WITH TIME ZONE")
('timestamp', 'timestamptz')
>>> diff_columns("t", [("a", "bigint"), ("b", "varchar")], [("a", "BIGINT"), ("b", "INTEGER")])
['t.b: the contract says varchar, the table has integer']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

_ALIASES: dict[str, str] = {
    "bigint": "bigint",
    "int8": "bigint",
    "long": "bigint",
    "integer": "integer",
    "int": "integer",
    "int4": "integer",
    "signed": "integer",
    "smallint": "smallint",
    "int2": "smallint",
    "short": "smallint",
    "hugeint": "hugeint",
    "double": "double",
    "double precision": "double",
    "float8": "double",
    "float": "double",
    "real": "real",
    "float4": "real",
    "numeric": "decimal",
    "decimal": "decimal",
    "varchar": "varchar",
    "character varying": "varchar",
    "text": "varchar",
    "string": "varchar",
    "char": "varchar",
    "character": "varchar",
    "bpchar": "varchar",
    "boolean": "boolean",
    "bool": "boolean",
    "logical": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "datetime": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "json": "json",
    "jsonb": "json",
    "uuid": "uuid",
}

#: The types a Python field of each kind accepts (the client reads these columns).
PYTHON_TYPE_FAMILIES: dict[type, frozenset[str]] = {
    int: frozenset({"bigint", "integer", "smallint", "hugeint"}),
    float: frozenset({"double", "real", "decimal"}),
    str: frozenset({"varchar"}),
    bool: frozenset({"boolean"}),
    datetime: frozenset({"timestamp", "timestamptz"}),
    date: frozenset({"date"}),
}


def canonical_type(data_type: str) -> str:
    """The engine-independent name of a SQL type (parameters dropped, except decimals')."""
    text = re.sub(r"\s+", " ", data_type.strip().lower())
    base = re.sub(r"\s*\(.*\)", "", text)
    canonical = _ALIASES.get(base, base)
    if canonical == "decimal" and "(" in text:
        params = re.sub(r"\s", "", text[text.index("(") :])
        return f"decimal{params}"
    return canonical


@dataclass(frozen=True)
class Column:
    """One column of a contract: its name and declared (dbt) type."""

    name: str
    data_type: str


def diff_columns(
    table: str,
    expected: Iterable[tuple[str, str]],
    actual: Iterable[tuple[str, str]],
) -> list[str]:
    """Every difference between a contract and a table, one readable line per column.

    Names compare case-insensitively (PostgreSQL folds them), types by
    :func:`canonical_type`; a column missing, a column the contract does not have, and
    a type that differs are each reported.
    """
    want = {name.lower(): (name, data_type) for name, data_type in expected}
    have = {name.lower(): (name, data_type) for name, data_type in actual}
    problems = []
    for key, (name, data_type) in want.items():
        if key not in have:
            problems.append(
                f"{table}.{name}: in the contract ({data_type}), missing from the table"
            )
            continue
        if canonical_type(data_type) != canonical_type(have[key][1]):
            problems.append(
                f"{table}.{name}: the contract says {canonical_type(data_type)}, "
                f"the table has {canonical_type(have[key][1])}"
            )
    for key, (name, data_type) in have.items():
        if key not in want:
            problems.append(f"{table}.{name}: in the table ({data_type}), not in the contract")
    return problems


def diff_requirements(
    table: str, required: Mapping[str, type], contract: Iterable[tuple[str, str]]
) -> list[str]:
    """What the package reads (``column -> Python type``) that a contract does not provide."""
    have = {name.lower(): data_type for name, data_type in contract}
    problems = []
    for name, py_type in required.items():
        data_type = have.get(name.lower())
        if data_type is None:
            problems.append(f"{table}.{name}: the package reads it, the contract does not have it")
            continue
        family = PYTHON_TYPE_FAMILIES.get(py_type)
        if family is not None and canonical_type(data_type) not in family:
            problems.append(
                f"{table}.{name}: the package reads a {py_type.__name__}, "
                f"the contract says {canonical_type(data_type)}"
            )
    return problems


def dbt_published_tables(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The relations a snapshot publishes, read from dbt's ``target/manifest.json``.

    Every model with ``access: public`` (its contract columns and types), and every seed
    (reference data the package reads, with its declared ``column_types``). Each entry:
    ``name`` (model name), ``relation`` (table name: a versioned model's ``<name>_v<n>``),
    ``schema``, ``kind``, ``unique_id``, ``version``, ``latest_version``,
    ``contract_enforced`` and ``columns`` (``[{"name", "data_type"}]`` in order).
    """
    out = []
    for uid, node in manifest.get("nodes", {}).items():
        kind = node.get("resource_type")
        if kind == "model" and node.get("access") == "public":
            enforced = bool((node.get("contract") or {}).get("enforced"))
            columns = [
                {"name": c["name"], "data_type": c.get("data_type")}
                for c in node.get("columns", {}).values()
            ]
        elif kind == "seed":
            enforced = False
            types = (node.get("config") or {}).get("column_types") or {}
            columns = [{"name": k, "data_type": v} for k, v in types.items()]
        else:
            continue
        out.append(
            {
                "name": node["name"],
                "relation": node.get("alias") or node["name"],
                "schema": node["schema"],
                "kind": kind,
                "unique_id": uid,
                "version": node.get("version"),
                "latest_version": node.get("latest_version"),
                "contract_enforced": enforced,
                "columns": columns,
            }
        )
    return sorted(out, key=lambda t: (t["kind"], t["schema"], t["relation"]))
