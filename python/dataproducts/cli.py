"""The ``dataproducts`` command line.

Command bodies stay thin: the logic lives in the package (``build``, ``publish``,
``client`` and the product modules), so what the CLI does a service can do in Python.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click

from . import __version__
from .errors import (
    BuildFailedError,
    ConfigurationError,
    ContractError,
    DataProductsError,
    InvalidArgumentError,
    PublishError,
    RegistryError,
    UnknownExperimentError,
    WarehouseError,
)
from .generator.config import DEFAULT_END

#: Exit codes, as documented in ``dataproducts --help``.
EXIT_OK = 0
EXIT_FAILED = 1  # a dbt model or test, the validation gate, or a publish failed
EXIT_USAGE = 2  # bad arguments, unknown experiment or module
EXIT_UNAVAILABLE = 3  # nothing published yet, warehouse missing or locked
EXIT_CONTRACT = 4  # a published table differs from its contract

_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (ContractError, EXIT_CONTRACT),
    (BuildFailedError, EXIT_FAILED),
    (PublishError, EXIT_FAILED),
    (WarehouseError, EXIT_UNAVAILABLE),  # NotPublishedError included
    (UnknownExperimentError, EXIT_USAGE),
    (InvalidArgumentError, EXIT_USAGE),
    (ConfigurationError, EXIT_USAGE),
    (RegistryError, EXIT_USAGE),
    (DataProductsError, EXIT_FAILED),
)

_SOURCE_HELP = (
    "What to read: a published directory, a snapshot or warehouse DuckDB file, or a "
    "postgresql:// URL [default: the current published snapshot; env DATAPRODUCTS_SOURCE]."
)


def _source_option(f: Any) -> Any:
    return click.option(
        "--source", envvar="DATAPRODUCTS_SOURCE", metavar="TARGET", help=_SOURCE_HELP
    )(f)


def _json_option(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(f)


def _target_option(f: Any) -> Any:
    return click.option(
        "--target",
        type=click.Choice(["dev", "postgres"]),
        default="dev",
        show_default=True,
        help="dev: the DuckDB warehouse ($DATAPRODUCTS_DUCKDB); postgres: $DATAPRODUCTS_PG_*.",
    )(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dataproducts")
def cli() -> None:
    """Data products of an online-learning platform: generate, build, publish, read.

    \b
    Examples (a first session):
      dataproducts generate --scale tiny --seed 1   # synthetic raw data into DuckDB
      dataproducts build                           # dbt build, validation gate, publish
      dataproducts recommend 17                    # read the published snapshot
      dataproducts similar 3 --limit 5
      dataproducts assign exp_completion_nudge 17
      dataproducts experiment exp_completion_nudge
      dataproducts coaching 17 --json
      dataproducts snapshots                       # what is published; rollback undoes one

    \b
    Readers see only published snapshots: a build that fails a dbt test or the
    validation gate publishes nothing, and the previous snapshot keeps serving.
    Python: `dataproducts.connect().recommendations.for_learner(17)`.

    \b
    Exit codes:
      0  ok (an unknown learner or course is not an error: empty result)
      1  a dbt model or test, the validation gate, or a publish failed
      2  usage error: bad arguments, unknown experiment or module
      3  nothing published yet, or the warehouse is missing or locked
      4  a published table differs from its contract
    """


# --- raw data ---------------------------------------------------------------------------

#: The generator's default end of data (the experiments of the registry run inside it).
DEFAULT_END_DATE = f"{DEFAULT_END:%Y-%m-%d}"


def _end_date(value: str) -> datetime:
    """``--end-date``: a calendar day (the data ends at its midnight, UTC) or ``today``."""
    from datetime import UTC

    text = value.strip().lower()
    if text == "today":
        day = datetime.now(UTC).date()
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a date: use YYYY-MM-DD (e.g. 2026-11-01) or 'today'.",
                param_hint="'--end-date'",
            ) from None
    return datetime(day.year, day.month, day.day)


@cli.command()
@click.option(
    "--scale",
    type=click.Choice(["tiny", "small", "medium", "large"]),
    default="tiny",
    show_default=True,
    help="Preset size: tiny ≈ 200 learners, small ≈ 5k, medium ≈ 100k, large ≈ 1M.",
)
@click.option("--learners", type=int, help="Override the preset's number of learners.")
@click.option("--courses", type=int, help="Override the preset's number of courses.")
@click.option("--days", type=int, help="Override the preset's number of days of history.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option(
    "--end-date",
    "end",
    metavar="YYYY-MM-DD|today",
    callback=lambda _ctx, _param, value: _end_date(value),
    default=DEFAULT_END_DATE,
    show_default=True,
    help="The data ends at midnight UTC of this day (`today`: today's date, UTC).",
)
@click.option(
    "--bad-row-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of raw rows made invalid (null keys, orphans, bad enums...) for testing.",
)
@click.option(
    "--target",
    type=click.Choice(["dev", "postgres"]),
    default="dev",
    show_default=True,
    help="dev: the DuckDB file ($DATAPRODUCTS_DUCKDB); postgres: the server in $DATAPRODUCTS_PG_*.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(**kwargs: Any) -> None:
    """Generate synthetic raw data with planted structure into schema `raw`.

    Deterministic for a seed and an end date. Replaces the raw tables of the target.

    \b
    Examples:
      dataproducts generate --scale tiny --seed 1
      dataproducts generate --scale small --bad-row-rate 0.01 --end-date today
      dataproducts generate --learners 1000 --courses 50 --days 60 --quiet
      dataproducts generate --scale tiny --target postgres
    """
    from . import settings
    from .generate import generate as run

    settings.check(
        ("DATAPRODUCTS_GENERATE_MEMORY", *settings.for_target(kwargs["target"], build=False))
    )
    quiet = kwargs.pop("quiet")
    report = run(progress=not quiet, **kwargs)
    click.echo(report.summary())


# --- build and publish ------------------------------------------------------------------


@cli.command(context_settings={"ignore_unknown_options": True})
@_target_option
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Snapshots to keep [default: 5, env DATAPRODUCTS_KEEP_SNAPSHOTS].",
)
@click.option(
    "--target-path",
    type=click.Path(file_okay=False),
    help="dbt's target directory [default: $DBT_TARGET_PATH or target/].",
)
@click.option(
    "--no-publish",
    is_flag=True,
    help="dbt build only: no validation gate, nothing published (any dbt selection).",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Publish a build of part of the project (--select...): the snapshot mixes its "
    "marts with the previous build's; the manifest records the dbt arguments.",
)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def build(
    target: str,
    keep: int | None,
    target_path: str | None,
    no_publish: bool,
    partial: bool,
    dbt_args: tuple[str, ...],
) -> None:
    """dbt build, then the validation gate, then publish a snapshot.

    Extra arguments go to dbt. Nothing is published when a model, a dbt test or an
    expectation of the gate fails (exit 1); the current snapshot keeps serving.
    A dbt selection (--select, --exclude...) needs --no-publish or --partial.

    \b
    Examples:
      dataproducts build
      dataproducts build --target postgres
      dataproducts build -- --vars '{recommendations_k: 20}'
      dataproducts build --no-publish -- --select +recommendations
    """
    from .build import build as run

    if no_publish and partial:
        raise click.UsageError("--no-publish and --partial exclude each other.")
    steps = _StepTimer("build")
    info = run(
        target,
        dbt_args,
        target_path=target_path,
        keep=keep,
        partial=partial,
        publish_snapshot=not no_publish,
        on_step=steps,
    )
    if info is None:
        click.echo(f"built (dbt build {' '.join(dbt_args)}); nothing published, as asked.")
        return
    click.echo(_published_line(info))


@cli.command()
@_target_option
@click.option("--keep", type=click.IntRange(min=1), help="Snapshots to keep [default: 5].")
@click.option(
    "--target-path",
    type=click.Path(file_okay=False),
    help="dbt's target directory of the build [default: $DBT_TARGET_PATH or target/].",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Publish even a dbt build of part of the project (the manifest records it).",
)
def publish(target: str, keep: int | None, target_path: str | None, partial: bool) -> None:
    """Publish the last dbt build (after the validation gate) as the current snapshot.

    Refuses when dbt's last run had failures. `dataproducts build` does dbt build and this.

    \b
    Examples:
      dbt build && dataproducts publish
      dataproducts publish --keep 10
      dataproducts publish --target postgres
    """
    from . import settings
    from .build import check_duckdb_warehouse, postgres_dsn
    from .paths import default_duckdb_path
    from .publish import publish as run

    settings.check(settings.for_target(target))
    if target == "postgres":
        source: Any = postgres_dsn()
    else:
        source = default_duckdb_path()
        check_duckdb_warehouse(source, raw=False)
    info = run(
        source, target_path=target_path, keep=keep, partial=partial, on_step=_StepTimer("publish")
    )
    click.echo(_published_line(info))


@cli.command()
@_target_option
def rollback(target: str) -> None:
    """Make the previous snapshot current again (readers switch on their next call).

    \b
    Examples:
      dataproducts rollback
      dataproducts rollback --target postgres
    """
    from .build import postgres_dsn
    from .publish import rollback as run

    info = run(postgres_dsn() if target == "postgres" else None)
    click.echo(
        f"current snapshot is now {info.build_id} (published {info.created_at:%Y-%m-%d %H:%M:%S} UTC)"
    )


@cli.command()
@_target_option
@_json_option
def snapshots(target: str, as_json: bool) -> None:
    """The published snapshots kept, oldest first; * marks the current one.

    \b
    Examples:
      dataproducts snapshots
      dataproducts snapshots --json
      dataproducts snapshots --target postgres
    """
    from .build import postgres_dsn
    from .errors import SnapshotCorruptError
    from .publish import current, list_snapshots, published_problems

    where = postgres_dsn() if target == "postgres" else None
    try:
        now = current(where)
    except SnapshotCorruptError:
        now = None  # flagged below
    problems = published_problems(where) if where is None else []
    for problem in problems:  # damaged snapshots are flagged, not listed
        click.echo(f"warning: {problem}", err=True)
    rows = [
        {
            "current": "*" if now and s.build_id == now.build_id else "",
            "build_id": s.build_id,
            "created_at": s.created_at,
            "tables": len(s.rows),
            "rows": sum(s.rows.values()),
            "location": s.location,
        }
        for s in list_snapshots(where)
    ]
    if as_json:
        _echo_json(rows)
    elif rows:
        click.echo(
            _table(rows, ["current", "build_id", "created_at", "tables", "rows", "location"])
        )
    else:
        click.echo("nothing published yet: run `dataproducts build`.")


@cli.command()
@_target_option
@click.option(
    "--source",
    metavar="TARGET",
    help="A DuckDB file or postgresql:// URL holding built marts [default: the target's warehouse].",
)
@click.option(
    "--data-docs",
    type=click.Path(file_okay=False),
    help="Where to write the Data Docs [default: warehouse/data_docs].",
)
def validate(target: str, source: str | None, data_docs: str | None) -> None:
    """Run the validation gate (great-expectations) on the built marts; exit 1 on failure.

    Row counts are compared with the current snapshot's when there is one.

    \b
    Examples:
      dataproducts validate
      dataproducts validate --data-docs /tmp/data_docs
      dataproducts validate --source warehouse/dataproducts.duckdb
    """
    from . import settings
    from .build import check_duckdb_warehouse, postgres_dsn
    from .paths import default_duckdb_path
    from .publish import current, pg_url
    from .validation import validate_build

    settings.check(settings.for_target(target, build=False))
    if source is None and target != "postgres":
        check_duckdb_warehouse(default_duckdb_path(), raw=False)
    if source is None:
        source = pg_url(postgres_dsn()) if target == "postgres" else str(default_duckdb_path())
    now = current(postgres_dsn() if target == "postgres" else None)
    report = validate_build(source, now.manifest if now else None, data_docs_dir=data_docs)
    click.echo(report.summary())
    if not report.success:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--no-serve", is_flag=True, help="Generate the site only.")
@click.option(
    "--target-path",
    type=click.Path(file_okay=False),
    help="dbt's target directory [default: $DBT_TARGET_PATH or target/].",
)
def docs(port: int, no_serve: bool, target_path: str | None) -> None:
    """Generate the dbt docs site (models, columns, lineage, exposures) and serve it.

    \b
    Examples:
      dataproducts docs                   # http://127.0.0.1:8080
      dataproducts docs --port 8081
      dataproducts docs --no-serve        # write target/index.html only
    """
    from pathlib import Path

    from .build import run_dbt
    from .publish import default_target_path

    tp = Path(target_path) if target_path else default_target_path()
    if run_dbt(["docs", "generate"], target="dev", target_path=tp) != 0:
        sys.exit(EXIT_FAILED)
    click.echo(f"docs site: {tp / 'index.html'}")
    if not no_serve:
        click.echo(f"serving on http://127.0.0.1:{port} (Ctrl-C to stop)")
        sys.exit(
            run_dbt(
                ["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
                target="dev",
                target_path=tp,
            )
        )


# --- reading the products ---------------------------------------------------------------


@cli.command()
@click.argument("learner_id", type=int)
@click.option("--module", help="One module (recent_activity, because_you_viewed, popular, ...).")
@click.option(
    "--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Ranks per module."
)
@_source_option
@_json_option
def recommend(
    learner_id: int, module: str | None, limit: int, source: str | None, as_json: bool
) -> None:
    """The recommendations of LEARNER_ID, by module then rank.

    \b
    Examples:
      dataproducts recommend 17
      dataproducts recommend 17 --module popular --limit 3 --json
    """
    from .client import connect

    with connect(source) as client:
        recs = client.recommendations.for_learner(learner_id, module, limit)
        build_id = client.build_id
    if as_json:
        _echo_json(recs)
        return
    if not recs:
        click.echo(f"no recommendations for learner {learner_id} ({_build(build_id)})")
        return
    click.echo(f"recommendations for learner {learner_id} ({_build(build_id)})")
    click.echo(_table(recs, ["module", "rank", "course_id", "score", "algorithm", "reason"]))


@cli.command()
@click.argument("course_id", type=int)
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@_source_option
@_json_option
def similar(course_id: int, limit: int, source: str | None, as_json: bool) -> None:
    """The courses most similar to COURSE_ID (learners who took one took the other).

    \b
    Examples:
      dataproducts similar 3
      dataproducts similar 3 --limit 5 --json
    """
    from .client import connect

    with connect(source) as client:
        rows = client.recommendations.similar(course_id, limit)
        build_id = client.build_id
    if as_json:
        _echo_json(rows)
    elif rows:
        click.echo(f"courses similar to {course_id} ({_build(build_id)})")
        click.echo(_table(rows, ["rank", "similar_course_id", "similarity", "method"]))
    else:
        click.echo(f"no similar courses for course {course_id} ({_build(build_id)})")


@cli.command()
@click.argument("experiment_id")
@click.argument("learner_id")
@_source_option
@_json_option
def assign(experiment_id: str, learner_id: str, source: str | None, as_json: bool) -> None:
    """Print the variant LEARNER_ID gets in EXPERIMENT_ID (deterministic, MD5-based).

    Uses the published registry; before anything is published, the registry in seeds/.

    \b
    Examples:
      dataproducts assign exp_completion_nudge 17
      dataproducts assign exp_syllabus_layout 17 --json
    """
    from .allocation import canonical_learner_id
    from .errors import NotPublishedError

    learner = canonical_learner_id(learner_id)  # exit 2 before anything is read
    try:
        from .client import connect

        with connect(source) as client:
            variant = client.experiments.assign(experiment_id, learner)
    except NotPublishedError:
        if source is not None:
            raise
        from .allocation import assign as from_seeds

        variant = from_seeds(experiment_id, learner)
    if as_json:
        _echo_json({"experiment_id": experiment_id, "learner_id": learner, "variant": variant})
    else:
        click.echo(variant)


@cli.command()
@click.argument("experiment_id")
@_source_option
@_json_option
def experiment(experiment_id: str, source: str | None, as_json: bool) -> None:
    """Health checks, then results, of EXPERIMENT_ID (read the health first).

    \b
    Examples:
      dataproducts experiment exp_completion_nudge
      dataproducts experiment exp_srm_checkout --json
    """
    from .client import connect

    with connect(source) as client, client.pinned() as snap:
        health = snap.experiments.health(experiment_id)
        results = snap.experiments.results(experiment_id)
        build_id = snap.build_id
    if as_json:
        _echo_json({"health": health, "results": results})
        return
    h = health
    click.echo(f"{h.experiment_name} ({h.experiment_id}) — {h.status}, {_build(build_id)}")
    click.echo(
        f"  {h.start_at:%Y-%m-%d} → {h.end_at:%Y-%m-%d}, {h.days_running} days, "
        f"{h.units_analysed} units ({h.units_by_variant})"
    )
    checks = [
        ("sample ratio", h.is_srm_alarm, f"p = {_cell(h.srm_p_value)}"),
        ("allocation", h.is_allocation_mismatch_alarm, f"{h.allocation_mismatches} mismatched"),
        (
            "multiple exposures",
            h.is_multiple_exposure_alarm,
            f"{h.multiple_variant_learners} learners",
        ),
    ]
    for name, alarm, detail in checks:
        click.echo(f"  {'ALARM' if alarm else 'ok   '}  {name}: {detail}")
    if not h.is_healthy:
        click.echo("  health check failed: the results below are for diagnosis only.")
    click.echo("")
    cols = [
        "metric_id",
        "variant",
        "control_mean",
        "treatment_mean",
        "relative_lift",
        "relative_lift_ci_lower",
        "relative_lift_ci_upper",
        "p_value",
        "adjusted_p_value",
        "is_significant",
    ]
    click.echo(_table(results.to_dict(orient="records"), cols))


@cli.command()
@click.argument("learner_id", type=int)
@click.option("--course", "course_id", type=int, help="One course only.")
@_source_option
@_json_option
def coaching(learner_id: int, course_id: int | None, source: str | None, as_json: bool) -> None:
    """The coaching messages queued for LEARNER_ID, and the learner's goals.

    \b
    Examples:
      dataproducts coaching 17
      dataproducts coaching 17 --course 3 --json
    """
    from .client import connect

    with connect(source) as client, client.pinned() as snap:
        queue = snap.coaching.queue_for(learner_id, course_id)
        goals = snap.goals.for_learner(learner_id)
        build_id = snap.build_id
    if course_id is not None:
        goals = [g for g in goals if g.course_id == course_id]
    if as_json:
        _echo_json({"queue": queue, "goals": goals})
        return
    click.echo(f"coaching for learner {learner_id} ({_build(build_id)})")
    if queue:
        click.echo(
            _table(queue, ["send_after", "course_id", "message_id", "variant", "rendered_text"])
        )
    else:
        click.echo("  no message queued")
    if goals:
        click.echo("")
        click.echo(
            _table(goals, ["goal_id", "course_id", "status", "target_date", "next_surfacing"])
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def summary(as_json: bool) -> None:
    """Rows per layer and per quarantine reason, the published snapshot, example calls.

    \b
    Examples:
      dataproducts summary
      dataproducts summary --json
    """
    from .summary import collect, render

    data = collect()
    click.echo(json.dumps(data, indent=2, default=str) if as_json else render(data))


@cli.group()
def report() -> None:
    """Self-contained HTML reports (open from disk, no server).

    \b
    Examples:
      dataproducts report experiment exp_completion_nudge
      dataproducts report experiment exp_aa_homepage --out /tmp/aa.html
    """


@report.command("experiment")
@click.argument("experiment_id")
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Output file [default: EXPERIMENT_ID.html]."
)
@click.option(
    "--duckdb",
    "duckdb_path",
    type=click.Path(dir_okay=False),
    help="Read this DuckDB warehouse file instead of the published snapshot.",
)
@_source_option
def report_experiment(
    experiment_id: str, out: str | None, duckdb_path: str | None, source: str | None
) -> None:
    """Scorecard of EXPERIMENT_ID: health checks, forest plot of lifts, numbers.

    \b
    Examples:
      dataproducts report experiment exp_completion_nudge
      dataproducts report experiment exp_aa_homepage --out /tmp/aa.html
      dataproducts report experiment exp_srm_checkout --duckdb warehouse/dataproducts.duckdb
    """
    from .client import connect
    from .report import write_experiment_report

    with connect(duckdb_path or source) as client:
        click.echo(write_experiment_report(experiment_id, out, client=client))


# --- output -----------------------------------------------------------------------------


def _build(build_id: str | None) -> str:
    return f"build {build_id}" if build_id else "live warehouse"


class _StepTimer:
    """Prints each step of a build or publish with its time: ``publish: copied (+2.1 s,
    44.0 s in all)`` (the time since the step before, and since the command started)."""

    def __init__(self, command: str) -> None:
        import time

        self._clock = time.monotonic
        self._command = command
        self._start = self._last = self._clock()

    def __call__(self, step: str) -> None:
        now = self._clock()
        label = "dbt build" if step == "built" else "publish"
        click.echo(
            f"{label}: {step} (+{now - self._last:.1f} s, {now - self._start:.1f} s in all)",
            err=True,
        )
        self._last = now


def _published_line(info: Any) -> str:
    line = (
        f"published {info.build_id}: {len(info.rows)} tables, {sum(info.rows.values()):,} rows "
        f"({info.location})"
    )
    invocation = info.manifest.get("invocation") or {}
    if invocation.get("partial"):
        selection = json.dumps(invocation.get("selection"))
        line += (
            f"\nPARTIAL build published on purpose (dbt {selection}): the marts outside "
            "the selection are as an earlier build left them in the warehouse."
        )
    return line


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return [_plain(r) for r in value.to_dict(orient="records")]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        return _plain(value.item())
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    except (TypeError, ValueError):
        pass
    return value


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    text = str(value)
    if len(text) >= 19 and text[10:11] == "T":  # an ISO timestamp
        text = text[:16].replace("T", " ")
    return text if len(text) <= 80 else text[:79] + "…"


def _table(rows: Sequence[Any], columns: Sequence[str]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    records = [r if isinstance(r, Mapping) else dataclasses.asdict(r) for r in rows]
    cells = [[_cell(r.get(c)) for c in columns] for r in records]
    numeric = [
        all(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool) for r in records)
        for c in columns
    ]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def run(args: Sequence[str] | None = None) -> int:
    """Run the CLI; its exit code (errors of the package become documented codes)."""
    try:
        cli.main(args=list(args) if args is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_FAILED
    except DataProductsError as exc:
        code = next(c for kind, c in _EXIT_CODES if isinstance(exc, kind))
        click.echo(f"error: {exc}", err=True)
        for failure in getattr(exc, "failures", [])[:50]:
            click.echo(f"  - {failure}", err=True)
        return code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    return EXIT_OK


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":  # pragma: no cover
    main()
