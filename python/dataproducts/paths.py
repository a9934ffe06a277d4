"""Where things live: the repository, the seeds, the embedded warehouse."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the package is installed in editable mode from python/).
REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "seeds"


def default_duckdb_path() -> Path:
    """The embedded DuckDB warehouse: ``$DATAPRODUCTS_DUCKDB`` (relative to the working
    directory) or ``warehouse/dataproducts.duckdb`` of the repository — profiles.yml's
    default too, since dbt runs in the repository (``dataproducts_pipeline.build.dbt_environment``)."""
    env = os.environ.get("DATAPRODUCTS_DUCKDB")
    return Path(env) if env else REPO_ROOT / "warehouse" / "dataproducts.duckdb"
