"""The ``dataproducts`` command line.

Each product adds its commands here; keep the command bodies thin and the logic in the
product's own module.
"""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .errors import DataProductsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dataproducts")
def cli() -> None:
    """Data products of an online-learning platform: generate raw data, build, read.

    \b
    Typical first session:
      dataproducts generate --scale tiny --seed 1     # synthetic raw data into DuckDB
      dbt build                                      # staging, products, tests
      dataproducts summary                           # what got built
    """


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
def generate(**kwargs) -> None:
    """Generate synthetic raw data with planted structure into schema ``raw``.

    Deterministic for a seed. Replaces the raw tables of the target.
    """
    from .generate import generate as run

    quiet = kwargs.pop("quiet")
    report = run(progress=not quiet, **kwargs)
    click.echo(report.summary())


@cli.command()
@click.argument("experiment_id")
@click.argument("learner_id")
def assign(experiment_id: str, learner_id: str) -> None:
    """Print the variant LEARNER_ID gets in EXPERIMENT_ID (deterministic, MD5-based)."""
    from .allocation import assign as do_assign

    click.echo(do_assign(experiment_id, learner_id))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def summary(as_json: bool) -> None:
    """Rows per layer and per quarantine reason in the DuckDB warehouse."""
    from .summary import collect, render

    data = collect()
    click.echo(json.dumps(data, indent=2, default=str) if as_json else render(data))


def main() -> None:
    try:
        cli(standalone_mode=True)
    except DataProductsError as exc:  # pragma: no cover - click handles exit codes
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
