"""A newcomer's first hour: reaching the CLI, help that teaches, dbt that does not re-parse
at every switch between ``make`` and the CLI, and source freshness that means something
on generated data (issue 13)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dataproducts.cli import cli, run
from dataproducts.paths import default_duckdb_path
from dataproducts_pipeline.build import dbt_environment

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DBT = BIN / "dbt"


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the developer's DATAPRODUCTS_*/DBT_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.update(extra)
    return env


# --- reaching the CLI -------------------------------------------------------------------


def test_readme_says_how_to_reach_the_cli_and_that_way_works() -> None:
    readme = (REPO / "README.md").read_text()
    makefile = (REPO / "Makefile").read_text()
    # the README names both ways: activating the virtualenv, or the script's path
    assert "source .venv/bin/activate" in readme
    assert ".venv/bin/dataproducts" in readme
    # ... and that .venv is the one make creates, with this package's console script
    assert re.search(r"^VENV\s*:=\s*\.venv\s*$", makefile, re.M)
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["dataproducts"] == "dataproducts.cli:main"
    # after install the script exists in the virtualenv (the one running these tests:
    # make's .venv under `make test`) and activating it puts the script on PATH
    script = BIN / "dataproducts"
    assert script.exists(), f"{script} missing: the package's console script was not installed"
    assert (BIN / "activate").exists()
    found = subprocess.run(
        ["bash", "-c", f"source {shlex.quote(str(BIN / 'activate'))} && command -v dataproducts"],
        capture_output=True,
        text=True,
        env=_clean_env(PATH="/usr/bin:/bin"),
        check=True,
    ).stdout.strip()
    assert Path(found) == script
    proc = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, env=_clean_env(), check=True
    )
    assert "Examples" in proc.stdout


def test_make_run_ends_saying_how_to_reach_the_cli() -> None:
    # make -n prints the recipe without running it (nothing is installed or built)
    proc = subprocess.run(
        ["make", "-n", "--no-print-directory", "run"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=True,
    )
    lines = proc.stdout.replace("\\\n", " ").splitlines()  # continuation lines joined
    last = [line for line in lines if line.strip()][-1]
    assert "source .venv/bin/activate" in last and ".venv/bin/dataproducts" in last, last
    # and make run's data: bad rows planted (the README's quarantine query shows them) and
    # ending today (source freshness passes)
    generate = next(line for line in lines if " generate " in line)
    args = shlex.split(generate)
    assert float(args[args.index("--bad-row-rate") + 1]) > 0
    assert args[args.index("--end-date") + 1] == "today"


# --- help that teaches ------------------------------------------------------------------


def _commands(
    command: click.Command = cli, path: tuple[str, ...] = ("dataproducts",)
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):  # list_commands: the build side's come by entry point
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from _commands(command.get_command(ctx, name), (*path, name))


ALL_COMMANDS = list(_commands())


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    # listed by hand from `dataproducts --help`, so a command the walk misses fails here
    for expected in (
        "dataproducts",
        "dataproducts generate",
        "dataproducts build",
        "dataproducts publish",
        "dataproducts rollback",
        "dataproducts snapshots",
        "dataproducts validate",
        "dataproducts docs",
        "dataproducts recommend",
        "dataproducts similar",
        "dataproducts assign",
        "dataproducts experiment",
        "dataproducts coaching",
        "dataproducts summary",
        "dataproducts report",
        "dataproducts report experiment",
    ):
        assert expected in names


def _resolve(tokens: list[str]) -> tuple[click.Command, str, list[str]]:
    """The command an example line invokes, and the arguments left for it."""
    assert tokens[0] == "dataproducts"
    command: click.Command = cli
    name, rest = "dataproducts", tokens[1:]
    while isinstance(command, click.Group) and rest:
        sub = command.get_command(click.Context(command), rest[0])
        if sub is None:
            break
        name, command, rest = rest[0], sub, rest[1:]
    return command, name, rest


@pytest.mark.parametrize(
    ("path", "command"), ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS]
)
def test_every_help_has_examples_that_run(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*path[1:], "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Example" in out, f"{' '.join(path)} --help has no examples"
    assert "``" not in out, "RST markup shows literally in click's help"
    examples = [
        line.strip() for line in out.splitlines() if line.strip().startswith("dataproducts ")
    ]
    # verbatim (click's \b): one example per line, never re-wrapped into a paragraph
    assert any(line.split("#")[0].split()[: len(path)] == list(path) for line in examples), out
    for line in out.splitlines():
        assert line.count("dataproducts ") <= 1 or "`" in line, f"re-wrapped examples: {line!r}"
    # every example parses: known options, valid choices and types
    for line in examples:
        leaf, name, rest = _resolve(shlex.split(line, comments=True))
        if rest and rest[0] == "--":  # build's pass-through to dbt
            rest = rest[1:]
        try:
            leaf.make_context(name, rest)
        except click.ClickException as exc:
            pytest.fail(f"example {line!r} does not parse: {exc.format_message()}")


# --- the generator's end date and source freshness ------------------------------------


def test_end_date_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wh.duckdb"
    import duckdb

    def generate(*args: str) -> datetime:
        code = run(["generate", "--scale", "tiny", "--days", "20", "--quiet", *args])
        out, err = capsys.readouterr()
        assert code == 0, out + err
        with duckdb.connect(str(db), read_only=True) as con:
            return con.sql("select max(_loaded_at) from raw.events").fetchone()[0]

    os.environ["DATAPRODUCTS_DUCKDB"] = str(db)
    try:
        default = generate()
        assert datetime(2026, 10, 31) <= default < datetime(2026, 11, 1)  # the default end
        assert generate("--end-date", "2026-11-01") == default  # the same day: the same data
        moved = generate("--end-date", "2025-03-02")
        assert datetime(2025, 3, 1) <= moved < datetime(2025, 3, 2)
        today = datetime.now(UTC).date()
        latest = generate("--end-date", "today")
        assert latest < datetime(today.year, today.month, today.day)
        assert latest.date() >= date.fromordinal(today.toordinal() - 1)
    finally:
        del os.environ["DATAPRODUCTS_DUCKDB"]
    code = run(["generate", "--end-date", "2026-02-30"])
    assert code == 2
    assert "--end-date" in capsys.readouterr().err


def _freshness(tmp_path: Path, end_date: str) -> tuple[int, dict[str, str]]:
    """Generate tiny data ending at ``end_date`` into a scratch warehouse, then ``dbt source
    freshness`` on it: its exit code and each source table's status."""
    db = tmp_path / f"{end_date}.duckdb"
    env = _clean_env(DATAPRODUCTS_DUCKDB=str(db), DBT_PROFILES_DIR=str(REPO))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dataproducts.cli",
            "generate",
            "--scale",
            "tiny",
            "--seed",
            "1",
            "--end-date",
            end_date,
            "--quiet",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    tp = tmp_path / f"target-{end_date}"
    proc = subprocess.run(
        [str(DBT), "source", "freshness", "--target-path", str(tp), "--log-path", str(tp / "logs")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    results = json.loads((tp / "sources.json").read_text())["results"]
    return proc.returncode, {r["unique_id"].split(".")[-1]: r["status"] for r in results}


ACTIVITY = ["learners", "events", "coaching_deliveries", "coaching_responses", "learner_goals"]


def test_source_freshness_passes_on_data_generated_today(tmp_path: Path) -> None:
    code, status = _freshness(tmp_path, "today")
    for table in [*ACTIVITY, "courses", "course_items"]:
        assert status[table] == "pass", status
    # exposures stop when no experiment runs: a warning at most, never an error
    assert status["experiment_exposures"] in ("pass", "warn"), status
    assert code == 0


def test_source_freshness_fails_on_stale_data(tmp_path: Path) -> None:
    code, status = _freshness(tmp_path, "2025-06-01")
    # more than 7 days (activity) and 180 days (catalog) before today
    assert datetime.now(UTC).date() > date(2025, 12, 1)
    for table in [*ACTIVITY, "courses", "course_items"]:
        assert status[table] == "error", status
    assert status["experiment_exposures"] == "warn", status
    assert code == 1


# --- dbt parses once, whichever route runs it -------------------------------------------


def test_relative_warehouse_path_means_the_same_file_to_dbt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAPRODUCTS_DUCKDB", "wh/x.duckdb")
    # dbt runs in the repository; the path must still be the one relative to here
    assert dbt_environment()["DATAPRODUCTS_DUCKDB"] == str(tmp_path / "wh" / "x.duckdb")
    assert default_duckdb_path().resolve() == tmp_path / "wh" / "x.duckdb"
    monkeypatch.delenv("DATAPRODUCTS_DUCKDB")
    assert "DATAPRODUCTS_DUCKDB" not in dbt_environment()  # unset stays unset


def test_make_and_the_cli_share_dbt_partial_parse(tmp_path: Path) -> None:
    """`make` targets and the CLI run dbt with the same profile environment, so switching
    between them does not make dbt re-parse the whole project."""
    tp = tmp_path / "target"
    # the Makefile's own environment (its exports), running dbt parse as its recipes do
    extra = tmp_path / "parse.mk"
    extra.write_text(f"parse-check:\n\t{DBT} parse --target-path {tp} --log-path {tp}/logs\n")
    env = _clean_env()

    def via_make() -> str:
        proc = subprocess.run(
            [
                "make",
                "-s",
                "--no-print-directory",
                "-f",
                "Makefile",
                "-f",
                str(extra),
                "parse-check",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def via_cli() -> str:
        code = (
            "import sys; from pathlib import Path; from dataproducts_pipeline.build import run_dbt;"
            f"sys.exit(run_dbt(['parse'], target='dev', target_path=Path({str(tp)!r})))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,  # anywhere: the CLI runs dbt in the repository
            env={**env, "PYTHONPATH": str(REPO / "python")},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    first = via_make()
    assert "saved manifest not found" in first  # a fresh target: the one full parse
    for out in (via_cli(), via_make(), via_cli()):
        assert "Unable to do partial parsing" not in out, out


# --- the docs site's Source panel -------------------------------------------------------


@pytest.fixture(scope="module")
def parsed_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`dbt parse` of the project (in-memory lint target) into a scratch target dir."""
    tp = tmp_path_factory.mktemp("parse") / "target"
    subprocess.run(
        [
            *(str(DBT), "parse", "--no-partial-parse", "--quiet", "--target", "lint"),
            *("--target-path", str(tp), "--log-path", str(tp / "logs")),
        ],
        cwd=REPO,
        env=_clean_env(DBT_PROFILES_DIR=str(REPO)),
        check=True,
    )
    return json.loads((tp / "manifest.json").read_text())


def test_sql_source_shown_by_the_docs_site_has_balanced_quotes(parsed_manifest: dict) -> None:
    """The docs site highlights a model's or macro's source as SQL, which knows `--`
    comments but not Jinja's `{# #}`: an apostrophe in a Jinja comment ("every module's
    list") opens a string that swallows the rest of the code (the Source panel of
    recommendations_v1 showed blank lines and text pushed right). So quotes in Jinja
    comments come in pairs (write U+2019 for an apostrophe), and a SQL model's code, comments
    aside, has an even number of single quotes."""
    bad: list[str] = []
    nodes = {**parsed_manifest["nodes"], **parsed_manifest["macros"]}
    for node in nodes.values():
        path = node.get("original_file_path", "")
        if node.get("package_name") != "dataproducts" or not path.endswith(".sql"):
            continue
        code = node.get("raw_code") or node.get("macro_sql") or ""
        for comment in re.findall(r"\{#.*?#\}", code, re.S):
            if comment.count("'") % 2 or comment.count('"') % 2:
                bad.append(f"{path}: unpaired quote in {comment[:60]!r}")
        if node["resource_type"] == "model":
            body = re.sub(r"--[^\n]*", "", re.sub(r"\{#.*?#\}", "", code, flags=re.S))
            if body.count("'") % 2:
                bad.append(f"{path}: odd number of single quotes")
    assert bad == []
    assert "model.dataproducts.recommendations.v1" in parsed_manifest["nodes"]
