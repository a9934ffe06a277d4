"""Published snapshots: readers never see half a build.

DuckDB allows one writer or many readers, not both, so a service must not read the
warehouse dbt is rebuilding. A build that passes every dbt test and the validation gate is
*published*: its public marts and its seeds are copied into an immutable snapshot, and a
pointer to the current snapshot is switched atomically.

The layout (``CURRENT``, ``<build_id>/snapshot.duckdb`` and ``manifest.json`` on DuckDB;
schemas and ``dataproducts_meta`` on PostgreSQL) is :mod:`dataproducts.snapshots`, which
the readers use; this module writes it.

Publishing copies every published relation into a new snapshot under a temporary name
while the validation gate, in a second thread, reads the public marts of the same
(read-only, writer-locked) build and checks them; it renames the snapshot into place, then
replaces ``CURRENT`` (write a temporary file, fsync, ``os.replace``). A reader
that opened the previous snapshot keeps its open file; a killed publish leaves only a
temporary directory, removed by the next one; a failed build or gate publishes nothing.
``rollback`` makes the previous snapshot current again. The last ``keep`` snapshots are
kept (``$DATAPRODUCTS_KEEP_SNAPSHOTS``, default 5), and never the current one or the one
a rollback would restore.

On PostgreSQL the copy, the manifest and the switch happen in one transaction.

>>> info = publish("warehouse/dataproducts.duckdb")  # doctest: +SKIP
>>> info.build_id, info.rows["recommendations_v1"]  # doctest: +SKIP
('20261121-155741-677649', 10900)
>>> rollback().build_id  # doctest: +SKIP
'20261121-151003-004211'
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dataproducts.contract import canonical_type, dbt_published_tables, diff_columns
from dataproducts.errors import (
    BuildFailedError,
    ContractError,
    InvalidArgumentError,
    NotPublishedError,
    PublishError,
    SnapshotCorruptError,
    WarehouseError,
)
from dataproducts.paths import REPO_ROOT, default_duckdb_path
from dataproducts.snapshots import (
    MANIFEST_FILE,
    META_SCHEMA,
    PG_META_SCHEMA,
    PG_SCHEMA_PREFIX,
    POINTER_FILE,
    SNAPSHOT_FILE,
    Pointer,
    SnapshotInfo,
    default_published_dir,
    intact_snapshots,
    is_postgres,
    load_manifest,
    load_snapshot,
    pg_connect,
    pg_current,
    pg_read_pointer,
    pg_url,
    read_pointer,
    snapshot_ids,
)

from .spark_publish import is_spark

#: Snapshots kept unless told otherwise.
DEFAULT_KEEP = 5
#: Format of the snapshot manifest; bumped on an incompatible change.
MANIFEST_FORMAT = 1
_FAILED = {"error", "fail", "runtime error"}

Step = Callable[[str], None]


# --- where things are


#: DuckDB's memory limit while a publish copies a build (``$DATAPRODUCTS_PUBLISH_MEMORY``).
PUBLISH_MEMORY = "4GB"


def default_target_path() -> Path:
    """dbt's target directory: ``$DBT_TARGET_PATH`` (as dbt reads it), else ``target/``."""
    env = os.environ.get("DBT_TARGET_PATH")
    if not env:
        return REPO_ROOT / "target"
    path = Path(env)
    return path if path.is_absolute() else REPO_ROOT / path


def default_keep() -> int:
    """``$DATAPRODUCTS_KEEP_SNAPSHOTS``, else 5."""
    raw = os.environ.get("DATAPRODUCTS_KEEP_SNAPSHOTS")
    if raw is None:
        return DEFAULT_KEEP
    try:
        return _check_keep(int(raw))
    except ValueError:
        raise InvalidArgumentError(
            f"DATAPRODUCTS_KEEP_SNAPSHOTS={raw!r} is not a positive integer."
        ) from None


def _check_keep(keep: int) -> int:
    if keep < 1:
        raise InvalidArgumentError(f"keep must be at least 1 snapshot, got {keep}.")
    return keep


def new_build_id(now: datetime | None = None) -> str:
    """A sortable id from the publishing time (UTC), e.g. ``20261121-155741-677649``."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%d-%H%M%S-%f")


# --- dbt's side -------------------------------------------------------------------------


def read_dbt_artifacts(target_path: str | Path | None = None) -> dict[str, Any]:
    """dbt's manifest of the build to publish; refuses when its last run had failures."""
    target = Path(target_path) if target_path else default_target_path()
    manifest_path = target / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise PublishError(
            f"no dbt manifest at {manifest_path}: run `dataproducts build` (or `dbt build`) "
            "first, or pass the dbt target directory the build used."
        ) from None
    results_path = target / "run_results.json"
    if results_path.exists():
        results = json.loads(results_path.read_text())
        failed = [r["unique_id"] for r in results.get("results", []) if r["status"] in _FAILED]
        if failed:
            raise BuildFailedError(
                f"the last dbt invocation in {target} had {len(failed)} failure(s): "
                "fix them and rebuild; nothing was published.",
                failed,
            )
    return manifest


def _dbt_info(manifest: Mapping[str, Any]) -> dict[str, Any]:
    meta = manifest.get("metadata", {})
    return {
        k: meta.get(k)
        for k in ("invocation_id", "dbt_version", "generated_at", "project_name", "adapter_type")
    }


#: ``run_results.json`` arguments of a dbt invocation that build only part of the project.
_SELECTION_ARGS = (
    "select",
    "models",
    "exclude",
    "selector",
    "resource_types",
    "exclude_resource_types",
    "empty",
    "sample",
    "defer",
    "favor_state",
)


def dbt_invocation(
    target_path: str | Path | None = None, dbt_args: Sequence[str] | None = None
) -> dict[str, Any]:
    """How dbt built what is published, for the snapshot's manifest: the command and the
    selection arguments of its last invocation (dbt's ``run_results.json``), the
    arguments `dataproducts build` passed (``dbt_args``), and ``partial``: whether only
    part of the project was built (a snapshot of it mixes two builds' marts)."""
    target = Path(target_path) if target_path else default_target_path()
    args: dict[str, Any] = {}
    with contextlib.suppress(FileNotFoundError, ValueError, AttributeError):
        args = json.loads((target / "run_results.json").read_text()).get("args") or {}
    selection = {
        k: args[k] for k in _SELECTION_ARGS if args.get(k) not in (None, False, "", [], {})
    }
    out: dict[str, Any] = {
        "command": args.get("which"),
        "invocation_command": args.get("invocation_command"),
        "vars": args.get("vars") or {},
        "selection": selection,
    }
    if dbt_args is not None:
        out["args"] = list(dbt_args)
    out["partial"] = bool(selection)
    return out


def _refuse_partial(invocation: Mapping[str, Any], target_path: str | Path | None) -> None:
    if invocation["partial"]:
        shown = " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in invocation["selection"].items()
        )
        raise PublishError(
            f"the last dbt build in {target_path or default_target_path()} built only part "
            f"of the project ({shown}): a snapshot of it would mix its marts with an older "
            "build's. Run a full `dataproducts build`, or publish the mix on purpose with "
            "--partial (the manifest records it). Nothing was published."
        )


# --- DuckDB -----------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(published: Path) -> Iterator[None]:
    published.mkdir(parents=True, exist_ok=True)
    with open(published / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pointer_for_publish(published: Path) -> Pointer | None:
    """The pointer a publish extends; a damaged one is replaced (rather than blocking
    every publish) by one over the intact snapshots, so rollback still finds them."""
    try:
        return read_pointer(published)
    except SnapshotCorruptError:
        _clear_broken_pointer(published)
        intact = list(intact_snapshots(published))
        return Pointer(intact[-1], tuple(intact[:-1])) if intact else None


def _clear_broken_pointer(published: Path) -> None:
    """A ``CURRENT`` that is a directory cannot be replaced atomically: remove it (the
    caller holds the lock and writes the new pointer next)."""
    path = published / POINTER_FILE
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)


def publish(
    source: str | Path | None = None,
    *,
    target_path: str | Path | None = None,
    published_dir: str | Path | None = None,
    keep: int | None = None,
    validate: bool = True,
    data_docs_dir: str | Path | None = None,
    on_step: Step | None = None,
    dbt_args: Sequence[str] | None = None,
    partial: bool = False,
    increments: Sequence[Any] | None = None,
) -> SnapshotInfo:
    """Publish the public marts (and seeds) of a built warehouse as the current snapshot.

    ``source``: the DuckDB warehouse dbt built (default ``$DATAPRODUCTS_DUCKDB``), a
    PostgreSQL URL / libpq string, or the ``spark://user@host:port`` Thrift server of a
    Spark build (its relations are read into a local DuckDB stage first, then published
    into ``published_dir`` like a DuckDB build: :mod:`dataproducts_pipeline.spark_publish`). ``target_path``: dbt's target directory of that build
    (its ``manifest.json`` holds the contracts; default ``$DBT_TARGET_PATH`` or
    ``target/``). ``validate``: run the validation gate
    (:func:`dataproducts_pipeline.validation.validate_build`) on the copy before switching;
    ``BuildFailedError`` and nothing published when it fails. ``on_step`` is called with
    ``"copied"``, ``"validated"``, ``"staged"``, ``"switched"`` and ``"pruned"``.
    A build of part of the project (``--select``...) is refused unless ``partial``; the
    manifest's ``invocation`` records it, with ``dbt_args`` (:func:`dbt_invocation`), and
    ``increments``: what `dataproducts build` found its incremental models did
    (:class:`~dataproducts_pipeline.increments.Increment`).
    """
    keep = _check_keep(keep) if keep is not None else default_keep()
    manifest = read_dbt_artifacts(target_path)
    invocation = dbt_invocation(target_path, dbt_args)
    if increments is not None:
        invocation["increments"] = [i.as_dict() for i in increments]
    if not partial:
        _refuse_partial(invocation, target_path)
    if source is not None and is_postgres(source):
        return _pg_publish(
            str(source),
            manifest,
            keep=keep,
            validate=validate,
            data_docs_dir=data_docs_dir,
            on_step=on_step,
            invocation=invocation,
        )
    if source is not None and is_spark(source):
        import tempfile

        from .spark_publish import stage

        published = Path(published_dir) if published_dir else default_published_dir()
        with tempfile.TemporaryDirectory(prefix="dataproducts-spark-stage-") as tmp:
            staged = Path(tmp) / "stage.duckdb"
            stage(str(source), dbt_published_tables(manifest), staged)
            (on_step or (lambda _name: None))("read from spark")
            return _publish_duckdb_file(
                staged,
                manifest,
                invocation,
                published=published,
                keep=keep,
                validate=validate,
                data_docs_dir=data_docs_dir,
                on_step=on_step,
                adapter="spark",
                origin=str(source),
            )
    warehouse = Path(source) if source is not None else default_duckdb_path()
    if not warehouse.is_file():
        raise WarehouseError(
            f"no DuckDB warehouse at {warehouse}: run `dataproducts build` (or `dbt build`)."
        )
    return _publish_duckdb_file(
        warehouse,
        manifest,
        invocation,
        published=Path(published_dir) if published_dir else default_published_dir(warehouse),
        keep=keep,
        validate=validate,
        data_docs_dir=data_docs_dir,
        on_step=on_step,
    )


def _publish_duckdb_file(
    warehouse: Path,
    manifest: Mapping[str, Any],
    invocation: Mapping[str, Any],
    *,
    published: Path,
    keep: int,
    validate: bool,
    data_docs_dir: str | Path | None,
    on_step: Step | None,
    adapter: str = "duckdb",
    origin: str | None = None,
) -> SnapshotInfo:
    """Publish the relations of a DuckDB file (a DuckDB build, or a Spark build's stage)."""
    docs_dir = Path(data_docs_dir) if data_docs_dir else published.parent / "data_docs"
    step = on_step or (lambda _name: None)
    with _locked(published):
        for stale in published.glob(".tmp-*"):  # left by a killed publish
            shutil.rmtree(stale, ignore_errors=True)
        pointer = _pointer_for_publish(published)
        build_id = new_build_id()
        while (published / build_id).exists():
            time.sleep(1e-6)
            build_id = new_build_id()
        staging = published / f".tmp-{build_id}"
        staging.mkdir()
        try:
            previous = None
            if pointer is not None:
                with contextlib.suppress(WarehouseError):  # missing or damaged
                    previous = load_manifest(published / pointer.build_id)
            snapshot = _duckdb_copy(
                warehouse,
                staging / SNAPSHOT_FILE,
                manifest,
                build_id,
                gate=(
                    (lambda tables: _gate(tables, previous, docs_dir, validate=True))
                    if validate
                    else None
                ),
                step=step,
                adapter=adapter,
            )
            snapshot["invocation"] = invocation
            if origin is not None:
                snapshot["source"] = origin
            (staging / MANIFEST_FILE).write_text(json.dumps(snapshot, indent=2, default=str))
            for name in (SNAPSHOT_FILE, MANIFEST_FILE):
                os.chmod(staging / name, 0o444)
                _fsync(staging / name)
            os.rename(staging, published / build_id)
            _fsync(published)
            step("staged")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        previous_ids = (*pointer.previous, pointer.build_id) if pointer else ()
        _write_atomically(published / POINTER_FILE, Pointer(build_id, previous_ids).to_json())
        step("switched")
        _prune(published, keep)
        step("pruned")
    return SnapshotInfo.from_manifest(snapshot, str(published / build_id))


def _duckdb_copy(
    warehouse: Path,
    file: Path,
    dbt_manifest: Mapping[str, Any],
    build_id: str,
    *,
    gate: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    step: Step | None = None,
    adapter: str = "duckdb",
) -> dict[str, Any]:
    """Copy every published relation into a new DuckDB file; the snapshot's manifest.

    The build is attached once, read-only: DuckDB's file lock keeps every writer (a dbt
    build) out until the publish ends, so everything read from it here sees the same
    rows. Each relation is copied inside DuckDB (``create table … as select … order by``
    its leading key column, so zone maps skip to a learner's rows). Meanwhile, in a
    second thread, the ``gate`` (the validation gate) reads each public mart of the very
    same attached build into Arrow, through its own cursor, smallest first, and checks
    it: DuckDB's copying and the gate's pandas work overlap on two cores. The row count
    of every mart the gate checked must equal the copy's, or nothing is published. The
    gate's result is the manifest's ``validation``; an error of the copy takes precedence
    over the gate's. ``step`` gets ``"copied"`` and ``"validated"`` as each finishes.
    """
    import duckdb

    info = _dbt_info(dbt_manifest)
    if info.get("adapter_type") not in (None, adapter):
        raise PublishError(
            f"the dbt manifest is from a {info['adapter_type']} build, not {adapter}: pass "
            "the target directory of that build (or publish to its engine)."
        )
    specs = dbt_published_tables(dbt_manifest)
    created_at = datetime.now(UTC)
    con = duckdb.connect(str(file))
    spill = tempfile.TemporaryDirectory(prefix="dataproducts-publish-")
    try:
        # The copy sorts each relation: bounded, spilling beyond the limit (DuckDB's
        # default, 80% of the machine, leaves the gate's pandas no room at `large`).
        memory = os.environ.get("DATAPRODUCTS_PUBLISH_MEMORY", PUBLISH_MEMORY)
        con.execute(f"set memory_limit = {_literal(memory)}")
        con.execute(f"set temp_directory = {_literal(spill.name)}")
        try:
            con.execute(f"attach {_literal(str(warehouse))} as src (read_only)")
        except duckdb.Error as exc:
            raise PublishError(
                f"cannot open {warehouse} read-only ({exc}); is a dbt build still writing it? "
                "Nothing was published."
            ) from exc
        actual = _columns_by_relation(
            con.execute(
                "select table_schema, table_name, column_name, data_type from "
                "information_schema.columns where table_catalog = 'src' "
                "order by table_schema, table_name, ordinal_position"
            ).fetchall()
        )
        # Every contract first: a mismatch publishes nothing and costs nothing.
        checked = [(spec, _checked_columns(spec, actual, f"DuckDB {warehouse}")) for spec in specs]
        with ThreadPoolExecutor(1, thread_name_prefix="dataproducts-gate") as pool:
            gating: Future | None = None
            marts: _ArrowMarts | None = None
            if gate is not None:
                # its own cursor on the same attached build, read in a thread of its own
                marts = _ArrowMarts(con.cursor(), _marts_smallest_first(con, checked))
                gating = pool.submit(gate, marts)
            try:
                tables = _duckdb_copy_tables(con, checked)
                (step or (lambda _name: None))("copied")
            except BaseException:
                if marts is not None:
                    marts.stop()  # the gate reads no further mart
                if gating is not None:
                    with contextlib.suppress(BaseException):
                        gating.result()  # the copy's error is the one to report
                raise
            finally:
                if gating is not None:
                    futures_wait([gating])
                if marts is not None:
                    marts.close()
            validation = gating.result() if gating is not None else {"skipped": True}
            _check_gate_saw_the_copy(validation, tables)
            (step or (lambda _name: None))("validated")
        con.execute(f"create schema {META_SCHEMA}")
        con.execute(
            f"create table {META_SCHEMA}.snapshot as select ? as build_id, "
            "cast(? as timestamptz) as created_at, ? as dbt_invocation_id",
            [build_id, created_at, info.get("invocation_id")],
        )
        con.execute("detach src")
        con.execute("checkpoint")
    finally:
        con.close()
        spill.cleanup()
    return {
        "format": MANIFEST_FORMAT,
        "build_id": build_id,
        "created_at": created_at.isoformat(),
        "engine": "duckdb",
        "file": SNAPSHOT_FILE,
        "source": str(warehouse),
        "dbt": info,
        "aliases": _aliases(specs),
        "tables": tables,
        "validation": validation,
    }


def _marts_smallest_first(
    con: Any, checked: list[tuple[dict[str, Any], list[dict[str, str]]]]
) -> list[dict[str, Any]]:
    """The specs of the public marts among ``checked`` that the gate checks (the relation
    :func:`~dataproducts_pipeline.validation.gated_relations` picks for each suite),
    smallest first (DuckDB's estimated rows): the gate checks the small ones while DuckDB
    copies the big ones."""
    from .validation import MARTS_SCHEMA, gated_relations

    sizes = dict(
        con.execute(
            "select table_name, estimated_size from duckdb_tables() "
            "where database_name = 'src' and schema_name = ?",
            [MARTS_SCHEMA],
        ).fetchall()
    )
    marts = [spec for spec, _ in checked if spec["schema"] == MARTS_SCHEMA]
    gated = gated_relations(spec["relation"] for spec in marts)
    marts = [spec for spec in marts if spec["relation"] in gated]
    return sorted(marts, key=lambda spec: sizes.get(spec["relation"], 0))


class _ArrowMarts(Mapping[str, Any]):
    """Relation -> the public mart of the attached ``src`` as
    :class:`~dataproducts_pipeline.validation.ArrowParts`, handed over once.

    A thread of its own reads the marts through ``cursor``, one after the other in the
    order of ``specs``, as soon as it is created, each in the parts the gate checks it in
    (:func:`~dataproducts_pipeline.validation.part_predicates`: one, or several for a mart
    too big to hold whole): the gate checks one part while the next is read (DuckDB reads
    without holding the GIL). It reads one part ahead at most: the next read starts when
    the gate has taken the previous part. Asking for a mart hands its parts over: this
    mapping keeps no reference to a part it has handed, so a part's memory is freed once
    the gate is done with it (at ``large`` the marts do not all fit in memory at once, nor
    does ``recommendations`` alone), and asking for the mart again raises. After
    :meth:`stop` the parts not read yet are not read, and taking one raises, so that the
    gate of a failed publish ends at its next part. :meth:`close` waits for the reading
    thread, then closes the cursor.
    """

    def __init__(self, cursor: Any, specs: list[dict[str, Any]]) -> None:
        self._cursor = cursor
        self._specs = {spec["relation"]: spec for spec in specs}
        # per relation: its parts' futures, known once the relation is counted
        self._parts: dict[str, Future] = {relation: Future() for relation in self._specs}
        self._taken = threading.Semaphore(1)  # reads allowed ahead of the gate
        self._stopped = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dataproducts-read")
        self._pool.submit(self._read_all)

    def _may_read(self) -> bool:
        while not self._taken.acquire(timeout=0.2):
            if self._stopped:
                return False
        return not self._stopped

    def _read_all(self) -> None:
        from .validation import part_predicates

        pending: list[Future] = []
        try:
            self._cursor.execute("set arrow_large_buffer_size = true")  # pandas' text layout
            for relation, spec in self._specs.items():
                if not self._may_read():
                    break
                query = f"select * from src.{_quote(spec['schema'])}.{_quote(relation)}"
                (rows,) = self._cursor.execute(f"select count(*) from ({query})").fetchone()
                predicates = part_predicates(relation, rows, "duckdb")
                pending = [Future() for _ in predicates]
                self._parts[relation].set_result(list(pending))
                for number, predicate in enumerate(predicates):
                    if number and not self._may_read():
                        break
                    where = f" where {predicate}" if predicate else ""
                    pending.pop(0).set_result(self._cursor.execute(query + where).to_arrow_table())
                if self._stopped:
                    break
        except BaseException as exc:
            for future in [*pending, *self._parts.values()]:
                if not future.done():
                    future.set_exception(exc)
            raise
        finally:
            for future in pending:
                if not future.done():
                    future.set_exception(
                        PublishError("the publish stopped before the gate read it")
                    )
            for relation, future in self._parts.items():
                if not future.done():
                    future.set_exception(
                        PublishError(f"the publish stopped before the gate read {relation}")
                    )

    def __getitem__(self, relation: str) -> Any:
        from .validation import ArrowParts

        future = self._parts[relation]
        if self._stopped and not future.done():
            raise PublishError(f"the publish stopped before the gate read {relation}")
        parts: list[Future | None] = future.result()
        handed = Future()
        handed.set_exception(PublishError(f"{relation} was already handed to the gate"))
        self._parts[relation] = handed
        return ArrowParts(len(parts), (self._take(relation, parts, i) for i in range(len(parts))))

    def _take(self, relation: str, parts: list[Future | None], number: int) -> Any:
        """Part ``number`` of ``relation``, no longer referenced here once returned."""
        part, parts[number] = parts[number], None
        assert part is not None
        if self._stopped and not part.done():
            raise PublishError(f"the publish stopped before the gate read {relation}")
        try:
            return part.result()
        finally:
            self._taken.release()

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def stop(self) -> None:
        self._stopped = True

    def close(self) -> None:
        self._stopped = True
        self._pool.shutdown(wait=True)
        self._cursor.close()


def _check_gate_saw_the_copy(
    validation: Mapping[str, Any], tables: Mapping[str, Mapping[str, Any]]
) -> None:
    """Every mart the gate checked has as many rows as its copy in the snapshot."""
    from .validation import MARTS_SCHEMA, _unversioned

    seen = validation.get("row_counts") or {}
    for relation, table in tables.items():
        mart = _unversioned(relation)
        if table["schema"] == MARTS_SCHEMA and mart in seen and seen[mart] != table["rows"]:
            raise PublishError(
                f"the validation gate saw {seen[mart]} rows of {mart} but {table['rows']} "
                "were copied: was the build changed during the publish? Nothing was "
                "published; publish again."
            )


def _duckdb_copy_tables(
    con: Any, checked: list[tuple[dict[str, Any], list[dict[str, str]]]]
) -> dict[str, dict[str, Any]]:
    """Create every relation in the snapshot from the attached ``src``, with its row count,
    clustered on its leading key column, so zone maps skip to a learner's rows."""
    tables: dict[str, dict[str, Any]] = {}
    for spec, columns in checked:
        schema, relation = _quote(spec["schema"]), _quote(spec["relation"])
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create table {schema}.{relation} as select * from src.{schema}.{relation} "
            f"order by {_quote(columns[0]['name'])}"
        )
        rows = con.execute(f"select count(*) from {schema}.{relation}").fetchone()[0]
        tables[spec["relation"]] = {**spec, "columns": columns, "rows": int(rows)}
    for spec, _ in checked:
        if spec["version"] is not None and spec["version"] == spec["latest_version"]:
            con.execute(
                f"create view {_quote(spec['schema'])}.{_quote(spec['name'])} as select * "
                f"from {_quote(spec['schema'])}.{_quote(spec['relation'])}"
            )
    return tables


def _aliases(specs: list[dict[str, Any]]) -> dict[str, str]:
    """Unversioned name -> the relation of its latest version (``recommendations_v1``)."""
    return {
        s["name"]: s["relation"]
        for s in specs
        if s["version"] is not None and s["version"] == s["latest_version"]
    }


def _columns_by_relation(rows: list[tuple]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        out.setdefault((schema, table), []).append((column, data_type))
    return out


def _checked_columns(
    spec: Mapping[str, Any],
    actual: Mapping[tuple[str, str], list[tuple[str, str]]],
    where: str,
) -> list[dict[str, str]]:
    """The relation's columns, after checking them against its dbt declaration."""
    label = f"{spec['schema']}.{spec['relation']}"
    have = actual.get((spec["schema"], spec["relation"]))
    if have is None:
        raise PublishError(
            f"{label} is missing from {where}: dbt's manifest publishes it; run "
            "`dataproducts build`. Nothing was published."
        )
    declared = [(c["name"], c["data_type"]) for c in spec["columns"] if c["data_type"]]
    problems = diff_columns(label, declared, have)
    if not spec["contract_enforced"]:  # seeds declare the types of some columns: those hold
        problems = [p for p in problems if "not in the contract" not in p]
    if problems:
        raise ContractError(
            f"{where} does not match the dbt contract: "
            + "; ".join(problems)
            + ". Nothing was published."
        )
    return [{"name": n, "data_type": canonical_type(t)} for n, t in have]


def _gate(
    source: Any,
    previous: Mapping[str, Any] | None,
    docs_dir: Path | None,
    *,
    validate: bool,
) -> dict[str, Any]:
    """The validation gate on ``source``: a PostgreSQL URL, or the build's marts read as
    Arrow tables (relation -> table)."""
    if not validate:
        return {"skipped": True}
    from .validation import validate_arrow_tables, validate_build

    if isinstance(source, str | Path):
        report = validate_build(source, previous, data_docs_dir=docs_dir)
    else:
        report = validate_arrow_tables(source, previous, data_docs_dir=docs_dir)
    if not report.success:
        raise BuildFailedError(
            f"the validation gate failed ({len(report.failures)} failure(s)); nothing was "
            f"published. Data Docs: {report.data_docs_index}",
            report.failures,
        )
    return {
        "success": True,
        "expectations_run": getattr(report, "expectations_run", None),
        "row_counts": dict(report.row_counts),
        "seconds": round(sum(report.seconds.values()), 3),
        "data_docs_index": str(report.data_docs_index) if report.data_docs_index else None,
    }


def _prune(published: Path, keep: int) -> None:
    pointer = read_pointer(published)
    ids = snapshot_ids(published)
    protected = set(ids[-keep:])
    if pointer is not None:
        protected.add(pointer.build_id)
        if pointer.previous:
            protected.add(pointer.previous[-1])
    for build_id in ids:
        if build_id not in protected:
            shutil.rmtree(published / build_id, ignore_errors=True)
    if pointer is not None:
        kept = tuple(b for b in pointer.previous if (published / b).is_dir())
        if kept != pointer.previous:
            _write_atomically(published / POINTER_FILE, Pointer(pointer.build_id, kept).to_json())


def rollback(
    target: str | Path | None = None, *, published_dir: str | Path | None = None
) -> SnapshotInfo:
    """Make the snapshot before the current one current again; the new current's info.

    ``target``: a PostgreSQL URL, or nothing for DuckDB (``published_dir`` or the
    default). Raises :class:`PublishError` when there is nothing to go back to.
    """
    if target is not None and is_postgres(target):
        return _pg_rollback(str(target))
    published = Path(published_dir or target or default_published_dir())
    with _locked(published):
        try:
            pointer = read_pointer(published)
        except SnapshotCorruptError:
            # the pointer is damaged: make the newest intact snapshot current
            _clear_broken_pointer(published)
            intact = list(intact_snapshots(published))
            if not intact:
                raise PublishError(
                    f"{published / POINTER_FILE} is corrupt and no intact snapshot is kept in "
                    f"{published}: run `dataproducts build` to publish a new one."
                ) from None
            back, before = intact[-1], tuple(intact[:-1])
        else:
            if pointer is None:
                raise NotPublishedError(
                    f"nothing is published in {published}: nothing to roll back."
                )
            back, before = _previous_intact(published, pointer)
        manifest = load_snapshot(published, back)
        _write_atomically(published / POINTER_FILE, Pointer(back, before).to_json())
    return SnapshotInfo.from_manifest(manifest, str(published / back))


def _previous_intact(published: Path, pointer: Pointer) -> tuple[str, tuple[str, ...]]:
    """The newest snapshot before the current one that is whole (damaged ones are
    skipped), and the ones before it."""
    previous = pointer.previous
    for i in range(len(previous) - 1, -1, -1):
        try:
            load_snapshot(published, previous[i])
        except SnapshotCorruptError:
            continue
        return previous[i], previous[:i]
    if not previous:
        raise PublishError(
            f"{pointer.build_id} is the only snapshot kept in {published}: there is no "
            "previous snapshot to roll back to."
        )
    raise PublishError(
        f"no snapshot before {pointer.build_id} in {published} is intact "
        f"({', '.join(previous)} are missing or damaged): nothing to roll back to."
    )


# --- PostgreSQL -----------------------------------------------------------------------

_PG_META_DDL = f"""
create schema if not exists {PG_META_SCHEMA};
create table if not exists {PG_META_SCHEMA}.snapshots (
    build_id text primary key,
    schema_name text not null unique,
    created_at timestamptz not null,
    manifest jsonb not null
);
create table if not exists {PG_META_SCHEMA}.pointer (
    is_current boolean primary key default true check (is_current),
    build_id text not null references {PG_META_SCHEMA}.snapshots (build_id),
    previous text[] not null default '{{}}',
    switched_at timestamptz not null
);
"""
_PG_LOCK_KEY = 0x6470_7562  # "dpub": serializes publishers and rollbacks


def _pg_publish(
    dsn: str,
    dbt_manifest: Mapping[str, Any],
    *,
    keep: int,
    validate: bool,
    data_docs_dir: str | Path | None,
    on_step: Step | None,
    invocation: Mapping[str, Any] | None = None,
) -> SnapshotInfo:
    from psycopg2 import sql

    step = on_step or (lambda _name: None)
    info = _dbt_info(dbt_manifest)
    if info.get("adapter_type") not in (None, "postgres"):
        raise PublishError(
            f"the dbt manifest is from a {info['adapter_type']} build, not PostgreSQL: pass "
            "the target directory of the PostgreSQL build."
        )
    specs = dbt_published_tables(dbt_manifest)
    before = pg_current(dsn)
    # PostgreSQL: the gate reads the freshly built schemas (it cannot see an uncommitted
    # copy); the copy below is taken in the same transaction that switches the pointer.
    validation = _gate(
        pg_url(dsn),
        before.manifest if before else None,
        Path(data_docs_dir) if data_docs_dir else None,
        validate=validate,
    )
    step("validated")
    con = pg_connect(dsn)
    try:
        with con, con.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
            cur.execute(_PG_META_DDL)
            found = pg_read_pointer(cur)
            build_id = new_build_id()
            schema = PG_SCHEMA_PREFIX + build_id.replace("-", "_")
            cur.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns where table_schema = any(%s) "
                "order by table_schema, table_name, ordinal_position",
                (sorted({s["schema"] for s in specs}),),
            )
            actual = _columns_by_relation(cur.fetchall())
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            tables: dict[str, dict[str, Any]] = {}
            for spec in specs:
                columns = _checked_columns(spec, actual, "PostgreSQL")
                target = sql.Identifier(schema, spec["relation"])
                cur.execute(
                    sql.SQL("create table {} as select * from {}").format(
                        target, sql.Identifier(spec["schema"], spec["relation"])
                    )
                )
                cur.execute(
                    sql.SQL("create index on {} ({})").format(
                        target, sql.Identifier(columns[0]["name"])
                    )
                )
                cur.execute(sql.SQL("select count(*) from {}").format(target))
                rows = cur.fetchone()[0]
                tables[spec["relation"]] = {**spec, "columns": columns, "rows": int(rows)}
            for name, relation in _aliases(specs).items():
                cur.execute(
                    sql.SQL("create view {} as select * from {}").format(
                        sql.Identifier(schema, name), sql.Identifier(schema, relation)
                    )
                )
            step("copied")
            snapshot = {
                "format": MANIFEST_FORMAT,
                "build_id": build_id,
                "created_at": datetime.now(UTC).isoformat(),
                "engine": "postgres",
                "schema": schema,
                "dbt": info,
                "invocation": dict(invocation or {}),
                "aliases": _aliases(specs),
                "tables": tables,
                "validation": validation,
            }
            cur.execute(
                f"insert into {PG_META_SCHEMA}.snapshots values (%s, %s, %s, %s)",
                (build_id, schema, snapshot["created_at"], json.dumps(snapshot, default=str)),
            )
            previous = (*found[0].previous, found[0].build_id) if found else ()
            cur.execute(
                f"insert into {PG_META_SCHEMA}.pointer (build_id, previous, switched_at) "
                "values (%s, %s, now()) on conflict (is_current) do update set "
                "build_id = excluded.build_id, previous = excluded.previous, "
                "switched_at = excluded.switched_at",
                (build_id, list(previous)),
            )
        step("switched")
        _pg_prune(con, keep)
        step("pruned")
    finally:
        con.close()
    return SnapshotInfo.from_manifest(snapshot, schema)


def _pg_prune(con: Any, keep: int) -> None:
    from psycopg2 import sql

    with con, con.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
        found = pg_read_pointer(cur)
        cur.execute(
            f"select build_id, schema_name from {PG_META_SCHEMA}.snapshots order by build_id"
        )
        rows = cur.fetchall()
        protected = {b for b, _ in rows[-keep:]}
        if found is not None:
            protected.add(found[0].build_id)
            if found[0].previous:
                protected.add(found[0].previous[-1])
        for build_id, schema in rows:
            if build_id in protected:
                continue
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            cur.execute(f"delete from {PG_META_SCHEMA}.snapshots where build_id = %s", (build_id,))
        if found is not None:
            cur.execute(
                f"update {PG_META_SCHEMA}.pointer set previous = array(select b from "
                f"unnest(previous) with ordinality as p(b, i) where b in (select build_id "
                f"from {PG_META_SCHEMA}.snapshots) order by i)"
            )


def _pg_rollback(dsn: str) -> SnapshotInfo:
    con = pg_connect(dsn)
    try:
        with con, con.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
            found = pg_read_pointer(cur)
            if found is None:
                raise NotPublishedError(
                    "nothing is published in this database: nothing to roll back."
                )
            pointer = found[0]
            if not pointer.previous:
                raise PublishError(
                    f"{pointer.build_id} is the only snapshot kept: there is no previous "
                    "snapshot to roll back to."
                )
            cur.execute(
                f"update {PG_META_SCHEMA}.pointer set build_id = %s, previous = %s, "
                "switched_at = now()",
                (pointer.previous[-1], list(pointer.previous[:-1])),
            )
            found = pg_read_pointer(cur)
        assert found is not None
        _, schema, manifest = found
        return SnapshotInfo.from_manifest(manifest, schema)
    finally:
        con.close()
