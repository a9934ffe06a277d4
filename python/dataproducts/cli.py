"""The ``dataproducts`` command line.

The read-only commands (recommend, similar, assign, experiment, coaching, snapshots,
report) live here, on the reader package. The build side's commands (generate, build,
publish, rollback, validate, docs, summary) live in :mod:`dataproducts_pipeline.cli` and
join this group through the entry-point group ``dataproducts.commands``: each is loaded
only when called, and a reader-only install (``pip install dataproducts``) lists them and
says to install the ``pipeline`` extra instead of failing on a missing import.

Command bodies stay thin: the logic lives in the packages (``client`` and the product
modules here, ``build`` and ``publish`` on the build side), so what the CLI does a service
can do in Python.
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
    PipelineNotInstalledError,
    PublishError,
    RegistryError,
    UnknownExperimentError,
    WarehouseError,
)

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


def target_option(f: Any = None, *, spark: bool = False) -> Any:
    """``--target``: dev or postgres, and spark for the commands that build on it."""
    choices = ["dev", "postgres", *(["spark"] if spark else [])]
    help_text = "dev: the DuckDB warehouse ($DATAPRODUCTS_DUCKDB); postgres: $DATAPRODUCTS_PG_*"
    help_text += "; spark: the Thrift server of $DATAPRODUCTS_SPARK_*." if spark else "."
    option = click.option(
        "--target", type=click.Choice(choices), default="dev", show_default=True, help=help_text
    )
    return option(f) if f is not None else option


#: The entry-point group through which the build side adds its commands.
COMMANDS_GROUP = "dataproducts.commands"


class _Commands(click.Group):
    """The reader's commands, and the build side's from :data:`COMMANDS_GROUP`, loaded
    only when called (``dataproducts recommend`` never reads the entry points)."""

    def _plugins(self) -> dict[str, Any]:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        plugin = self._plugins().get(cmd_name)
        if plugin is None:
            return None
        try:
            return plugin.load()
        except ImportError as exc:  # PipelineNotInstalledError included
            return _needs_pipeline(cmd_name, exc)


def _needs_pipeline(name: str, exc: ImportError) -> click.Command:
    """A stand-in for a build-side command whose dependencies are not installed."""
    why = (
        str(exc)
        if isinstance(exc, PipelineNotInstalledError)
        else (
            f"the build side cannot be imported ({exc}); install the pipeline extra: "
            "pip install 'dataproducts[pipeline]'."
        )
    )

    def callback(**_: Any) -> None:
        raise PipelineNotInstalledError(f"`dataproducts {name}`: {why}")

    return click.Command(
        name,
        callback=callback,
        help="Build side: needs `pip install 'dataproducts[pipeline]'`.",
        short_help="[needs the pipeline extra]",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


@cli.command()
@target_option
@_json_option
def snapshots(target: str, as_json: bool) -> None:
    """The published snapshots kept, oldest first; * marks the current one.

    \b
    Examples:
      dataproducts snapshots
      dataproducts snapshots --json
      dataproducts snapshots --target postgres
    """
    from .dsn import dsn_from_env
    from .errors import SnapshotCorruptError
    from .snapshots import current, list_snapshots, published_problems

    where = dsn_from_env() if target == "postgres" else None
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
        "relative_lift_p_value",
        "adjusted_p_value",
        "is_significant",
        "chance_to_beat_control",
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
@click.option(
    "--sequential",
    is_flag=True,
    help="Always-valid intervals and p-values, for reading a running experiment daily.",
)
@_source_option
def report_experiment(
    experiment_id: str,
    out: str | None,
    duckdb_path: str | None,
    sequential: bool,
    source: str | None,
) -> None:
    """Scorecard of EXPERIMENT_ID: health checks, forest plot of lifts, numbers.

    \b
    Examples:
      dataproducts report experiment exp_completion_nudge
      dataproducts report experiment exp_aa_homepage --out /tmp/aa.html
      dataproducts report experiment exp_syllabus_layout --sequential
      dataproducts report experiment exp_srm_checkout --duckdb warehouse/dataproducts.duckdb
    """
    from .client import connect
    from .report import write_experiment_report

    with connect(duckdb_path or source) as client:
        path = write_experiment_report(experiment_id, out, client=client, sequential=sequential)
        click.echo(path)


# --- output -----------------------------------------------------------------------------


def _build(build_id: str | None) -> str:
    return f"build {build_id}" if build_id else "live warehouse"


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
