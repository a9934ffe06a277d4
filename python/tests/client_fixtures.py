"""Published snapshots of the session's tiny builds, for the client and CLI tests.

(Import the fixtures into a test module; they belong in conftest.py once the lead moves
them there.)

- ``published_duckdb``: ``duckdb_build`` published into a temporary directory.
- ``published_postgres``: ``postgres_build`` copied into a fresh database (``create
  database ... template``, so the session's build stays untouched) and published there.
- ``published``: parametrized over both, with ``.connect()``, ``.query(sql, params)``
  (straight to the built marts, not through the package) and ``.target`` (what
  ``dataproducts.connect`` takes).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dataproducts_pipeline.publish import publish


@dataclass
class Published:
    engine: str
    target: str  # what dataproducts.connect() takes
    build_id: str
    query: Callable[..., pd.DataFrame]  # the built marts, read without the package
    target_path: Path  # dbt target dir holding the build's manifest (only)
    dsn: str | None = None

    def connect(self, **kwargs: Any):  # -> dataproducts.Client
        import dataproducts

        if self.engine == "postgres":
            kwargs.setdefault("poll_interval", 0)
        return dataproducts.connect(self.target, **kwargs)


def manifest_only(target_path: Path, into: Path) -> Path:
    """A dbt target dir with the build's manifest and no run results of later dbt calls."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy(target_path / "manifest.json", into)
    return into


def copy_postgres_database(server: Any, template: str) -> tuple[str, str]:
    """A fresh database copied from ``template``; (name, dsn)."""
    import psycopg2

    name = f"pub_{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(server.dsn_for("postgres"))
    con.autocommit = True
    try:
        for attempt in range(50):  # the template must have no other session for a moment
            try:
                with con.cursor() as cur:
                    cur.execute(f'create database "{name}" template "{template}"')
                break
            except psycopg2.errors.ObjectInUse:
                if attempt == 49:
                    raise
                time.sleep(0.2)
    finally:
        con.close()
    return name, server.dsn_for(name)


def pg_query(dsn: str) -> Callable[..., pd.DataFrame]:
    def query(sql: str, params: Any = None) -> pd.DataFrame:
        import psycopg2

        with closing(psycopg2.connect(dsn)) as con, con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])

    return query


@pytest.fixture(scope="session")
def published_duckdb(duckdb_build, tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("published_duckdb")
    target = manifest_only(duckdb_build.dbt.target_path, root / "target")
    directory = root / "published"
    info = publish(duckdb_build.path, target_path=target, published_dir=directory, validate=False)
    return Published(
        "duckdb",
        str(directory),
        info.build_id,
        lambda sql, params=None: duckdb_build.query(sql, params),
        target,
    )


@pytest.fixture(scope="session")
def published_postgres(
    postgres_server, postgres_build, tmp_path_factory: pytest.TempPathFactory
) -> Published:
    root = tmp_path_factory.mktemp("published_postgres")
    target = manifest_only(postgres_build.dbt.target_path, root / "target")
    _, dsn = copy_postgres_database(postgres_server, "build")
    info = publish(dsn, target_path=target, validate=False)
    return Published("postgres", dsn, info.build_id, pg_query(dsn), target, dsn=dsn)


@pytest.fixture(
    scope="session", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def published(request: pytest.FixtureRequest) -> Published:
    return request.getfixturevalue(f"published_{request.param}")
