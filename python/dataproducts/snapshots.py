"""Where published snapshots are and how to read them: the readers' half of publishing.

A build that passes every dbt test and the validation gate is *published* (by
``dataproducts_pipeline.publish``): its public marts and its seeds are copied into an
immutable snapshot, and a pointer to the current snapshot is switched atomically. This
module knows that layout and nothing about writing it, so a service reads snapshots without
installing the build side.

On DuckDB (``<published_dir>`` defaults to ``published/`` next to the warehouse file, so
``warehouse/published/``; ``$DATAPRODUCTS_PUBLISHED_DIR`` overrides)::

    warehouse/published/
      CURRENT                          {"build_id": ..., "previous": [...]}, replaced atomically
      20261121-155741-677649/
        snapshot.duckdb                read-only: marts.* and reference.*, clustered by key
        manifest.json                  build id, time, dbt invocation, contracts, row counts
      .lock                            serializes publishers and rollbacks

On PostgreSQL each snapshot is a schema ``dataproducts_<build_id>``; the pointer is a row
of ``dataproducts_meta.pointer`` and the snapshot's manifest a row of
``dataproducts_meta.snapshots``. To read the current snapshot in SQL::

    select schema_name from dataproducts_meta.pointer join dataproducts_meta.snapshots using (build_id);

>>> current().build_id  # doctest: +SKIP
'20261121-155741-677649'
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import (
    ConfigurationError,
    NotPublishedError,
    SnapshotCorruptError,
    WarehouseError,
)
from .paths import default_duckdb_path

POINTER_FILE = "CURRENT"
SNAPSHOT_FILE = "snapshot.duckdb"
MANIFEST_FILE = "manifest.json"
META_SCHEMA = "_dataproducts"  # inside a DuckDB snapshot
PG_META_SCHEMA = "dataproducts_meta"
PG_SCHEMA_PREFIX = "dataproducts_"
_PG_PREFIXES = ("postgresql://", "postgres://")


# --- where things are -------------------------------------------------------------------


def is_postgres(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (URL or libpq ``key=value`` string)."""
    text = str(target)
    return text.startswith(_PG_PREFIXES) or bool(re.search(r"(^|\s)(dbname|host)=", text))


def default_published_dir(warehouse: str | Path | None = None) -> Path:
    """``$DATAPRODUCTS_PUBLISHED_DIR``, else ``published/`` next to the warehouse file."""
    env = os.environ.get("DATAPRODUCTS_PUBLISHED_DIR")
    if env:
        return Path(env)
    return Path(warehouse or default_duckdb_path()).resolve().parent / "published"


# --- what a snapshot is -----------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotInfo:
    """One published snapshot, as its manifest describes it."""

    build_id: str
    created_at: datetime
    engine: str
    location: str  # the snapshot directory (DuckDB) or schema (PostgreSQL)
    manifest: dict[str, Any] = field(repr=False, compare=False)

    @property
    def rows(self) -> dict[str, int]:
        """Rows per published relation."""
        return {name: int(t["rows"]) for name, t in self.manifest["tables"].items()}

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], location: str) -> SnapshotInfo:
        return cls(
            build_id=str(manifest["build_id"]),
            created_at=datetime.fromisoformat(manifest["created_at"]),
            engine=str(manifest["engine"]),
            location=location,
            manifest=dict(manifest),
        )


@dataclass(frozen=True)
class Pointer:
    """The current snapshot, and the ones before it (the last is what rollback restores)."""

    build_id: str
    previous: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"build_id": self.build_id, "previous": list(self.previous)})


#: What to do when the pointer or the current snapshot is damaged.
RECOVER = (
    "run `dataproducts rollback` to make the newest intact snapshot current, or "
    "`dataproducts build` (or `dataproducts publish`) to publish a new one"
)
_BUILD_ID_TEXT = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9]{6}")


def is_build_id(value: object) -> bool:
    """Whether ``value`` is a build id (``20261121-155741-677649``): the only names a
    pointer may hold, so that it never leads outside the published directory."""
    return isinstance(value, str) and _BUILD_ID_TEXT.fullmatch(value) is not None


def read_pointer(published_dir: str | Path | None = None) -> Pointer | None:
    """The ``CURRENT`` pointer of a DuckDB published directory, or None before any publish.

    :class:`SnapshotCorruptError` (saying how to recover) when it is unreadable, empty,
    not JSON, of another shape, or names something that is not a build id.
    """
    path = Path(published_dir or default_published_dir()) / POINTER_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _corrupt_pointer(path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        why = "is empty" if not raw.strip() else "is not valid JSON (truncated or overwritten?)"
        raise _corrupt_pointer(path, why) from None
    if not isinstance(data, dict) or "build_id" not in data:
        raise _corrupt_pointer(path, "is JSON but not an object with a build_id")
    build_id, previous = data["build_id"], data.get("previous", [])
    if not is_build_id(build_id):
        raise _corrupt_pointer(
            path, f"names {_short(build_id)}, not a build id like 20261121-155741-677649"
        )
    if not isinstance(previous, list) or not all(is_build_id(b) for b in previous):
        raise _corrupt_pointer(path, "has a 'previous' list that is not a list of build ids")
    return Pointer(build_id, tuple(previous))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _corrupt_pointer(path: Path, why: str) -> SnapshotCorruptError:
    return SnapshotCorruptError(
        f"{path} is corrupt: it {why}, so no snapshot can be served; {RECOVER}."
    )


def load_manifest(snapshot_dir: str | Path) -> dict[str, Any]:
    """The ``manifest.json`` of a DuckDB snapshot directory, checked: every field the
    readers use is there with its type, and its ``snapshot.duckdb`` is a file in the
    directory. :class:`NotPublishedError` when there is no manifest,
    :class:`SnapshotCorruptError` when it or the file is damaged."""
    directory = Path(snapshot_dir)
    path = directory / MANIFEST_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotPublishedError(
            f"{path} is missing: {directory} is not a published snapshot."
        ) from None
    except OSError as exc:
        raise _corrupt_snapshot(path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError:
        why = "is empty" if not raw.strip() else "is not valid JSON (truncated or overwritten?)"
        raise _corrupt_snapshot(path, why) from None
    problem = _manifest_problem(manifest)
    if problem:
        raise _corrupt_snapshot(path, problem)
    if manifest["engine"] == "duckdb":
        file = directory / SNAPSHOT_FILE
        if manifest.get("file", SNAPSHOT_FILE) != SNAPSHOT_FILE:
            raise _corrupt_snapshot(path, f"names the file {_short(manifest['file'])}")
        if file.is_symlink() or not file.is_file():
            raise _corrupt_snapshot(path, f"describes {file}, which is missing")
    return manifest


def _corrupt_snapshot(path: Path, why: str) -> SnapshotCorruptError:
    return SnapshotCorruptError(
        f"{path} {why}: the snapshot in {path.parent} cannot be read; {RECOVER}."
    )


def _manifest_problem(m: object) -> str | None:
    """What is wrong with a manifest's shape (None: what readers use is there)."""
    if not isinstance(m, dict):
        return "is JSON but not an object"
    for key in ("build_id", "created_at", "engine"):
        if not isinstance(m.get(key), str):
            return f"has no {key}"
    if not is_build_id(m["build_id"]):
        return f"has build_id {_short(m['build_id'])}, not a build id"
    try:
        datetime.fromisoformat(m["created_at"])
    except ValueError:
        return f"has created_at {_short(m['created_at'])}, not an ISO time"
    tables = m.get("tables")
    if not isinstance(tables, dict):
        return "has no tables"
    for name, t in tables.items():
        ok = (
            isinstance(t, dict)
            and isinstance(t.get("schema"), str)
            and isinstance(t.get("rows"), int)
            and not isinstance(t.get("rows"), bool)
            and isinstance(t.get("columns"), list)
            and all(
                isinstance(c, dict)
                and isinstance(c.get("name"), str)
                and isinstance(c.get("data_type"), str)
                for c in t["columns"]
            )
        )
        if not ok:
            return f"has a damaged entry for table {_short(name)}"
    aliases = m.get("aliases", {})
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        return "has damaged aliases"
    if not isinstance(m.get("validation"), dict | None):
        return "has a damaged validation record"
    return None


def load_snapshot(published: Path, build_id: str) -> dict[str, Any]:
    """The manifest of snapshot ``build_id`` of a published directory, once it is known to
    be whole and inside the directory (no symlink or path out); SnapshotCorruptError else."""
    directory = published / build_id
    if not is_build_id(build_id):
        raise SnapshotCorruptError(f"{_short(build_id)} is not a build id; {RECOVER}.")
    if directory.is_symlink() or not directory.is_dir():
        raise SnapshotCorruptError(
            f"snapshot {build_id} is missing from {published}"
            f"{' (a symlink is not a snapshot)' if directory.is_symlink() else ''}; {RECOVER}."
        )
    if directory.resolve().parent != published.resolve():
        raise SnapshotCorruptError(f"{directory} leads outside {published}; {RECOVER}.")
    try:
        manifest = load_manifest(directory)
    except NotPublishedError as exc:
        raise SnapshotCorruptError(f"{exc} It is incomplete; {RECOVER}.") from None
    if manifest["build_id"] != build_id:
        raise SnapshotCorruptError(
            f"{directory / MANIFEST_FILE} describes build {manifest['build_id']}, not "
            f"{build_id}: the snapshot directory was tampered with; {RECOVER}."
        )
    return manifest


def intact_snapshots(published: Path) -> dict[str, dict[str, Any]]:
    """build id -> manifest of every whole snapshot in a published directory, oldest first."""
    out = {}
    for build_id in snapshot_ids(published):
        with contextlib.suppress(SnapshotCorruptError):
            out[build_id] = load_snapshot(published, build_id)
    return out


def published_problems(target: str | Path | None = None) -> list[str]:
    """What is damaged in a DuckDB published directory: the pointer, and each snapshot
    that cannot be read (what ``dataproducts snapshots`` flags)."""
    published = Path(target) if target is not None else default_published_dir()
    problems: dict[str, str] = {}
    pointer = None
    try:
        pointer = read_pointer(published)
    except SnapshotCorruptError as exc:
        problems[POINTER_FILE] = str(exc)
    ids = snapshot_ids(published)
    if pointer is not None and pointer.build_id not in ids:
        ids.append(pointer.build_id)  # the current one, missing or not a directory
    for build_id in ids:
        try:
            load_snapshot(published, build_id)
        except SnapshotCorruptError as exc:
            problems[build_id] = str(exc)
    return list(problems.values())


def current(target: str | Path | None = None) -> SnapshotInfo | None:
    """The current snapshot of a published directory (DuckDB) or database (PostgreSQL)."""
    if target is not None and is_postgres(target):
        return pg_current(str(target))
    published = Path(target) if target is not None else default_published_dir()
    pointer = read_pointer(published)
    if pointer is None:
        return None
    manifest = load_snapshot(published, pointer.build_id)
    return SnapshotInfo.from_manifest(manifest, str(published / pointer.build_id))


def list_snapshots(target: str | Path | None = None) -> list[SnapshotInfo]:
    """Every intact snapshot kept, oldest first (:func:`published_problems` names the
    damaged ones)."""
    if target is not None and is_postgres(target):
        return pg_list(str(target))
    published = Path(target) if target is not None else default_published_dir()
    return [
        SnapshotInfo.from_manifest(manifest, str(published / build_id))
        for build_id, manifest in intact_snapshots(published).items()
    ]


def snapshot_ids(published: Path) -> list[str]:
    if not published.is_dir():
        return []
    return sorted(
        p.name
        for p in published.iterdir()
        if is_build_id(p.name) and p.is_dir() and not p.is_symlink()
    )


# --- PostgreSQL -------------------------------------------------------------------------


def pg_connect(dsn: str) -> Any:
    """A psycopg2 connection, with an error that says what to do when it fails."""
    import psycopg2

    from .dsn import mask_dsn, scrub

    if not isinstance(dsn, str) or "\x00" in dsn:
        raise ConfigurationError(
            f"a PostgreSQL connection string must be text without NUL characters, got "
            f"{type(dsn).__name__}: pass postgresql://user@host:5432/db or 'host=... dbname=...'."
        )
    try:
        return psycopg2.connect(dsn)
    except psycopg2.OperationalError as exc:
        raise WarehouseError(
            f"cannot connect to PostgreSQL ({mask_dsn(dsn)}): {scrub(str(exc).strip(), dsn)}. "
            "Start the server, create the database, or fix the URL / DATAPRODUCTS_PG_* "
            "variables."
        ) from None
    except (psycopg2.Error, ValueError, TypeError) as exc:  # a connection string libpq cannot parse
        raise ConfigurationError(
            f"not a valid PostgreSQL connection string ({mask_dsn(dsn)}): "
            f"{scrub(str(exc).strip(), dsn)}. Write postgresql://user:password@host:5432/db "
            "(percent-encode @ : / in the password) or host=... dbname=... password='with "
            "spaces in single quotes'."
        ) from None


def pg_url(dsn: str) -> str:
    """A ``postgresql://`` URL for a libpq string (the validation gate takes URLs)."""
    if dsn.startswith(_PG_PREFIXES):
        return dsn
    from urllib.parse import quote

    from psycopg2.extensions import parse_dsn

    p = parse_dsn(dsn)
    auth = quote(p.get("user", ""), safe="")
    if p.get("password"):
        auth += ":" + quote(p["password"], safe="")
    host = p.get("host", "127.0.0.1")
    port = f":{p['port']}" if p.get("port") else ""
    return f"postgresql://{auth}{'@' if auth else ''}{host}{port}/{p.get('dbname', '')}"


def pg_meta_exists(cur: Any) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f"{PG_META_SCHEMA}.pointer",))
    return bool(cur.fetchone()[0])


def pg_read_pointer(cur: Any) -> tuple[Pointer, str, dict[str, Any]] | None:
    """(pointer, schema, manifest) of the current PostgreSQL snapshot, or None."""
    if not pg_meta_exists(cur):
        return None
    cur.execute(
        f"select p.build_id, p.previous, s.schema_name, s.manifest "
        f"from {PG_META_SCHEMA}.pointer as p join {PG_META_SCHEMA}.snapshots as s "
        "using (build_id)"
    )
    row = cur.fetchone()
    if row is None:
        return None
    build_id, previous, schema, manifest = row
    return Pointer(build_id, tuple(previous)), schema, manifest


def pg_current(dsn: str) -> SnapshotInfo | None:
    with contextlib.closing(pg_connect(dsn)) as con, con.cursor() as cur:
        found = pg_read_pointer(cur)
    if found is None:
        return None
    _, schema, manifest = found
    return SnapshotInfo.from_manifest(manifest, schema)


def pg_list(dsn: str) -> list[SnapshotInfo]:
    with contextlib.closing(pg_connect(dsn)) as con, con.cursor() as cur:
        if not pg_meta_exists(cur):
            return []
        cur.execute(
            f"select schema_name, manifest from {PG_META_SCHEMA}.snapshots order by build_id"
        )
        return [SnapshotInfo.from_manifest(m, s) for s, m in cur.fetchall()]
