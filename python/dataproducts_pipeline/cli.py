"""The build side's commands of the ``dataproducts`` command line: generate, build, publish,
rollback, validate, docs, summary.

They reach the one ``dataproducts`` command through the entry-point group
``dataproducts.commands`` (pyproject.toml): the reader's CLI (:mod:`dataproducts.cli`) lists
them and loads one only when it is called, so a reader-only install shows them, and says
which extra to install, without importing the build side.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import click

from dataproducts.cli import EXIT_FAILED, target_option

from .generator.config import DEFAULT_END

# --- raw data ---------------------------------------------------------------------------

#: The generator's default end of data (the experiments of the registry run inside it).
DEFAULT_END_DATE = f"{DEFAULT_END:%Y-%m-%d}"


def _end_date(value: str | None, option: str = "--end-date") -> datetime | None:
    """``--end-date``/``--start-date``: a calendar day (midnight UTC) or ``today``."""
    from datetime import UTC

    if value is None:
        return None
    text = value.strip().lower()
    if text == "today":
        day = datetime.now(UTC).date()
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a date: use YYYY-MM-DD (e.g. 2026-11-01) or 'today'.",
                param_hint=f"'{option}'",
            ) from None
    return datetime(day.year, day.month, day.day)


@click.command()
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
    "--end",
    "end",
    metavar="YYYY-MM-DD|today",
    callback=lambda _ctx, _param, value: _end_date(value),
    default=DEFAULT_END_DATE,
    show_default=True,
    help="The data ends at midnight UTC of this day (`today`: today's date, UTC): it "
    "holds the rows loaded before it.",
)
@click.option(
    "--start-date",
    "start",
    metavar="YYYY-MM-DD",
    callback=lambda _ctx, _param, value: _end_date(value, "--start-date"),
    help="The world's first day (sign-ups and launches start here) [default: the end "
    "minus --days]. Regenerating from an appended warehouse's start gives the same data.",
)
@click.option(
    "--append",
    is_flag=True,
    help="Add to the target's raw tables the rows loaded between their current end and "
    "--end-date (the same world: seed, sizes and start come from the target's log).",
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
    type=click.Choice(["dev", "postgres", "spark"]),
    default="dev",
    show_default=True,
    help="dev: the DuckDB file ($DATAPRODUCTS_DUCKDB); postgres: the server in "
    "$DATAPRODUCTS_PG_*; spark: Parquet files in $DATAPRODUCTS_SPARK_RAW_DIR registered on "
    "the Thrift server at $DATAPRODUCTS_SPARK_HOST:$DATAPRODUCTS_SPARK_PORT.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(**kwargs: Any) -> None:
    """Generate synthetic raw data with planted structure into schema `raw`.

    Deterministic for a seed, a start and an end date. Replaces the raw tables of the
    target, or, with --append, adds the next days of the same world to them: generating to
    D then appending to D+1 gives the same tables as generating to D+1 from the same start.

    \b
    Examples:
      dataproducts generate --scale tiny --seed 1
      dataproducts generate --scale tiny --seed 1 --append --end-date 2026-11-02
      dataproducts generate --scale small --bad-row-rate 0.01 --end-date today
      dataproducts generate --learners 1000 --courses 50 --days 60 --quiet
      dataproducts generate --scale tiny --target postgres
      dataproducts generate --scale tiny --target spark
    """
    from dataproducts import settings

    from .generate import generate as run

    settings.check(
        ("DATAPRODUCTS_GENERATE_MEMORY", *settings.for_target(kwargs["target"], build=False))
    )
    quiet = kwargs.pop("quiet")
    if kwargs["append"]:
        from click.core import ParameterSource

        ctx = click.get_current_context()
        given = [
            f"--{name.replace('_', '-')}"
            for name in ("scale", "learners", "courses", "days", "seed", "bad_row_rate")
            if ctx.get_parameter_source(name)
            in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
        ] + (["--start-date"] if kwargs["start"] is not None else [])
        if given:
            raise click.UsageError(
                f"--append takes the world from the target's generator log: drop {', '.join(given)}."
            )
    report = run(progress=not quiet, **kwargs)
    click.echo(report.summary())


# --- build and publish ------------------------------------------------------------------


@click.command(context_settings={"ignore_unknown_options": True})
@target_option(spark=True)
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
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Rebuild the incremental models from all history (dbt's --full-refresh); by "
    "default they keep their rows and recompute only the days that changed.",
)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def build(
    target: str,
    keep: int | None,
    target_path: str | None,
    no_publish: bool,
    partial: bool,
    full_refresh: bool,
    dbt_args: tuple[str, ...],
) -> None:
    """dbt build, then the validation gate, then publish a snapshot.

    Extra arguments go to dbt. Nothing is published when a model, a dbt test or an
    expectation of the gate fails (exit 1); the current snapshot keeps serving.
    A dbt selection (--select, --exclude...) needs --no-publish or --partial.
    Incremental by default: the event-like staging models classify again only the load
    days that changed since the last build, the daily sums of events recompute only the
    days whose events changed (every day when a var they depend on changed), and the
    output says what each added; --full-refresh rebuilds them from all history (same
    rows).

    \b
    Examples:
      dataproducts build
      dataproducts build --full-refresh
      dataproducts build --target postgres
      dataproducts build --target spark             # the Spark Thrift server of $DATAPRODUCTS_SPARK_*
      dataproducts build -- --vars '{recommendations_k: 20}'
      dataproducts build --no-publish -- --select +recommendations
    """
    from .build import build as run

    if no_publish and partial:
        raise click.UsageError("--no-publish and --partial exclude each other.")
    steps = _StepTimer("build")
    from .increments import render

    info = run(
        target,
        dbt_args,
        target_path=target_path,
        keep=keep,
        partial=partial,
        publish_snapshot=not no_publish,
        full_refresh=full_refresh,
        on_step=steps,
        on_increments=lambda items: click.echo(render(items)) if items else None,
    )
    if info is None:
        click.echo(f"built (dbt build {' '.join(dbt_args)}); nothing published, as asked.")
        return
    click.echo(_published_line(info))


@click.command()
@target_option(spark=True)
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
      dataproducts publish --target spark
    """
    from dataproducts import settings
    from dataproducts.paths import default_duckdb_path

    from .build import check_duckdb_warehouse, postgres_dsn
    from .publish import publish as run

    settings.check(settings.for_target(target))
    if target == "postgres":
        source: Any = postgres_dsn()
    elif target == "spark":
        from .generator.spark import server_from_env
        from .spark_publish import spark_url

        source = spark_url(**server_from_env())
    else:
        source = default_duckdb_path()
        check_duckdb_warehouse(source, raw=False)
    info = run(
        source, target_path=target_path, keep=keep, partial=partial, on_step=_StepTimer("publish")
    )
    click.echo(_published_line(info))


@click.command()
@target_option
def rollback(target: str) -> None:
    """Make the previous snapshot current again (readers switch on their next call).

    \b
    Examples:
      dataproducts rollback
      dataproducts rollback --target postgres
    """
    from dataproducts.dsn import dsn_from_env

    from .publish import rollback as run

    info = run(dsn_from_env() if target == "postgres" else None)
    click.echo(
        f"current snapshot is now {info.build_id} (published {info.created_at:%Y-%m-%d %H:%M:%S} UTC)"
    )


@click.command()
@target_option
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
    from dataproducts import settings
    from dataproducts.paths import default_duckdb_path
    from dataproducts.snapshots import current, pg_url

    from .build import check_duckdb_warehouse, postgres_dsn
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


@click.command()
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


@click.command()
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
