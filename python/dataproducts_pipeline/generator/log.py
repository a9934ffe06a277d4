"""The generator's log in the target: which world the raw tables come from, and where they end.

Every ``dataproducts generate`` writes one row into ``raw.generator_runs`` beside the raw
tables (a loader's bookkeeping, not a dbt source): the world's parameters (seed, sizes,
start, bad-row rate, generator version) and the ``_loaded_at`` range it delivered. A full
generation replaces the log with its own row; ``--append`` reads the last row, simulates
the same world and delivers the rows loaded in ``[previous end, new end)``, then adds its
row. The same row works on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dataproducts.errors import ConfigurationError

from ..raw_contract import RAW_SCHEMA, RawTable
from .config import HORIZON_DAYS

#: Bumped whenever the same parameters would simulate another world: an append refuses
#: to extend data that an older generator wrote.
GENERATOR_VERSION = 2

LOG = RawTable(
    name="generator_runs",
    primary_key="run_number",
    columns={
        "run_number": "integer",
        "mode": "varchar",
        "generator_version": "integer",
        "seed": "bigint",
        "scale": "varchar",
        "learners": "bigint",
        "courses": "bigint",
        "days": "integer",
        "bad_row_rate": "double precision",
        "world_start": "timestamp",
        "loaded_from": "timestamp",
        "loaded_to": "timestamp",
    },
)


@dataclass(frozen=True)
class World:
    """What determines the simulated world (never where the data ends)."""

    seed: int
    scale: str
    learners: int
    courses: int
    days: int
    bad_row_rate: float
    start: datetime

    @property
    def horizon(self) -> datetime:
        """The last instant the world is simulated to: data can end at most here."""
        return self.start + timedelta(days=self.days + HORIZON_DAYS)


@dataclass(frozen=True)
class Entry:
    """One row of the log."""

    run_number: int
    mode: str
    world: World
    loaded_from: datetime | None
    loaded_to: datetime

    def values(self) -> dict[str, Any]:
        w = self.world
        return {
            "run_number": self.run_number,
            "mode": self.mode,
            "generator_version": GENERATOR_VERSION,
            "seed": w.seed,
            "scale": w.scale,
            "learners": w.learners,
            "courses": w.courses,
            "days": w.days,
            "bad_row_rate": float(w.bad_row_rate),
            "world_start": w.start,
            "loaded_from": self.loaded_from,
            "loaded_to": self.loaded_to,
        }

    def sql_values(self) -> str:
        """The row as a SQL ``values`` tuple (portable literals; no user text in it but
        the scale, which is one of the presets)."""
        out = []
        for col, typ in LOG.columns.items():
            v = self.values()[col]
            if v is None:
                out.append("null")
            elif typ == "timestamp":
                out.append(f"timestamp '{v:%Y-%m-%d %H:%M:%S}'")
            elif typ == "varchar":
                out.append("'" + str(v).replace("'", "''") + "'")
            else:
                out.append(repr(v))
        return "(" + ", ".join(out) + ")"


def select_last(schema: str = RAW_SCHEMA) -> str:
    """The query of the log's last row (``schema``: e.g. ``target.raw`` for an attached
    DuckDB file)."""
    return (
        f"select {', '.join(LOG.columns)} from {schema}.{LOG.name} order by run_number desc limit 1"
    )


def from_row(row: tuple[Any, ...] | None, where: str) -> Entry:
    """The last log row read from a target, checked for an append."""
    if row is None:
        raise ConfigurationError(
            f"nothing to append to: {where} has no generator log ({RAW_SCHEMA}.{LOG.name}). "
            "Run `dataproducts generate` without --append first."
        )
    v = dict(zip(LOG.columns, row, strict=True))
    if v["generator_version"] != GENERATOR_VERSION:
        raise ConfigurationError(
            f"the raw data in {where} was written by generator version "
            f"{v['generator_version']}, this is version {GENERATOR_VERSION}: its world "
            "differs, so an append would not match. Regenerate without --append."
        )
    world = World(
        seed=int(v["seed"]),
        scale=str(v["scale"]),
        learners=int(v["learners"]),
        courses=int(v["courses"]),
        days=int(v["days"]),
        bad_row_rate=float(v["bad_row_rate"]),
        start=_naive(v["world_start"]),
    )
    loaded_from = v["loaded_from"]
    return Entry(
        run_number=int(v["run_number"]),
        mode=str(v["mode"]),
        world=world,
        loaded_from=None if loaded_from is None else _naive(loaded_from),
        loaded_to=_naive(v["loaded_to"]),
    )


def _naive(value: Any) -> datetime:
    """A timestamp read back from any engine as a naive UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
