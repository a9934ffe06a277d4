"""The light install, from outside: a fresh virtualenv with only ``pip install .`` (the reader,
no extra) runs the README's Python examples and ``dataproducts recommend`` against the
snapshot the session's build published, and the build side says what to install.

The package is installed from a copy of what a checkout ships (pyproject.toml, README,
python/), so the build leaves nothing in the repository; versions come from
constraints.txt, as ``make`` installs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from client_fixtures import Published

pytest_plugins = ["client_fixtures"]  # published_duckdb

REPO = Path(__file__).resolve().parents[2]

#: What reading needs, and what it must not install (the pipeline extra's).
READER_DISTRIBUTIONS = {"duckdb", "pandas", "numpy", "pyarrow", "psycopg2-binary", "click"}
PIPELINE_DISTRIBUTIONS = {
    "dbt-core",
    "great-expectations",
    "scipy",
    "implicit",
    "scikit-learn",
    "pyspark",
    "dbt-spark",
}


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)


@pytest.fixture(scope="module")
def reader_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reader_install")
    checkout = root / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(REPO / name, checkout / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for package in ("dataproducts", "dataproducts_pipeline"):
        shutil.copytree(REPO / "python" / package, checkout / "python" / package, ignore=ignore)
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)])
    assert made.returncode == 0, made.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    installed = _run([*pip, "install", "--quiet", "-c", "constraints.txt", "."], cwd=checkout)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return venv


def _env(venv: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the test session's virtualenv or PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAPRODUCTS_", "DBT_"))}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin"
    env.update(extra)
    return env


def test_the_reader_install_has_the_reader_and_nothing_of_the_build(reader_venv: Path) -> None:
    frozen = _run([str(reader_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"])
    names = {line.split("==")[0].lower() for line in frozen.stdout.split()}
    assert names >= READER_DISTRIBUTIONS, READER_DISTRIBUTIONS - names
    assert not names & PIPELINE_DISTRIBUTIONS, names & PIPELINE_DISTRIBUTIONS
    assert not any(n.startswith("dbt") for n in names), sorted(names)


def _readme_python_examples() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## The engineering side", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the README's engineering section has no Python example"
    return "\n".join(blocks)


def test_the_readme_examples_run_on_the_reader_install(
    reader_venv: Path, published_duckdb: Published
) -> None:
    code = _readme_python_examples()
    assert "dataproducts.connect()" in code
    # echo each expression's value, so the examples are seen to return something
    lines = [
        f"print(repr({line.split('#')[0].strip()}))"
        if line.startswith("client.") and "=" not in line.split("(")[0]
        else line
        for line in code.splitlines()
    ]
    out = _run(
        [str(reader_venv / "bin" / "python"), "-c", "\n".join(lines)],
        env=_env(reader_venv, DATAPRODUCTS_PUBLISHED_DIR=published_duckdb.target),
        cwd=reader_venv,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert published_duckdb.build_id in out.stdout
    assert "'control'" in out.stdout or "'treatment'" in out.stdout


def test_dataproducts_recommend_runs_on_the_reader_install(
    reader_venv: Path, published_duckdb: Published
) -> None:
    learner = int(
        published_duckdb.query(
            "select min(learner_id) as l from marts.recommendations where module = 'popular'"
        ).l[0]
    )
    out = _run(
        [str(reader_venv / "bin" / "dataproducts"), "recommend", str(learner), "--json"],
        env=_env(reader_venv, DATAPRODUCTS_SOURCE=published_duckdb.target),
        cwd=reader_venv,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert f'"learner_id": {learner}' in out.stdout and '"module": "popular"' in out.stdout


def test_the_build_side_says_which_extra_to_install(reader_venv: Path) -> None:
    env = _env(reader_venv)
    listed = _run([str(reader_venv / "bin" / "dataproducts"), "--help"], env=env)
    assert listed.returncode == 0, listed.stderr
    for command in ("build", "generate", "publish", "recommend", "snapshots"):
        assert re.search(rf"^\s+{command}\s", listed.stdout, flags=re.M), listed.stdout
    built = _run([str(reader_venv / "bin" / "dataproducts"), "build"], env=env)
    assert built.returncode == 2, built.stdout + built.stderr
    assert "pip install 'dataproducts[pipeline]'" in built.stderr, built.stderr
    assert "Traceback" not in built.stderr
    imported = _run(
        [str(reader_venv / "bin" / "python"), "-c", "import dataproducts_pipeline"], env=env
    )
    assert "PipelineNotInstalledError" in imported.stderr
    assert "pip install 'dataproducts[pipeline]'" in imported.stderr
