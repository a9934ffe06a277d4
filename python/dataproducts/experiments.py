"""The experiment metrics product, engineering side: read the published tables.

``marts.experiment_health`` (one row per experiment: the checks to read first) and
``marts.experiment_results`` (one row per experiment x metric x treatment variant) are
built by dbt; this module reads them for the scorecard (:mod:`dataproducts.report`) and
for services. Allocation itself lives in :mod:`dataproducts.allocation`.

>>> from dataproducts.experiments import HEALTH_CHECKS
>>> [c.key for c in HEALTH_CHECKS]
['srm', 'allocation', 'multiple_exposures']
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from .errors import UnknownExperimentError, WarehouseError
from .paths import default_duckdb_path


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
        "recomputed in SQL (alarm above 0.1%).",
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


def _read(sql: str, params: list[object], duckdb_path: str | Path | None) -> pd.DataFrame:
    import duckdb

    path = Path(duckdb_path) if duckdb_path else default_duckdb_path()
    if not path.exists():
        raise WarehouseError(
            f"no DuckDB warehouse at {path}: run `dataproducts generate` then `dbt build`, "
            "or point $DATAPRODUCTS_DUCKDB at a built warehouse."
        )
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        try:
            return con.execute(sql, params).df()
        except duckdb.CatalogException as exc:
            raise WarehouseError(
                f"an experiments table is missing in {path}: run `dbt build` first ({exc})."
            ) from exc


def _known(duckdb_path: str | Path | None) -> list[str]:
    return list(
        _read(
            "select experiment_id from marts.experiment_health order by 1", [], duckdb_path
        ).experiment_id
    )


def results(
    experiment_id: str | None = None, duckdb_path: str | Path | None = None
) -> pd.DataFrame:
    """Rows of ``marts.experiment_results`` (one experiment, or all), primary metric first."""
    sql = "select * from marts.experiment_results"
    params: list[object] = []
    if experiment_id is not None:
        sql += " where experiment_id = ?"
        params.append(experiment_id)
    sql += " order by experiment_id, is_guardrail, not is_primary_metric, metric_id, variant"
    return _read(sql, params, duckdb_path)


def health(experiment_id: str, duckdb_path: str | Path | None = None) -> ExperimentHealth:
    """The health row of one experiment; :class:`UnknownExperimentError` if it has none."""
    df = _read(
        "select * from marts.experiment_health where experiment_id = ?",
        [experiment_id],
        duckdb_path,
    )
    if df.empty:
        known = ", ".join(_known(duckdb_path))
        raise UnknownExperimentError(
            f"unknown experiment {experiment_id!r}; the warehouse has: {known or 'none'}"
        )
    r = df.iloc[0]

    def opt(v: object) -> float | None:
        return None if pd.isna(v) else float(v)  # type: ignore[arg-type]

    return ExperimentHealth(
        experiment_id=str(r.experiment_id),
        experiment_name=str(r.experiment_name),
        status=str(r.status),
        primary_metric=str(r.primary_metric),
        units_by_variant=str(r.units_by_variant),
        exposures_logged=int(r.exposures_logged),
        exposures_outside_window=int(r.exposures_outside_window),
        learners_exposed=int(r.learners_exposed),
        units_analysed=int(r.units_analysed),
        allocation_mismatches=int(r.allocation_mismatches),
        allocation_mismatch_share=opt(r.allocation_mismatch_share),
        multiple_variant_learners=int(r.multiple_variant_learners),
        multiple_variant_share=opt(r.multiple_variant_share),
        srm_chi_square=opt(r.srm_chi_square),
        srm_p_value=opt(r.srm_p_value),
        days_running=int(r.days_running),
        is_srm_alarm=bool(r.is_srm_alarm),
        is_allocation_mismatch_alarm=bool(r.is_allocation_mismatch_alarm),
        is_multiple_exposure_alarm=bool(r.is_multiple_exposure_alarm),
        start_at=pd.Timestamp(r.start_at).to_pydatetime(),
        end_at=pd.Timestamp(r.end_at).to_pydatetime(),
        as_of_at=pd.Timestamp(r.as_of_at).to_pydatetime(),
    )


def scorecard(experiment_id: str, duckdb_path: str | Path | None = None) -> Scorecard:
    """Health, results and registry row of one experiment, for the report."""
    h = health(experiment_id, duckdb_path)
    exp = _read(
        "select * from reference.experiments where experiment_id = ?", [experiment_id], duckdb_path
    )
    metrics = _read(
        "select * from reference.metric_definitions order by metric_id", [], duckdb_path
    )
    return Scorecard(
        experiment=exp.iloc[0].to_dict() if len(exp) else {"experiment_id": experiment_id},
        health=h,
        results=results(experiment_id, duckdb_path),
        metrics=metrics,
    )
