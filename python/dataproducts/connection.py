"""The thin connection layer under the product readers.

A :class:`Handle` is one opened, contract-checked snapshot (or a live warehouse): it turns
a query written once — relations in braces, ``?`` placeholders — into the engine's SQL,
runs it with parameters (never string-formatted values), and hands each thread its own
DuckDB cursor or PostgreSQL connection. A :class:`Source` says which handle is current:
a published directory follows its ``CURRENT`` pointer, a PostgreSQL database its pointer
row, a file or a schema is fixed. Readers take one handle per call, so every call reads
exactly one build.

>>> render_sql("select * from {recommendations} where learner_id = ?",
...            {"recommendations": '"marts"."recommendations_v1"'}, "postgres")
'select * from "marts"."recommendations_v1" where learner_id = %s'
"""

from __future__ import annotations

import contextlib
import os
import string
import threading
import time
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from .arguments import as_id, as_limit, as_text
from .contract import canonical_type, diff_columns, diff_requirements
from .errors import (
    ContractError,
    DataProductsError,
    InvalidArgumentError,
    NotPublishedError,
    SnapshotCorruptError,
    WarehouseError,
)
from .snapshots import (
    MANIFEST_FILE,
    META_SCHEMA,
    POINTER_FILE,
    RECOVER,
    SNAPSHOT_FILE,
    load_manifest,
    load_snapshot,
    pg_connect,
    pg_read_pointer,
    read_pointer,
)

__all__ = ["as_id", "as_limit", "as_text"]  # re-exported for the readers

#: What the package reads: relation name -> column -> Python type.
Requirements = Mapping[str, Mapping[str, type]]
ReaderT = typing.TypeVar("ReaderT", bound="Reader")


def render_sql(sql: str, relations: Mapping[str, str], engine: str) -> str:
    """Put the quoted relations in, and the engine's parameter placeholder."""
    text = sql.format_map(relations)
    return text.replace("?", "%s") if engine == "postgres" else text


def dataclass_columns(cls: type) -> dict[str, type]:
    """``field -> Python type`` of a dataclass (``X | None`` counts as ``X``)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        out[f.name] = args[0] if args and typing.get_origin(hint) is not None else hint
    return out


def arrow_frame(table: Any) -> pd.DataFrame:
    """A pyarrow table as the DataFrame DuckDB's ``.df()`` gives, several times faster.

    Same dtypes as ``.df()``: an integer column with nulls as a nullable ``Int64``-like
    column (not float), a date as ``datetime64``; text as pandas' string dtype.
    """
    import pyarrow as pa

    frame = table.to_pandas(date_as_object=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_integer(f.type) and table.column(i).null_count:
            dtype = pd.api.types.pandas_dtype(
                str(f.type).replace("int", "Int").replace("uInt", "UInt")
            )
            frame.isetitem(i, table.column(i).to_pandas(types_mapper={f.type: dtype}.get))
        elif pa.types.is_date(f.type):
            frame.isetitem(i, frame.iloc[:, i].astype("datetime64[us]"))
    return frame


def _is_engine_error(exc: BaseException) -> bool:
    """An exception of DuckDB or psycopg2 (without importing either)."""
    return type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb", "psycopg2")


@contextlib.contextmanager
def engine_errors(what: str) -> typing.Iterator[None]:
    """An engine's exception inside the block becomes a :class:`WarehouseError` about
    ``what``: callers of the package see its typed errors only."""
    try:
        yield
    except DataProductsError:
        raise
    except Exception as exc:
        if not _is_engine_error(exc):
            raise
        raise WarehouseError(
            f"reading {what} failed: {str(exc).strip()}. If the client was closed, connect "
            "again; if the snapshot changed under it, retry the call."
        ) from exc


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Table:
    """A relation a handle can read: where it is and its columns (name, canonical type)."""

    schema: str
    relation: str
    columns: tuple[tuple[str, str], ...]
    rows: int | None = None

    @property
    def sql(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.relation)}"


class Handle:
    """One snapshot (or live warehouse), opened read-only and checked against its contract."""

    engine: str

    def __init__(
        self,
        build_id: str | None,
        tables: Mapping[str, Table],
        aliases: Mapping[str, str],
        manifest: Mapping[str, Any] | None,
        description: str,
    ) -> None:
        self.build_id = build_id
        self.tables = dict(tables)
        self.aliases = dict(aliases)
        self.manifest = manifest
        self.description = description
        self._sql_cache: dict[str, str] = {}

    # -- what it holds ---------------------------------------------------------------
    def table(self, name: str) -> Table | None:
        """A relation by name: a table name, or a versioned model's unversioned name."""
        return self.tables.get(name) or self.tables.get(self.aliases.get(name, ""))

    def require(self, name: str) -> Table:
        table = self.table(name)
        if table is None:
            have = ", ".join(sorted({*self.tables, *self.aliases})) or "nothing"
            raise WarehouseError(
                f"{name} is not in {self.description} (it holds: {have}). Publish a build "
                "that has it (`dataproducts build`), or ask its owner to make it public."
            )
        return table

    def check(self, requirements: Requirements) -> None:
        """ContractError when a table the package reads lacks a column or has another type."""
        problems: list[str] = []
        for name, required in requirements.items():
            table = self.table(name)
            if table is not None:
                problems += diff_requirements(name, required, table.columns)
        if problems:
            raise ContractError(
                f"{self.description} does not hold what this version of the package reads: "
                + "; ".join(problems)
                + ". Upgrade the package, or publish (or roll back to) a build with that contract."
            )

    # -- running queries -------------------------------------------------------------
    def sql(self, query: str) -> str:
        """``query`` for this engine: ``{name}`` becomes the quoted relation, ``?`` the
        engine's placeholder."""
        cached = self._sql_cache.get(query)
        if cached is None:
            names = {f for _, f, _, _ in string.Formatter().parse(query) if f}
            relations = {n: self.require(n).sql for n in names}
            cached = self._sql_cache[query] = render_sql(query, relations, self.engine)
        return cached

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple]:
        """The rows of ``query`` (relations in braces, values as ``?`` parameters)."""
        raise NotImplementedError

    def frame(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """The same, as a DataFrame (bulk reads)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release this handle's connections (readers still using it get an error)."""


# --- DuckDB -----------------------------------------------------------------------------


class DuckDBHandle(Handle):
    engine = "duckdb"

    def __init__(self, path: Path, manifest: Mapping[str, Any] | None, requirements: Requirements):
        import duckdb

        self.path = path
        if manifest is not None and not path.is_file():
            raise SnapshotCorruptError(f"{path} is missing: the snapshot is incomplete; {RECOVER}.")
        try:
            self._con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            if manifest is not None:
                raise SnapshotCorruptError(
                    f"cannot open the snapshot file {path} ({str(exc).strip()}); {RECOVER}."
                ) from exc
            if not isinstance(exc, duckdb.IOException):
                raise WarehouseError(f"cannot open {path} as a DuckDB database: {exc}") from exc
            raise WarehouseError(
                f"cannot open {path} read-only: {exc}. If dbt is building it right now, read "
                "the published snapshot instead (dataproducts.connect() with no argument)."
            ) from exc
        self._lock = threading.Lock()
        self._local = threading.local()
        try:
            # Lookups touch one row group: a query runs on its caller's thread, no worker
            # hand-off (threads of a service query side by side). Text reaches pandas as
            # Arrow large_string, the layout of its string columns: no conversion.
            self._con.execute("set threads = 1")
            self._con.execute("set arrow_large_buffer_size = true")
            actual = self._actual_columns()
            if manifest is not None:
                build_id, tables, aliases = self._published(manifest, actual)
                description = f"snapshot {build_id} ({path.parent})"
            else:
                build_id, aliases = None, {}
                tables = {
                    t: Table(s, t, tuple(cols))
                    for (s, t), cols in actual.items()
                    if s in ("marts", "reference")
                }
                description = f"the DuckDB warehouse {path}"
            super().__init__(build_id, tables, aliases, manifest, description)
            self.check(requirements)
        except BaseException:
            self._con.close()
            raise

    def _actual_columns(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in self._con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_catalog = current_database() "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall():
            out.setdefault((schema, table), []).append((column, canonical_type(data_type)))
        return out

    def _published(
        self, manifest: Mapping[str, Any], actual: Mapping[tuple[str, str], list]
    ) -> tuple[str, dict[str, Table], dict[str, str]]:
        import duckdb

        build_id = str(manifest["build_id"])
        try:
            stored = self._con.execute(f"select build_id from {META_SCHEMA}.snapshot").fetchone()
        except duckdb.Error as exc:
            raise SnapshotCorruptError(
                f"{self.path} is not a published snapshot file (no {META_SCHEMA}.snapshot: "
                f"{str(exc).strip()}); {RECOVER}."
            ) from exc
        if stored is None or stored[0] != build_id:
            raise ContractError(
                f"{self.path} holds build {stored and stored[0]!r} but its manifest says "
                f"{build_id!r}: the snapshot directory was tampered with; roll back or republish."
            )
        tables = {}
        problems = []
        for relation, t in manifest["tables"].items():
            expected = [(c["name"], c["data_type"]) for c in t["columns"]]
            have = actual.get((t["schema"], relation))
            if have is None:
                problems.append(f"{t['schema']}.{relation}: in the manifest, missing from the file")
                continue
            problems += diff_columns(f"{t['schema']}.{relation}", expected, have)
            tables[relation] = Table(t["schema"], relation, tuple(have), t.get("rows"))
        if problems:
            raise ContractError(
                f"snapshot {build_id} in {self.path.parent} does not match its published "
                "contract: " + "; ".join(problems) + ". Roll back (`dataproducts rollback`) "
                "or publish a new build."
            )
        return build_id, tables, dict(manifest.get("aliases", {}))

    def _cursor(self) -> Any:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self._local.cursor = self._con.cursor()
        return cur

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple]:
        with engine_errors(self.description):
            return self._cursor().execute(self.sql(query), params).fetchall()

    def frame(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with engine_errors(self.description):
            table = self._cursor().execute(self.sql(query), params).to_arrow_table()
        return arrow_frame(table)

    def close(self) -> None:
        with self._lock:
            self._con.close()


# --- PostgreSQL -------------------------------------------------------------------------


class _PgPool:
    """One read-only autocommit connection per thread (psycopg2 serializes a connection)."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def get(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            con = pg_connect(self.dsn)
            con.set_session(readonly=True, autocommit=True)
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def close(self) -> None:
        with self._lock:
            for con in self._all:
                with contextlib.suppress(Exception):
                    con.close()
            self._all.clear()


class PostgresHandle(Handle):
    engine = "postgres"

    def __init__(
        self,
        pool: _PgPool,
        requirements: Requirements,
        schema: str | None = None,
        manifest: Mapping[str, Any] | None = None,
    ):
        self._pool = pool
        with engine_errors("the PostgreSQL catalog"), pool.get().cursor() as cur:
            schemas = [schema] if manifest is not None else [schema or "marts", "reference"]
            cur.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns where table_schema = any(%s) "
                "order by table_schema, table_name, ordinal_position",
                (schemas,),
            )
            actual: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for s, t, c, d in cur.fetchall():
                actual.setdefault((s, t), []).append((c, canonical_type(d)))
        if manifest is not None:
            assert schema is not None
            build_id = str(manifest["build_id"])
            tables, problems = {}, []
            for relation, t in manifest["tables"].items():
                have = actual.get((schema, relation))
                if have is None:
                    problems.append(f"{schema}.{relation}: in the manifest, missing")
                    continue
                expected = [(c["name"], c["data_type"]) for c in t["columns"]]
                problems += diff_columns(f"{schema}.{relation}", expected, have)
                tables[relation] = Table(schema, relation, tuple(have), t.get("rows"))
            if problems:
                raise ContractError(
                    f"snapshot {build_id} (schema {schema}) does not match its published "
                    "contract: " + "; ".join(problems) + ". Roll back or publish a new build."
                )
            aliases = dict(manifest.get("aliases", {}))
            description = f"snapshot {build_id} (PostgreSQL schema {schema})"
        else:
            build_id, aliases = None, {}
            tables = {t: Table(s, t, tuple(cols)) for (s, t), cols in actual.items()}
            description = f"PostgreSQL schemas {' and '.join(schemas)}"
        super().__init__(build_id, tables, aliases, manifest, description)
        self.check(requirements)

    def _execute(self, query: str, params: Sequence[Any]) -> Any:
        import psycopg2

        with engine_errors(self.description):
            cur = self._pool.get().cursor()
        try:
            cur.execute(self.sql(query), tuple(params))
        except psycopg2.errors.UndefinedTable as exc:
            cur.close()
            raise WarehouseError(
                f"{self.description} was removed while being read (pruned after newer "
                f"publishes): retry the call. ({str(exc).strip()})"
            ) from exc
        except psycopg2.Error as exc:
            cur.close()
            raise WarehouseError(
                f"reading {self.description} failed: {str(exc).strip()}. Retry the call; "
                "if it persists, check the server."
            ) from exc
        return cur

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple]:
        with (
            contextlib.closing(self._execute(query, params)) as cur,
            engine_errors(self.description),
        ):
            return cur.fetchall()

    def frame(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with (
            contextlib.closing(self._execute(query, params)) as cur,
            engine_errors(self.description),
        ):
            columns = [c.name for c in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)


class Reader:
    """Base of the product readers: each call takes one handle, so it reads one build."""

    #: What the reader reads (relation -> column -> Python type), checked at connect.
    REQUIRES: typing.ClassVar[Requirements] = {}

    def __init__(self, source: Source):
        self._source = source

    def _handle(self) -> Handle:
        return self._source.handle()


# --- sources: which handle is current ---------------------------------------------------


class Source:
    """Gives the handle to read now."""

    def handle(self) -> Handle:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FixedSource(Source):
    """Always the same handle: a snapshot file, a warehouse file, a pinned snapshot."""

    def __init__(self, handle: Handle, owned: bool = True):
        self._handle = handle
        self._owned = owned

    def handle(self) -> Handle:
        return self._handle

    def close(self) -> None:
        if self._owned:
            self._handle.close()


class _PostgresSchemaSource(FixedSource):
    """A live PostgreSQL schema (``connect(url, schema="marts")``)."""

    def __init__(self, handle: Handle, pool: _PgPool):
        super().__init__(handle)
        self._pool = pool

    def close(self) -> None:
        self._pool.close()


class PublishedDirectorySource(Source):
    """The current snapshot of a DuckDB published directory, following ``CURRENT``.

    Every call stats the pointer (microseconds); when it changed, the new snapshot is
    opened and checked, and calls move to it. Calls already running on the previous
    snapshot finish on it: its file stays open (and readable, even once pruned) until
    the handle is dropped.
    """

    def __init__(self, published: Path, requirements: Requirements):
        self.published = published
        self._requirements = requirements
        self._pointer = published / POINTER_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._current: DuckDBHandle | None = None
        self.handle()

    def handle(self) -> Handle:
        try:
            st = os.stat(self._pointer)
        except FileNotFoundError:
            if self._current is not None:
                return self._current
            raise NotPublishedError(
                f"nothing is published in {self.published}: run `make run` or "
                "`dataproducts build` (dbt build, validation gate, publish)."
            ) from None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        current = self._current
        if stamp == self._stamp and current is not None:
            return current
        with self._lock:
            if stamp != self._stamp or self._current is None:
                try:
                    pointer = read_pointer(self.published)
                    if pointer is None:  # removed since the stat
                        if self._current is not None:
                            return self._current
                        raise NotPublishedError(
                            f"nothing is published in {self.published}: run `make run` or "
                            "`dataproducts build` (dbt build, validation gate, publish)."
                        )
                    if self._current is None or self._current.build_id != pointer.build_id:
                        manifest = load_snapshot(self.published, pointer.build_id)
                        self._current = DuckDBHandle(
                            self.published / pointer.build_id / SNAPSHOT_FILE,
                            manifest,
                            self._requirements,
                        )
                except SnapshotCorruptError:
                    # a damaged pointer or snapshot: keep serving the one being served
                    # (checked again on the next call); with none, say how to recover
                    if self._current is not None:
                        return self._current
                    raise
                self._stamp = stamp
            return self._current

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.close()
                self._current = None
                self._stamp = None


class PostgresPublishedSource(Source):
    """The current snapshot of a PostgreSQL database, re-reading its pointer row at most
    every ``poll_interval`` seconds (0: on every call)."""

    def __init__(self, dsn: str, requirements: Requirements, poll_interval: float = 1.0):
        self.pool = _PgPool(dsn)
        self._requirements = requirements
        self._poll = poll_interval
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._current: PostgresHandle | None = None
        self.handle()

    def handle(self) -> Handle:
        current = self._current
        if current is not None and time.monotonic() - self._checked_at < self._poll:
            return current
        with engine_errors("the PostgreSQL snapshot pointer"), self.pool.get().cursor() as cur:
            found = pg_read_pointer(cur)
        if found is None:
            raise NotPublishedError(
                "nothing is published in this PostgreSQL database: run `dataproducts build "
                "--target postgres`, or connect(url, schema='marts') to read the live build."
            )
        pointer, schema, manifest = found
        with self._lock:
            if self._current is None or self._current.build_id != pointer.build_id:
                self._current = PostgresHandle(self.pool, self._requirements, schema, manifest)
            self._checked_at = time.monotonic()
            return self._current

    def close(self) -> None:
        self.pool.close()


def open_source(
    target: str | os.PathLike[str] | None,
    requirements: Requirements,
    *,
    schema: str | None = None,
    poll_interval: float = 1.0,
) -> Source:
    """The source for what :func:`dataproducts.connect` was given (see its docstring)."""
    from .dsn import mask_dsn
    from .snapshots import default_published_dir, is_postgres

    if target is not None and not isinstance(target, str | os.PathLike):
        raise InvalidArgumentError(
            f"connect() takes a path, a postgresql:// URL or a libpq 'key=value' string, got "
            f"{type(target).__name__}."
        )
    if target is not None:
        try:
            text = os.fspath(target)
        except TypeError:
            text = None
        if not isinstance(text, str) or not text.strip() or "\x00" in text:
            raise InvalidArgumentError(
                f"connect() target {mask_dsn(text)!r} is not a usable path or URL (empty, bytes "
                "or with NUL characters): pass nothing for the current published snapshot."
            )
    if schema is not None:
        as_text(schema, "schema", example="marts")
    if (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, int | float)
        or not 0 <= poll_interval < float("inf")
    ):
        raise InvalidArgumentError(
            f"poll_interval must be a number of seconds >= 0, got {poll_interval!r}"
        )

    if target is None:
        return PublishedDirectorySource(default_published_dir(), requirements)
    if is_postgres(target):
        dsn = str(target)
        if schema is not None:
            pool = _PgPool(dsn)
            try:
                handle = PostgresHandle(pool, requirements, None if schema == "marts" else schema)
            except BaseException:
                pool.close()
                raise
            return _PostgresSchemaSource(handle, pool)
        return PostgresPublishedSource(dsn, requirements, poll_interval)
    path = Path(target)
    if path.is_dir():
        if (path / POINTER_FILE).exists():
            return PublishedDirectorySource(path, requirements)
        if (path / MANIFEST_FILE).exists():
            return FixedSource(
                DuckDBHandle(path / SNAPSHOT_FILE, load_manifest(path), requirements)
            )
        raise NotPublishedError(
            f"{path} is neither a published directory (no {POINTER_FILE}) nor a snapshot "
            f"(no {MANIFEST_FILE}): run `dataproducts build`, or pass a DuckDB file."
        )
    if not path.is_file():
        raise WarehouseError(
            f"no DuckDB file or published directory at {mask_dsn(path)}: run `make run` or "
            "`dataproducts build`, or pass the path of a built warehouse."
        )
    manifest = load_manifest(path.parent) if (path.parent / MANIFEST_FILE).exists() else None
    return FixedSource(DuckDBHandle(path, manifest, requirements))


@contextlib.contextmanager
def reading(
    reader: type[ReaderT], duckdb_path: str | os.PathLike[str] | None = None
) -> typing.Iterator[ReaderT]:
    """One product's reader on one DuckDB file (default ``$DATAPRODUCTS_DUCKDB``), closed on
    exit: the module-level helpers (``coaching.queue``...) for scripts, without a client.
    Only what that reader reads is checked against the contract."""
    from .paths import default_duckdb_path

    target = duckdb_path if duckdb_path is not None else default_duckdb_path()
    source = open_source(target, reader.REQUIRES)
    try:
        yield reader(source)
    finally:
        source.close()
