"""The ``DATAPRODUCTS_*`` settings, checked before any work starts.

Every environment variable the package, ``profiles.yml`` and the Makefile read is listed in
:data:`SETTINGS` with what it accepts. :func:`check` validates the ones a command uses and
raises :class:`~dataproducts.errors.ConfigurationError` naming the variable, its value and
what is accepted — before dbt starts, so a typo costs a second, not a rebuild.

>>> check(["DATAPRODUCTS_KEEP_SNAPSHOTS"], {"DATAPRODUCTS_KEEP_SNAPSHOTS": "3"})
>>> try:
...     check(["DATAPRODUCTS_KEEP_SNAPSHOTS"], {"DATAPRODUCTS_KEEP_SNAPSHOTS": "abc"})
... except ConfigurationError as exc:
...     print(exc)
DATAPRODUCTS_KEEP_SNAPSHOTS='abc' is not valid (it is not a whole number): a whole number of
snapshots, at least 1 (e.g. 5); unset it for the default, 5.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default, what it accepts, and a check of a value
    (returns a reason it is wrong, or None)."""

    name: str
    default: str
    accepts: str
    problem: Callable[[str], str | None]


def _duckdb_memory(setting: str) -> Callable[[str], str | None]:
    """A DuckDB memory size, as DuckDB itself parses it (a fresh in-memory database)."""

    def problem(value: str) -> str | None:
        import duckdb

        if not value.strip():
            return "it is empty"
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"set {setting} = '{value.replace(chr(39), chr(39) * 2)}'")
        except duckdb.Error as exc:
            return f"DuckDB says: {str(exc).splitlines()[0]}"
        finally:
            con.close()
        return None

    return problem


def _positive_int(value: str) -> str | None:
    try:
        number = int(value.strip())
    except ValueError:
        return "it is not a whole number"
    return None if number >= 1 else "it is less than 1"


def _port(value: str) -> str | None:
    try:
        number = int(value.strip())
    except ValueError:
        return "it is not a whole number"
    return None if 1 <= number <= 65535 else "it is not between 1 and 65535"


def _text(value: str) -> str | None:
    if not value.strip():
        return "it is empty"
    return _no_control(value)


def _no_control(value: str) -> str | None:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "it holds a control character (NUL, newline...)"
    return None


def _identifier(value: str) -> str | None:
    if not value or not all(c.isascii() and (c.isalnum() or c == "_") for c in value):
        return "it is not letters, digits and underscores"
    return None


def _file_path(value: str) -> str | None:
    bad = _text(value)
    if bad:
        return bad
    if Path(value).is_dir():
        return "it is a directory, not a file"
    return None


def _dir_path(value: str) -> str | None:
    bad = _text(value)
    if bad:
        return bad
    path = Path(value)
    if path.exists() and not path.is_dir():
        return "it is a file, not a directory"
    return None


def _connect_url(value: str) -> str | None:
    bad = _text(value)
    if bad:
        return bad
    match = re.fullmatch(r"sc://[^\s/:]+:(\d+)(/.*)?", value)
    if not match:
        return "it is not of the form sc://host:port"
    return _port(match.group(1))


def _one_of(*choices: str) -> Callable[[str], str | None]:
    def problem(value: str) -> str | None:
        return None if value in choices else "it is not one of them"

    return problem


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "DATAPRODUCTS_DUCKDB",
            "warehouse/dataproducts.duckdb",
            "the path of the DuckDB warehouse file",
            _file_path,
        ),
        Setting(
            "DATAPRODUCTS_DUCKDB_MEMORY_LIMIT",
            "10GB",
            "a DuckDB memory size (e.g. 10GB, 512MB, 4GiB)",
            _duckdb_memory("memory_limit"),
        ),
        Setting(
            "DATAPRODUCTS_DUCKDB_BLOCK_ALLOCATOR_MEMORY",
            "3GB",
            "a DuckDB memory size below the machine's memory (e.g. 3GB, 512MB)",
            _duckdb_memory("block_allocator_memory"),
        ),
        Setting(
            "DATAPRODUCTS_GENERATE_MEMORY",
            "3GB",
            "a DuckDB memory size (e.g. 3GB, 512MB)",
            _duckdb_memory("memory_limit"),
        ),
        Setting(
            "DATAPRODUCTS_PUBLISH_MEMORY",
            "4GB",
            "a DuckDB memory size (e.g. 4GB, 512MB)",
            _duckdb_memory("memory_limit"),
        ),
        Setting(
            "DATAPRODUCTS_KEEP_SNAPSHOTS",
            "5",
            "a whole number of snapshots, at least 1 (e.g. 5)",
            _positive_int,
        ),
        Setting(
            "DATAPRODUCTS_PUBLISHED_DIR",
            "published/ next to the warehouse file",
            "the path of a directory (created when missing)",
            _dir_path,
        ),
        Setting(
            "DATAPRODUCTS_TARGET",
            "dev",
            "one of the targets of profiles.yml: dev, postgres, spark, lint",
            _one_of("dev", "postgres", "spark", "lint"),
        ),
        Setting("DATAPRODUCTS_PG_HOST", "127.0.0.1", "a host name or address", _text),
        Setting("DATAPRODUCTS_PG_PORT", "5432", "a TCP port, 1 to 65535", _port),
        Setting("DATAPRODUCTS_PG_USER", "postgres", "a PostgreSQL user name", _text),
        Setting(
            "DATAPRODUCTS_PG_PASSWORD",
            "(none)",
            "any password without control characters",
            _no_control,
        ),
        Setting("DATAPRODUCTS_PG_DATABASE", "dataproducts", "a database name", _text),
        Setting(
            "DATAPRODUCTS_SPARK_HOST",
            "127.0.0.1",
            "the host name or address of a Spark Thrift server",
            _text,
        ),
        Setting("DATAPRODUCTS_SPARK_PORT", "10000", "a TCP port, 1 to 65535", _port),
        Setting("DATAPRODUCTS_SPARK_USER", "dataproducts", "a user name", _text),
        Setting(
            "DATAPRODUCTS_SPARK_SCHEMA",
            "default",
            "a Spark database (schema) name: letters, digits and underscores",
            _identifier,
        ),
        Setting(
            "DATAPRODUCTS_SPARK_CONNECT_URL",
            "sc://<DATAPRODUCTS_SPARK_HOST>:15002",
            "a Spark Connect URL, sc://host:port (where dbt's Python models run on Spark)",
            _connect_url,
        ),
        Setting(
            "DATAPRODUCTS_SPARK_RAW_DIR",
            "warehouse/spark_raw",
            "the directory generate writes the raw Parquet files to (read by the Spark "
            "server at the same path)",
            _dir_path,
        ),
    ]
}

#: The settings of a DuckDB (``dev``) build, of a PostgreSQL one, and of a Spark one.
DUCKDB_BUILD = (
    "DATAPRODUCTS_DUCKDB",
    "DATAPRODUCTS_DUCKDB_MEMORY_LIMIT",
    "DATAPRODUCTS_DUCKDB_BLOCK_ALLOCATOR_MEMORY",
    "DATAPRODUCTS_KEEP_SNAPSHOTS",
    "DATAPRODUCTS_PUBLISH_MEMORY",
    "DATAPRODUCTS_PUBLISHED_DIR",
    "DATAPRODUCTS_TARGET",
)
POSTGRES = (
    "DATAPRODUCTS_PG_HOST",
    "DATAPRODUCTS_PG_PORT",
    "DATAPRODUCTS_PG_USER",
    "DATAPRODUCTS_PG_PASSWORD",
    "DATAPRODUCTS_PG_DATABASE",
)
POSTGRES_BUILD = (*POSTGRES, "DATAPRODUCTS_KEEP_SNAPSHOTS", "DATAPRODUCTS_TARGET")
SPARK = (
    "DATAPRODUCTS_SPARK_HOST",
    "DATAPRODUCTS_SPARK_PORT",
    "DATAPRODUCTS_SPARK_USER",
    "DATAPRODUCTS_SPARK_SCHEMA",
    "DATAPRODUCTS_SPARK_RAW_DIR",
)
SPARK_BUILD = (
    *SPARK,
    "DATAPRODUCTS_SPARK_CONNECT_URL",
    "DATAPRODUCTS_KEEP_SNAPSHOTS",
    "DATAPRODUCTS_PUBLISH_MEMORY",
    "DATAPRODUCTS_TARGET",
)


def for_target(target: str, *, build: bool = True) -> tuple[str, ...]:
    """The settings a command on ``target`` (``dev``, ``postgres`` or ``spark``) reads."""
    if target == "postgres":
        return POSTGRES_BUILD if build else POSTGRES
    if target == "spark":
        return SPARK_BUILD if build else SPARK
    return DUCKDB_BUILD if build else ("DATAPRODUCTS_DUCKDB", "DATAPRODUCTS_PUBLISHED_DIR")


def check(names: Iterable[str], env: Mapping[str, str] | None = None) -> None:
    """Validate the settings ``names`` that are set in ``env`` (default: this process's
    environment); :class:`ConfigurationError` for the first that is wrong."""
    env = os.environ if env is None else env
    for name in names:
        setting = SETTINGS[name]
        value = env.get(name)
        if value is None:
            continue
        reason = setting.problem(value)
        if reason:
            raise ConfigurationError(
                f"{name}={value!r} is not valid ({reason}): {setting.accepts}; unset it for "
                f"the default, {setting.default}."
            )
