"""What a build produced: rows per layer and per quarantine reason, the published
snapshot, where things are, and a few calls to try on it.

``make run`` ends with :func:`render` of :func:`collect`; ``dataproducts summary --json``
prints the same data for machines.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from dataproducts.errors import WarehouseError
from dataproducts.paths import default_duckdb_path

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
    from .publish import default_target_path

    docs = default_target_path() / "index.html"
    try:
        published, problem = _published(path), None
    except WarehouseError as exc:  # a damaged pointer or snapshot: say so, summarize the rest
        published, problem = None, str(exc)
    return {
        "warehouse": str(path),
        "docs": str(docs) if docs.exists() else None,
        "layers": layers,
        "quarantine": quarantine,
        "published": published,
        "published_problem": problem,
    }


def _published(warehouse: Path) -> dict[str, Any] | None:
    """The current snapshot next to ``warehouse``, and ids to try the API with."""
    from dataproducts.client import connect
    from dataproducts.snapshots import current, default_published_dir

    published = default_published_dir(warehouse)
    info = current(published)
    if info is None:
        return None
    with connect(published) as client:
        handle = client.handle()
        learner = handle.rows(
            "select learner_id from {recommendations} group by learner_id "
            "order by count(distinct module) desc, learner_id limit 1"
        )
        course = handle.rows(
            "select course_id from {similar_courses} group by course_id "
            "order by count(*) desc, course_id limit 1"
        )
        experiment = handle.rows(
            "select experiment_id from {experiment_health} "
            "order by is_srm_alarm, units_analysed desc, experiment_id limit 1"
        )
        coached = handle.rows("select learner_id from {coaching_queue} order by learner_id limit 1")
    return {
        "build_id": info.build_id,
        "created_at": info.created_at.isoformat(),
        "location": info.location,
        "rows": info.rows,
        "aliases": info.manifest.get("aliases", {}),
        "data_docs": (info.manifest.get("validation") or {}).get("data_docs_index"),
        "examples": {
            "learner_id": learner[0][0] if learner else None,
            "course_id": course[0][0] if course else None,
            "experiment_id": experiment[0][0] if experiment else None,
            "coached_learner_id": coached[0][0] if coached else None,
        },
    }


def _published_line(data: dict[str, Any]) -> str:
    pub = data.get("published")
    if pub:
        return str(pub["location"])
    if data.get("published_problem"):
        return f"unusable: {data['published_problem']}"
    return "nothing yet (run: dataproducts build)"


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
        pub = data.get("published")
        shipped = {*pub["rows"], *pub.get("aliases", {})} if pub else set()
        out.append("marts (published: the public ones, in the snapshot readers use):")
        out.extend(
            f"  marts.{name:<36} {n:>11,} rows{'  published' if name in shipped else ''}"
            for name, n in sorted(marts.items())
        )
    pub = data.get("published")
    out += [
        "",
        f"warehouse : {data['warehouse']}",
        f"published : {_published_line(data)}",
        f"docs      : {data['docs'] or 'not generated (run: make docs)'}",
    ]
    if pub and pub.get("data_docs"):
        out.append(f"data docs : {pub['data_docs']}")
    if pub:
        ex = pub["examples"]
        learner, course = ex["learner_id"], ex["course_id"]
        exp, coached = ex["experiment_id"], ex["coached_learner_id"]
        out += [
            "",
            f"published snapshot {pub['build_id']}: {len(pub['rows'])} tables, "
            f"{sum(pub['rows'].values()):,} rows. Try:",
            f"  .venv/bin/dataproducts recommend {learner} --limit 3",
            f"  .venv/bin/dataproducts similar {course} --limit 5",
            f"  .venv/bin/dataproducts assign {exp} {learner}",
            f"  .venv/bin/dataproducts experiment {exp}",
            f"  .venv/bin/dataproducts coaching {coached}",
            '  .venv/bin/python -c "import dataproducts; '
            f'print(dataproducts.connect().recommendations.for_learner({learner}, limit=3))"',
        ]
    out += [
        "",
        "next:",
        "  make docs                      # browse models, columns, lineage",
        "  make test                      # lint + tests on DuckDB, PostgreSQL and Spark",
        "  dataproducts snapshots         # published builds; `dataproducts rollback` undoes one",
        "  dataproducts --help            # the CLI",
    ]
    return "\n".join(out)
