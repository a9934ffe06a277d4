"""What a build produced: rows per layer and per quarantine reason, and where things are.

``make run`` ends with :func:`render` of :func:`collect`; ``dataproducts summary --json``
prints the same data for machines.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from .errors import WarehouseError
from .paths import REPO_ROOT, default_duckdb_path

#: Schemas in build order, with what a newcomer should know about each.
LAYERS: dict[str, str] = {
    "raw": "sources: what the loader wrote",
    "reference": "seeds: registries and catalogs owned by data scientists",
    "staging": "cleaned, typed, deduplicated; invalid rows quarantined",
    "intermediate": "product logic",
    "marts": "public, contracted tables: the API",
}


def collect(duckdb_path: Path | None = None) -> dict[str, Any]:
    """Row counts per layer and relation, and quarantined rows per table and reason."""
    import duckdb

    path = Path(duckdb_path or default_duckdb_path())
    if not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: run `make run` (or `dataproducts generate` then `dbt build`)."
        )
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        rels = con.execute(
            """
            select table_schema, table_name, table_type
            from information_schema.tables
            where table_schema in ('raw', 'reference', 'staging', 'intermediate', 'marts')
            order by table_schema, table_name
            """
        ).fetchall()
        layers: dict[str, dict[str, int]] = {s: {} for s in LAYERS}
        for schema, name, _kind in rels:
            n = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            layers[schema][name] = int(n)
        quarantine: list[dict[str, Any]] = []
        if "stg_raw__quarantine" in layers["staging"]:
            quarantine = [
                {"table": t, "reason": r, "rows": int(n)}
                for t, r, n in con.execute(
                    """
                    select source_table, reason, count(*)
                    from staging.stg_raw__quarantine
                    group by 1, 2
                    order by 1, 2
                    """
                ).fetchall()
            ]
    docs = REPO_ROOT / "target" / "index.html"
    return {
        "warehouse": str(path),
        "docs": str(docs) if docs.exists() else None,
        "layers": layers,
        "quarantine": quarantine,
    }


def render(data: dict[str, Any]) -> str:
    """A short human-readable summary."""
    out = ["", "dataproducts build summary", "=" * 26]
    out.append(f"{'layer':<13} {'relations':>9} {'rows':>13}  what it is")
    for schema, desc in LAYERS.items():
        rels = data["layers"].get(schema, {})
        out.append(f"{schema:<13} {len(rels):>9} {sum(rels.values()):>13,}  {desc}")
    out.append("")
    q = data["quarantine"]
    if q:
        out.append("quarantined raw rows (table / reason / rows):")
        out.extend(f"  {r['table']:<22} {r['reason']:<24} {r['rows']:>9,}" for r in q)
    else:
        out.append("quarantined raw rows: none (every raw row was staged or superseded)")
    marts = data["layers"].get("marts", {})
    if marts:
        out.append("")
        out.append("public marts:")
        out.extend(f"  marts.{name:<36} {n:>11,} rows" for name, n in sorted(marts.items()))
    out += [
        "",
        f"warehouse : {data['warehouse']}",
        f"docs      : {data['docs'] or 'not generated (run: make docs)'}",
        "",
        "next:",
        "  make docs                      # browse models, columns, lineage",
        "  make test                      # lint + tests on DuckDB and PostgreSQL",
        f"  duckdb -readonly {data['warehouse']}   # or any DuckDB client; read-only",
        "  dataproducts --help            # the CLI",
    ]
    return "\n".join(out)
