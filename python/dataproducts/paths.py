"""Where things live: the repository, the seeds, the embedded warehouse."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .errors import ConfigurationError

#: The repository root, when the package runs from a checkout (``make`` installs it in
#: editable mode from python/). The build side always does; the reader may be installed
#: alone (``pip install .``), away from any checkout: see :data:`IN_CHECKOUT`.
REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "seeds"
#: Whether :data:`REPO_ROOT` is a checkout of the dbt project (False for an installed wheel).
IN_CHECKOUT = (REPO_ROOT / "dbt_project.yml").is_file()


def default_duckdb_path() -> Path:
    """The embedded DuckDB warehouse: ``$DATAPRODUCTS_DUCKDB`` (relative to the working
    directory) or ``warehouse/dataproducts.duckdb`` of the repository — profiles.yml's
    default too, since dbt runs in the repository
    (``dataproducts_pipeline.build.dbt_environment``). A reader installed away from a
    checkout: ``warehouse/dataproducts.duckdb`` under the working directory (a service
    sets ``$DATAPRODUCTS_PUBLISHED_DIR`` or passes ``connect()`` its target)."""
    env = os.environ.get("DATAPRODUCTS_DUCKDB")
    if env:
        return Path(env)
    return (REPO_ROOT if IN_CHECKOUT else Path.cwd()) / "warehouse" / "dataproducts.duckdb"


def read_seed_rows(
    path: Path, what: str, error: type[Exception] = ConfigurationError
) -> list[dict[str, str]]:
    """The rows of the seed CSV at ``path`` as dicts (every value a string); a missing file
    raises ``error`` naming ``what`` and the path, with what to do."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except FileNotFoundError as exc:
        raise error(
            f"{what} seed not found: {path}. Run from a checkout of the repository "
            "or pass seeds_dir=."
        ) from exc
