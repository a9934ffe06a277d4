"""The validation gate: consumer-side expectation suites run before a build is published.

dbt's tests check what the data scientists promise; this gate checks what the engineering
side relies on (:mod:`dataproducts_pipeline.expectations`, one suite per public mart) with
great-expectations 1.x, and builds its Data Docs HTML. A build is published only when the
gate passes.

>>> report = validate_build("warehouse/dataproducts.duckdb")  # doctest: +SKIP
>>> report.success, report.failures[:1]  # doctest: +SKIP
(True, [])
>>> print(report.summary())  # doctest: +SKIP
validation passed: 7 marts, 120 expectations, 0 failures in 3.3 s
Data Docs: warehouse/data_docs/index.html

How tables are read: DuckDB tables through pandas (great-expectations 1.x has no working
DuckDB engine), and PostgreSQL tables through pandas as well for now: GX's native SQL
datasource needs SQLAlchemy, which is not among the project's pinned packages.

The data context is ephemeral (in memory): nothing is written anywhere except the Data
Docs under ``data_docs_dir`` (default ``warehouse/data_docs/``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dataproducts.errors import ConfigurationError, WarehouseError
from dataproducts.paths import REPO_ROOT

from .expectations import SUITES, MartSuite

#: Where the Data Docs go unless told otherwise.
DEFAULT_DATA_DOCS_DIR = REPO_ROOT / "warehouse" / "data_docs"
#: The schema of the marts in a freshly built warehouse.
MARTS_SCHEMA = "marts"
_DOCS_SITE = "dataproducts"
_PG_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg2://")
#: The most rows of a mart with a ``part_by`` column (see
#: :class:`~dataproducts_pipeline.expectations.MartSuite`) the gate holds in memory at
#: once: a bigger mart is read and checked in parts of about this many rows (at
#: ``large``, ``recommendations`` in 11 parts instead of 55 million rows in one frame).
#: Measured at ``large`` (a publish, copy and gate): 10 million rows a part peaked at
#: 10.2 GB, 5 million at 8.4 GB in the same 73 s, 2 million at 6.5 GB in 85 s.
ROWS_PER_PART = 5_000_000


@dataclass(frozen=True)
class Parts:
    """A mart as the gate reads it: ``count`` frames, each read when asked for (one when
    the mart is checked whole)."""

    count: int
    frames: Iterable[pd.DataFrame]


@dataclass(frozen=True)
class ArrowParts:
    """A mart as a publisher hands it to :func:`validate_arrow_tables`: ``count`` Arrow
    tables (the parts of :func:`part_predicates`), each read when asked for."""

    count: int
    tables: Iterable[Any]


def part_count(relation: str, rows: int) -> int:
    """How many parts the gate reads ``relation`` in, given its row count: one unless its
    suite has a ``part_by`` column and it holds more than :data:`ROWS_PER_PART` rows."""
    suite = SUITES.get(_unversioned(relation))
    if suite is None or suite.part_by is None or rows <= ROWS_PER_PART:
        return 1
    return -(-rows // ROWS_PER_PART)


def part_predicates(relation: str, rows: int, engine: str = "duckdb") -> list[str | None]:
    """SQL conditions (``engine``: ``duckdb`` or ``postgres``) that split ``relation``
    into the parts the gate reads it in, by a hash of its suite's ``part_by`` column: each
    row in exactly one part, all rows of a value in the same part. ``[None]``: one part,
    the whole table."""
    k = part_count(relation, rows)
    if k == 1:
        return [None]
    column = _quote(SUITES[_unversioned(relation)].part_by or "")
    bucket = {
        "duckdb": f"hash({column}) % {k}",
        "postgres": f"abs(mod(hashtextextended({column}::text, 0), {k}))",
    }[engine]
    return [f"{bucket} = {i}" for i in range(k)]


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of the gate.

    ``failures`` name the mart and the expectation, e.g. ``"coaching_queue:
    expect_column_values_to_not_match_regex(column=rendered_text, ...) failed — ..."``.
    ``row_counts`` (rows per mart) are what a publisher records in its manifest so that
    the next build can be compared with this one.
    """

    success: bool
    failures: list[str]
    data_docs_index: Path | None
    row_counts: dict[str, int] = field(default_factory=dict)
    expectations_run: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        total = sum(self.seconds.values())
        head = (
            f"validation {'passed' if self.success else 'FAILED'}: {len(self.row_counts)} marts, "
            f"{self.expectations_run} expectations, {len(self.failures)} failures in {total:.1f} s"
        )
        lines = [head, *(f"  - {f}" for f in self.failures)]
        if self.data_docs_index is not None:
            lines.append(f"Data Docs: {self.data_docs_index}")
        return "\n".join(lines)


def previous_row_counts(manifest: Mapping[str, Any] | None) -> dict[str, int]:
    """Rows per mart recorded in a previous snapshot's manifest.

    Accepted shapes (the first found wins): ``{"row_counts": {mart: n}}``,
    ``{"tables": {mart: {"row_count": n}}}`` (or ``"rows"``), ``{"tables": [{"name": mart,
    "row_count": n}]}``, and the same under ``"marts"``. Versioned names
    (``recommendations_v1``) count for the mart (``recommendations``).
    """
    if not manifest:
        return {}
    found: dict[str, int] = {}

    def put(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            value = value.get("row_count", value.get("rows"))
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        found.setdefault(_unversioned(name), int(value))

    counts = manifest.get("row_counts")
    if isinstance(counts, Mapping):
        for name, value in counts.items():
            put(str(name), value)
    for key in ("tables", "marts"):
        tables = manifest.get(key)
        if isinstance(tables, Mapping):
            for name, value in tables.items():
                put(str(name), value)
        elif isinstance(tables, list):
            for item in tables:
                if isinstance(item, Mapping) and "name" in item:
                    put(str(item["name"]), item)
    return found


def preload() -> threading.Thread:
    """Start importing great-expectations in a background thread, and return the thread.

    The import costs seconds of CPU on a cold start; a caller with other work to wait for
    (``dataproducts build`` waits for dbt) overlaps it, and the gate that follows finds
    the module loaded (or waits for this import to finish: importing is idempotent and
    Python's import lock serializes it). Not a daemon thread: a process ending meanwhile
    waits for the import instead of tearing it down half way.
    """
    thread = threading.Thread(target=_import_gx, name="dataproducts-gx-import")
    thread.start()
    return thread


def _import_gx() -> None:
    import great_expectations  # noqa: F401


def validate_build(
    source: Path | str,
    previous_manifest: Mapping[str, Any] | None = None,
    *,
    data_docs_dir: Path | str | None = None,
    schema: str = MARTS_SCHEMA,
    suites: Iterable[MartSuite] | None = None,
    run_name: str | None = None,
) -> ValidationReport:
    """Run every public mart's suite on ``source`` and build the Data Docs.

    ``source``: a DuckDB file, or a PostgreSQL URL (``postgresql://user@host:port/db``; a
    libpq ``"host=... dbname=..."`` string works too), holding the built ``marts.*``.
    ``previous_manifest``: the current snapshot's manifest; its row counts bound this
    build's (see :class:`~dataproducts_pipeline.expectations.MartSuite`); none skips that check.
    ``run_name`` labels the run in the Data Docs (e.g. the build id; default
    ``dataproducts-validate``). A missing mart is a failure, not an exception.

    Raises :class:`ConfigurationError` when ``source`` is neither an existing DuckDB file
    nor a PostgreSQL URL, and :class:`WarehouseError` when it cannot be opened.
    """
    with _reader(source, schema) as read:
        return _validate(
            read,
            _describe_source(source),
            previous_manifest,
            data_docs_dir=data_docs_dir,
            schema=schema,
            suites=suites,
            run_name=run_name,
        )


def validate_arrow_tables(
    tables: Mapping[str, Any],
    previous_manifest: Mapping[str, Any] | None = None,
    *,
    data_docs_dir: Path | str | None = None,
    schema: str = MARTS_SCHEMA,
    run_name: str | None = None,
) -> ValidationReport:
    """:func:`validate_build` on marts read as Arrow tables (relation name ->
    ``pyarrow.Table``, a ``concurrent.futures.Future`` of one, or :class:`ArrowParts`;
    ``recommendations_v1`` counts for ``recommendations``): the publisher's, whose
    mapping reads each mart from the build it copies when asked. Suites run in the order
    of ``tables``, then the rest. A whole table that its suite would read in parts (see
    :func:`part_count`) is checked in parts too."""

    def read(mart: str, categorical: Collection[str] = ()) -> Parts | None:
        relation = _resolve(tables, mart)
        if relation is None:
            return None
        table = tables[relation]
        if isinstance(table, ArrowParts):
            return Parts(table.count, (_to_pandas(t, categorical) for t in table.tables))
        if isinstance(table, Future):
            table = table.result()
        k = part_count(relation, table.num_rows)
        if k == 1:
            return Parts(1, [_to_pandas(table, categorical)])
        column = SUITES[mart].part_by
        bucket = pd.util.hash_array(table.column(column).to_numpy(zero_copy_only=False)) % k
        return Parts(k, (_to_pandas(table.filter(bucket == i), categorical) for i in range(k)))

    first = [SUITES[m] for m in dict.fromkeys(map(_unversioned, tables)) if m in SUITES]
    return _validate(
        read,
        f"the build's {schema} tables",
        previous_manifest,
        data_docs_dir=data_docs_dir,
        schema=schema,
        suites=[*first, *(s for s in SUITES.values() if s not in first)],
        run_name=run_name,
    )


def _validate(
    read: Callable[[str, Collection[str]], Parts | None],
    where: str,
    previous_manifest: Mapping[str, Any] | None,
    *,
    data_docs_dir: Path | str | None,
    schema: str,
    suites: Iterable[MartSuite] | None,
    run_name: str | None,
) -> ValidationReport:
    timings: dict[str, float] = {"read": 0.0}
    chosen = list(SUITES.values() if suites is None else suites)
    docs_dir = Path(data_docs_dir) if data_docs_dir is not None else DEFAULT_DATA_DOCS_DIR

    started = time.perf_counter()
    import great_expectations  # noqa: F401  (seconds on a cold start: timed on its own)
    from great_expectations.core.run_identifier import RunIdentifier

    timings["import"] = time.perf_counter() - started

    started = time.perf_counter()
    context = _context(docs_dir)
    datasource = context.data_sources.add_pandas(name=schema)
    run_id = RunIdentifier(run_name=run_name or "dataproducts-validate")
    previous = previous_row_counts(previous_manifest)
    failures: list[str] = []
    row_counts: dict[str, int] = {}
    n_expectations = 0
    # One mart at a time: read (or take the publisher's table), validate, let go.
    with _without_batch_fingerprint():
        for suite in chosen:
            read_started = time.perf_counter()
            parts = read(suite.mart, suite.group_columns())
            timings["read"] += time.perf_counter() - read_started
            if parts is None:
                failures.append(
                    f"{suite.mart}: table missing — no {schema}.{suite.mart} (nor a versioned "
                    f"{suite.mart}_vN) in {where}; did dbt build it?"
                )
                continue
            previous_rows = previous.get(suite.mart)
            n_expectations += len(suite.checks(previous_rows))
            gx_run = _GxRun(context, datasource, run_id, suite)
            frames = iter(parts.frames)
            if parts.count == 1:
                read_started = time.perf_counter()
                frame = next(frames)
                timings["read"] += time.perf_counter() - read_started
                row_counts[suite.mart] = len(frame)
                result = gx_run(suite.mart, suite.checks(previous_rows), suite.prepare(frame))
                del frame
                failures.extend(
                    _describe_failure(suite.mart, r) for r in result.results if not r.success
                )
                continue
            # In parts: the rules within groups on each part, then the rules of the whole
            # table on their columns of every part.
            whole: list[pd.DataFrame] = []
            for number in range(1, parts.count + 1):
                read_started = time.perf_counter()
                frame = next(frames)
                timings["read"] += time.perf_counter() - read_started
                whole.append(frame[list(suite.whole_columns())])
                name = f"{suite.mart}_part_{number}_of_{parts.count}"
                result = gx_run(name, suite.part_checks(), suite.prepare(frame))
                del frame
                where_part = f"part {number} of {parts.count}, by {suite.part_by}"
                failures.extend(
                    _describe_failure(suite.mart, r, where_part)
                    for r in result.results
                    if not r.success
                )
            table = pd.concat(whole, ignore_index=True) if whole else pd.DataFrame()
            del whole
            row_counts[suite.mart] = len(table)
            result = gx_run(suite.mart, suite.whole_checks(previous_rows), table)
            del table
            failures.extend(
                _describe_failure(suite.mart, r) for r in result.results if not r.success
            )
    timings["validate"] = time.perf_counter() - started - timings["read"]

    started = time.perf_counter()
    index = _build_docs(context, docs_dir)
    timings["data_docs"] = time.perf_counter() - started

    return ValidationReport(
        success=not failures,
        failures=failures,
        data_docs_index=index,
        row_counts=row_counts,
        expectations_run=n_expectations,
        seconds=timings,
    )


# --- reading the marts ------------------------------------------------------------------


def _is_postgres(source: Path | str) -> bool:
    text = str(source)
    return text.startswith(_PG_PREFIXES) or ("dbname=" in text and not Path(text).exists())


def _describe_source(source: Path | str) -> str:
    if _is_postgres(source):
        from dataproducts.dsn import mask_dsn

        return "PostgreSQL " + mask_dsn(source)
    return f"DuckDB {source}"


def _unversioned(name: str) -> str:
    return re.sub(r"_v\d+$", "", name)


def gated_relations(relations: Iterable[str]) -> set[str]:
    """The relations among ``relations`` that the gate reads: one per suite (see
    :func:`_resolve`)."""
    names = set(relations)
    return {r for r in (_resolve(names, mart) for mart in SUITES) if r is not None}


def _resolve(tables: Iterable[str], mart: str) -> str | None:
    """The relation of ``mart``: its latest version's table ``<mart>_vN``, else ``<mart>``.

    The unsuffixed name of a versioned mart is a view on the latest version; the table is
    read instead, because a DuckDB view names its database and breaks in a renamed copy.
    """
    names = set(tables)
    versions = [
        (int(m.group(1)), n) for n in names if (m := re.fullmatch(rf"{re.escape(mart)}_v(\d+)", n))
    ]
    if versions:
        return max(versions)[1]
    return mart if mart in names else None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _widened(table: Any) -> Any:
    """The Arrow table with narrow integers as int64 and float32 as float64 (same values).

    great-expectations' pandas ``between`` is vectorized only for int64 and float64
    columns; on an int32 column (a rank) it calls a Python function per row.
    """
    import pyarrow as pa

    def wide(t: Any) -> Any:
        if pa.types.is_integer(t) and t.bit_width < 64:
            return pa.int64()
        return pa.float64() if pa.types.is_float32(t) else t

    schema = pa.schema([f.with_type(wide(f.type)) for f in table.schema])
    return table if schema.equals(table.schema) else table.cast(schema)


def _to_pandas(table: Any, categorical: Collection[str]) -> pd.DataFrame:
    """An Arrow table as the DataFrame the suites check (see :func:`_widened`,
    :func:`_dictionary_encoded`); the table itself is left as it is."""
    return _dictionary_encoded(_widened(table), categorical).to_pandas()


def _dictionary_encoded(table: Any, columns: Collection[str]) -> Any:
    """The Arrow table with its text ``columns`` dictionary-encoded (pandas categoricals:
    the same values, grouped by integer code; see :class:`~dataproducts_pipeline.expectations.Rule`)."""
    import pyarrow as pa

    for name in columns:
        index = table.schema.get_field_index(name)
        if index < 0:
            continue
        kind = table.schema.field(index).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            table = table.set_column(index, name, table.column(index).dictionary_encode())
    return table


@contextmanager
def _reader(
    source: Path | str, schema: str
) -> Iterator[Callable[[str, Collection[str]], Parts | None]]:
    """A function reading one mart as :class:`Parts` (None when missing), over one
    connection."""
    if _is_postgres(source):
        with _postgres_reader(str(source), schema) as read:
            yield read
        return
    path = Path(source)
    if not path.is_file():
        raise ConfigurationError(
            f"no DuckDB warehouse at {path}: pass the file dbt built (e.g. "
            "warehouse/dataproducts.duckdb) or a postgresql:// URL."
        )
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseError(
            f"cannot open {path} read-only ({exc}); is a dbt build still writing it?"
        ) from exc
    with closing(con):
        yield _duckdb_read(con, None, schema)


def _duckdb_read(
    con: Any, catalog: str | None, schema: str
) -> Callable[[str, Collection[str]], Parts | None]:
    """Read marts of ``catalog.schema`` (default: the connection's database) through ``con``."""
    # Text as Arrow large_string, the layout pandas' string columns use: no conversion.
    con.execute("set arrow_large_buffer_size = true")
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_catalog = coalesce(?, current_database())",
            [schema, catalog],
        ).fetchall()
    ]
    prefix = f"{_quote(catalog)}." if catalog else ""

    def read(mart: str, categorical: Collection[str] = ()) -> Parts | None:
        relation = _resolve(tables, mart)
        if relation is None:
            return None
        query = f"select * from {prefix}{_quote(schema)}.{_quote(relation)}"
        (rows,) = con.execute(f"select count(*) from ({query})").fetchone()
        predicates = part_predicates(relation, rows, "duckdb")

        def frames() -> Iterator[pd.DataFrame]:
            for predicate in predicates:
                where = f" where {predicate}" if predicate else ""
                # Through Arrow: several times faster than .df() on text columns.
                yield _to_pandas(con.execute(query + where).to_arrow_table(), categorical)

        return Parts(len(predicates), frames())

    return read


@contextmanager
def _postgres_reader(
    dsn: str, schema: str
) -> Iterator[Callable[[str, Collection[str]], Parts | None]]:
    import psycopg2
    from psycopg2 import sql

    dsn = dsn.replace("postgresql+psycopg2://", "postgresql://", 1)
    try:
        con = psycopg2.connect(dsn)
    except psycopg2.Error as exc:
        from dataproducts.dsn import scrub

        raise WarehouseError(
            f"cannot connect to {_describe_source(dsn)}: {scrub(exc, dsn)}".strip()
        ) from None
    with closing(con):
        # One read-only transaction: every mart is read from the same state of the database.
        con.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with con.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                (schema,),
            )
            tables = [r[0] for r in cur.fetchall()]

            def read(mart: str, categorical: Collection[str] = ()) -> Parts | None:
                relation = _resolve(tables, mart)
                if relation is None:
                    return None
                table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(relation))
                cur.execute(sql.SQL("select count(*) from {}").format(table))
                (rows,) = cur.fetchone()
                predicates = part_predicates(relation, rows, "postgres")

                def frames() -> Iterator[pd.DataFrame]:
                    for predicate in predicates:
                        where = sql.SQL(" where " + predicate) if predicate else sql.SQL("")
                        cur.execute(sql.SQL("select * from {}").format(table) + where)
                        columns = [c.name for c in cur.description]
                        frame = pd.DataFrame(cur.fetchall(), columns=columns)
                        for name in categorical:
                            if name in frame and pd.api.types.is_string_dtype(frame[name].dtype):
                                frame[name] = frame[name].astype("category")
                        yield frame

                return Parts(len(predicates), frames())

            yield read
        con.rollback()


# --- great-expectations -----------------------------------------------------------------


def _context(docs_dir: Path) -> Any:
    """An in-memory data context whose only output is the Data Docs site in ``docs_dir``."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={
            _DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@contextmanager
def _without_batch_fingerprint() -> Iterator[None]:
    """Skip the md5 of every row that great-expectations' pandas engine takes of a batch
    under 1 GB (``pandas_data_fingerprint``, a batch marker nothing here reads; GX itself
    skips it above 1 GB): a second per million rows, for no check."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    saved = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = saved


class _GxRun:
    """Runs checks of ``suite`` on a frame as a validation of its own (an asset, a suite
    and a validation definition named ``name``: the mart, or one of its parts), under
    ``run_id``."""

    def __init__(self, context: Any, datasource: Any, run_id: Any, suite: MartSuite) -> None:
        self.context, self.datasource, self.run_id, self.suite = context, datasource, run_id, suite

    def __call__(self, name: str, checks: list, frame: pd.DataFrame) -> Any:
        import great_expectations as gx

        asset = self.datasource.add_dataframe_asset(name=name)
        batch = asset.add_batch_definition_whole_dataframe("build")
        gx_suite = self.context.suites.add(
            gx.ExpectationSuite(
                name=name,
                expectations=[c.build() for c in checks],
                meta={
                    "notes": {
                        "format": "markdown",
                        "content": [f"**{self.suite.mart}**: {self.suite.purpose}"],
                    }
                },
            )
        )
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=gx_suite)
        )
        try:
            return definition.run(
                batch_parameters={"dataframe": frame}, result_format="BASIC", run_id=self.run_id
            )
        finally:
            self._let_go()

    def _let_go(self) -> None:
        """Drop every frame the datasource's execution engine still holds.

        great-expectations 1.x keeps each batch it validated, data and all, in its
        execution engine's batch manager for as long as the context lives: without this
        the gate held every mart (and every part of one) it had checked, so reading
        ``recommendations`` in parts saved nothing (14.7 GB at ``large``, growing by one
        part's frame per part). The results are kept; only the data goes.
        """
        manager = self.datasource.get_execution_engine().batch_manager
        manager.batch_data_cache.clear()
        manager.reset_batch_cache()


def _describe_failure(mart: str, result: Any, where: str = "") -> str:
    config = result.expectation_config
    args = ", ".join(
        f"{k}={_short(v)}"
        for k, v in config.kwargs.items()
        if k not in {"batch_id", "result_format", "catch_exceptions"} and v is not None
    )
    details = [where] if where else []
    info = result.exception_info or {}
    messages = [info.get("exception_message")] if "exception_message" in info else []
    messages += [v.get("exception_message") for v in info.values() if isinstance(v, Mapping)]
    messages = [m for m in messages if m]
    if messages:
        details.append(f"raised: {messages[0]}")
    res = result.result or {}
    if res.get("observed_value") is not None:
        details.append(f"observed {_short(res['observed_value'])}")
    if res.get("unexpected_count"):
        sample = res.get("partial_unexpected_list") or []
        details.append(
            f"{res['unexpected_count']} unexpected row(s)"
            + (f", e.g. {_short(sample[:3])}" if sample else "")
        )
    return f"{mart}: {config.type}({args}) failed — {config.description or ''}" + (
        f" [{'; '.join(details)}]" if details else ""
    )


def _plain(value: Any) -> Any:
    """numpy scalars and containers of them as plain Python values, for readable messages."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _short(value: Any, limit: int = 160) -> str:
    value = _plain(value)
    if isinstance(value, str):
        text = value
    elif isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        text = "[" + ", ".join(value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build_docs(context: Any, docs_dir: Path) -> Path:
    # Pages of earlier runs would linger unlinked; the index is rebuilt from this run.
    for stale in ("validations", "expectations"):
        shutil.rmtree(docs_dir / stale, ignore_errors=True)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.build_data_docs(site_names=[_DOCS_SITE])
    serve_assets_locally(docs_dir)
    return docs_dir.resolve() / "index.html"


#: The Data Docs' CDN assets (great-expectations' templates), and their copies in
#: ``data_docs_assets/`` (see its README: versions, licenses).
ASSETS_DIR = Path(__file__).parent / "data_docs_assets"
_BT = "https://unpkg.com/bootstrap-table@1.19"
CDN_ASSETS: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js-1.12.9/popper.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap-4.3.1/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap-4.3.1/bootstrap.min.js"
    ),
    f"{_BT}.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/bootstrap-table.min.css",
    f"{_BT}.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/bootstrap-table.min.js",
    **{
        f"{_BT}.{patch}/dist/extensions/filter-control/bootstrap-table-filter-control{ext}": (
            f"bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control{ext}"
        )
        for patch in ("0", "1")
        for ext in (".css", ".min.css", ".min.js")
    },
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free-6.6.0/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
}
#: A script or stylesheet loaded from the network (links to web pages stay links).
_REMOTE_ASSET = re.compile(
    r"<(?:script\b[^>]*?\bsrc|link\b[^>]*?\bhref)\s*=\s*[\"'](https?://[^\"']+)[\"']", re.I
)


def serve_assets_locally(docs_dir: Path) -> None:
    """Rewrite the Data Docs' CDN scripts and stylesheets to copies in ``static/vendor/``,
    so the pages render offline. A remote asset without a copy raises
    :class:`ConfigurationError` (a great-expectations upgrade that adds one: vendor it)."""
    vendor = docs_dir / "static" / "vendor"
    shutil.copytree(
        ASSETS_DIR, vendor, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md")
    )
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        unknown = sorted({u for u in _REMOTE_ASSET.findall(text) if u not in CDN_ASSETS})
        if unknown:
            raise ConfigurationError(
                f"Data Docs page {page} loads {', '.join(unknown)} from the network: add a "
                f"copy to {ASSETS_DIR} and to validation.CDN_ASSETS."
            )
        static = Path(os.path.relpath(docs_dir / "static", page.parent)).as_posix()
        for url, local in CDN_ASSETS.items():
            text = text.replace(f'"{url}"', f'"{static}/vendor/{local}"')
        # great-expectations' own static files, at the page's real depth (its validation
        # pages, four levels down, point three levels up for the favicon)
        text = re.sub(r"""(\b(?:src|href)=["'])(?:\.\.?/)*static/""", rf"\g<1>{static}/", text)
        page.write_text(text, encoding="utf-8")
