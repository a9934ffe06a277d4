"""The experiment metrics product, engineering side: read the published tables
(``client.experiments``, :class:`ExperimentsReader`).

``marts.experiment_health`` (one row per experiment: the checks to read first) and
``marts.experiment_results`` (one row per experiment x metric x treatment variant) are
built by dbt; this module reads them for the scorecard (:mod:`dataproducts.report`) and
for services. Allocation itself lives in :mod:`dataproducts.allocation`.

>>> from dataproducts.experiments import HEALTH_CHECKS
>>> [c.key for c in HEALTH_CHECKS]
['srm', 'allocation', 'multiple_exposures']
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pandas as pd

from .allocation import Experiment, Registry, Variant
from .arguments import as_text
from .connection import (
    FixedSource,
    Handle,
    Reader,
    Requirements,
    Source,
    dataclass_columns,
    reading,
)
from .errors import UnknownExperimentError


@dataclass(frozen=True)
class HealthCheck:
    """One check of ``experiment_health`` as the scorecard shows it."""

    key: str
    title: str
    alarm_column: str
    explanation: str


HEALTH_CHECKS: tuple[HealthCheck, ...] = (
    HealthCheck(
        "srm",
        "Sample ratio",
        "is_srm_alarm",
        "Chi-square test of the units per arm against the configured weights; "
        "an alarm (p < 0.001) means the split is broken and no result can be trusted.",
    ),
    HealthCheck(
        "allocation",
        "Allocation",
        "is_allocation_mismatch_alarm",
        "Exposures whose logged variant differs from the MD5 allocation rule "
        "recomputed in SQL, among learners seen in one variant (those seen in several "
        "are counted under multiple exposures) (alarm above 0.1%).",
    ),
    HealthCheck(
        "multiple_exposures",
        "Multiple exposures",
        "is_multiple_exposure_alarm",
        "Learners exposed to more than one variant, excluded from analysis (alarm above 1%).",
    ),
)


@dataclass(frozen=True)
class ExperimentHealth:
    """One row of ``marts.experiment_health``."""

    experiment_id: str
    experiment_name: str
    status: str
    primary_metric: str
    units_by_variant: str
    exposures_logged: int
    exposures_outside_window: int
    learners_exposed: int
    units_analysed: int
    allocation_mismatches: int
    allocation_mismatch_share: float | None
    multiple_variant_learners: int
    multiple_variant_share: float | None
    srm_chi_square: float | None
    srm_p_value: float | None
    days_running: int
    is_srm_alarm: bool
    is_allocation_mismatch_alarm: bool
    is_multiple_exposure_alarm: bool
    start_at: datetime
    end_at: datetime
    as_of_at: datetime

    @property
    def is_healthy(self) -> bool:
        return not (
            self.is_srm_alarm
            or self.is_allocation_mismatch_alarm
            or self.is_multiple_exposure_alarm
        )


@dataclass(frozen=True)
class Scorecard:
    """Everything the experiment report shows: health first, then results."""

    experiment: dict[str, object]  # the registry row (seed experiments)
    health: ExperimentHealth
    results: pd.DataFrame  # rows of marts.experiment_results for the experiment
    metrics: pd.DataFrame  # seed metric_definitions (descriptions)
    slices: pd.DataFrame = field(default_factory=pd.DataFrame)  # experiment_slice_results
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)  # experiment_daily_results


class ExperimentsReader(Reader):
    """``client.experiments``: allocation, health and results of the published experiments.

    >>> client = dataproducts.connect()  # doctest: +SKIP
    >>> client.experiments.assign("exp_completion_nudge", 17)  # doctest: +SKIP
    'treatment'
    >>> client.experiments.health("exp_srm_broken").is_healthy  # doctest: +SKIP
    False
    """

    REQUIRES: ClassVar[Requirements] = {
        "experiment_health": dataclass_columns(ExperimentHealth),
        "experiment_results": {"experiment_id": str, "metric_id": str, "variant": str},
        "experiment_slice_results": {
            "experiment_id": str,
            "dimension_id": str,
            "dimension_value": str,
            "metric_id": str,
            "variant": str,
        },
        "experiment_daily_results": {
            "experiment_id": str,
            "metric_id": str,
            "variant": str,
            "day_number": int,
        },
        "experiments": {"experiment_id": str, "name": str, "salt": str, "status": str},
        "experiment_variants": {
            "experiment_id": str,
            "variant": str,
            "weight": float,
            "is_control": bool,
            "allocation_order": int,
        },
    }

    def __init__(self, source: Source):
        super().__init__(source)
        self._cached: tuple[Handle, Registry] | None = None  # the registry of one snapshot

    def ids(self) -> list[str]:
        """The experiments of the published registry (seed ``experiments``)."""
        return [r[0] for r in self._handle().rows(_IDS_SQL)]

    def registry(self) -> Registry:
        """The published experiment registry (what the build allocated with)."""
        return self._registry(self._handle())

    def _registry(self, handle: Handle) -> Registry:
        cached = self._cached
        if cached is not None and cached[0] is handle:
            return cached[1]
        exps = handle.rows(
            "select experiment_id, name, salt, start_at, end_at, status, primary_metric "
            "from {experiments} order by experiment_id"
        )
        variants: dict[str, list[Variant]] = {}
        for exp_id, name, weight, is_control in handle.rows(
            "select experiment_id, variant, weight, is_control from {experiment_variants} "
            "order by experiment_id, allocation_order, variant"
        ):
            variants.setdefault(exp_id, []).append(Variant(name, float(weight), bool(is_control)))
        registry = Registry(
            [
                Experiment(
                    e[0],
                    e[1],
                    e[2],
                    str(e[3]),
                    str(e[4]),
                    e[5],
                    e[6],
                    tuple(variants.get(e[0], ())),
                )
                for e in exps
            ]
        )
        self._cached = (handle, registry)
        return registry

    def assign(self, experiment_id: str, learner_id: int | str) -> str:
        """The variant ``learner_id`` gets in ``experiment_id`` (the MD5 allocation rule of
        :mod:`dataproducts.allocation` on the published registry)."""
        return self._registry(self._handle()).assign(experiment_id, learner_id)

    def health(self, experiment_id: str) -> ExperimentHealth:
        """The health row of one experiment: read it before the results."""
        experiment_id = as_text(experiment_id, "experiment_id", example="exp_completion_nudge")
        handle = self._handle()
        rows = handle.rows(
            f"select {_HEALTH_COLUMNS} from {{experiment_health}} where experiment_id = ?",
            [experiment_id],
        )
        if not rows:
            raise _unknown(handle, experiment_id)
        return ExperimentHealth(*rows[0])

    def results(self, experiment_id: str | None = None) -> pd.DataFrame:
        """Rows of ``marts.experiment_results`` (one experiment, or all), primary metric
        first; :class:`UnknownExperimentError` for an experiment the registry lacks."""
        return self._rows("experiment_results", experiment_id, "metric_id, variant")

    def slices(self, experiment_id: str | None = None) -> pd.DataFrame:
        """Rows of ``marts.experiment_slice_results``: the results by each value of every
        dimension of the registry (seed ``experiment_dimensions``), primary metric first;
        their multiple-testing family is every slice of the experiment."""
        return self._rows(
            "experiment_slice_results",
            experiment_id,
            "dimension_id, dimension_value, metric_id, variant",
        )

    def daily(self, experiment_id: str | None = None) -> pd.DataFrame:
        """Rows of ``marts.experiment_daily_results``: the results as they stood at the end
        of each day since the start (the cumulative series), primary metric first."""
        return self._rows(
            "experiment_daily_results", experiment_id, "metric_id, variant, day_number"
        )

    def _rows(self, mart: str, experiment_id: str | None, order: str) -> pd.DataFrame:
        if experiment_id is not None:
            experiment_id = as_text(experiment_id, "experiment_id", example="exp_completion_nudge")
        handle = self._handle()
        sql = f"select * from {{{mart}}}"
        params: list[object] = []
        if experiment_id is not None:
            if not handle.rows(
                "select 1 from {experiments} where experiment_id = ?", [experiment_id]
            ):
                raise _unknown(handle, experiment_id)
            sql += " where experiment_id = ?"
            params.append(experiment_id)
        sql += f" order by experiment_id, is_guardrail, not is_primary_metric, {order}"
        return handle.frame(sql, params)

    def scorecard(self, experiment_id: str) -> Scorecard:
        """Health, results (overall, by slice, by day) and registry row of one experiment,
        read from one snapshot."""
        experiment_id = as_text(experiment_id, "experiment_id", example="exp_completion_nudge")
        handle = self._handle()
        pinned = ExperimentsReader(FixedSource(handle, owned=False))
        health = pinned.health(experiment_id)
        exp = handle.frame("select * from {experiments} where experiment_id = ?", [experiment_id])
        metrics = handle.frame("select * from {metric_definitions} order by metric_id")
        return Scorecard(
            experiment=exp.iloc[0].to_dict() if len(exp) else {"experiment_id": experiment_id},
            health=health,
            results=pinned.results(experiment_id),
            metrics=metrics,
            slices=pinned.slices(experiment_id),
            daily=pinned.daily(experiment_id),
        )


_IDS_SQL = "select experiment_id from {experiments} order by experiment_id"
_HEALTH_COLUMNS = ", ".join(f.name for f in fields(ExperimentHealth))


def _unknown(handle: Handle, experiment_id: str) -> UnknownExperimentError:
    known = ", ".join(r[0] for r in handle.rows(_IDS_SQL))
    return UnknownExperimentError(
        f"unknown experiment {experiment_id!r}; {handle.description} has: {known or 'none'}"
    )


def results(
    experiment_id: str | None = None, duckdb_path: str | Path | None = None
) -> pd.DataFrame:
    """``ExperimentsReader.results`` on one DuckDB file (default ``$DATAPRODUCTS_DUCKDB``)."""
    with reading(ExperimentsReader, duckdb_path) as reader:
        return reader.results(experiment_id)


def health(experiment_id: str, duckdb_path: str | Path | None = None) -> ExperimentHealth:
    """``ExperimentsReader.health`` on one DuckDB file (default ``$DATAPRODUCTS_DUCKDB``)."""
    with reading(ExperimentsReader, duckdb_path) as reader:
        return reader.health(experiment_id)


def scorecard(experiment_id: str, duckdb_path: str | Path | None = None) -> Scorecard:
    """``ExperimentsReader.scorecard`` on one DuckDB file (default ``$DATAPRODUCTS_DUCKDB``)."""
    with reading(ExperimentsReader, duckdb_path) as reader:
        return reader.scorecard(experiment_id)
