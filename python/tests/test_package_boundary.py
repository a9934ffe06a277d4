"""The boundary between the two Python packages, as the README's repository map draws it.

- ``dataproducts`` is the engineering side: it reads published tables. None of its modules
  imports the build side (``dataproducts_pipeline``) or a library only the build needs,
  at module level or inside a function; the build side's CLI commands reach it by entry
  point, never by import.
- The reader's modules import each other without a cycle (a cycle makes the import order
  matter and ties modules that should stand alone).
- What the reader imports is what ``pip install .`` installs: every third-party module it
  imports is a distribution in ``[project] dependencies``.

The reader-only virtualenv of ``test_reader_install.py`` checks the same from outside.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READER = REPO / "python" / "dataproducts"
PIPELINE = REPO / "python" / "dataproducts_pipeline"

#: Libraries of the ``pipeline`` extra (and its dependencies) the reader must not import.
BUILD_ONLY = (
    "dbt",
    "great_expectations",
    "scipy",
    "implicit",
    "sklearn",
    "tqdm",
    "yaml",
    "agate",
    "jinja2",
    "pyspark",
    "pyhive",
    "thrift",
)

#: Import name -> distribution name, where they differ.
DISTRIBUTION = {"psycopg2": "psycopg2-binary"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO / "python").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str | None = None) -> Iterator[tuple[str, int, bool]]:
    """(absolute module imported, line, under ``if TYPE_CHECKING``) of every import of the
    module at ``path`` (named ``name``, default: its name under python/)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name or _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking.update(id(n) for child in node.body for n in ast.walk(child))
    for node in ast.walk(tree):
        guarded = id(node) in type_checking
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, guarded
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, node.lineno, guarded
            for alias in node.names:  # `from . import client` imports a module
                yield f"{module}.{alias.name}", node.lineno, guarded
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"importlib.import_module", "import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield str(node.args[0].value), node.lineno, guarded


def _reader_files() -> list[Path]:
    return sorted(READER.rglob("*.py"))


def test_both_packages_are_where_the_readme_says() -> None:
    assert (READER / "__init__.py").is_file() and (PIPELINE / "__init__.py").is_file()
    readme = (REPO / "README.md").read_text()
    assert "python/dataproducts/" in readme and "python/dataproducts_pipeline/" in readme


def test_no_reader_module_imports_the_build_side() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _reader_files()
        for module, line, _ in _imports(path)
        if module.split(".")[0] == "dataproducts_pipeline" or module.split(".")[0] in BUILD_ONLY
    ]
    assert not offenders, offenders


def _cycles(modules: dict[str, Path]) -> list[str]:
    """Import cycles among ``modules`` (name -> file), function-level imports included."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, _, guarded in _imports(path, name):
            if guarded:
                continue  # annotations only: no import at run time
            # `from .x import y` is an edge to .x (or to .x.y when y is a module)
            target = module if module in modules else module.rsplit(".", 1)[0]
            if target in modules and target != name and "." in target:
                graph[name].add(target)  # (a package's __init__ is not an edge)
    cycles: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_the_reader_imports_without_cycles() -> None:
    assert _cycles({_module_name(p): p for p in _reader_files()}) == []


def test_the_cycle_check_sees_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    (tmp_path / "client.py").write_text("from .coaching import CoachingReader\n")
    (tmp_path / "coaching.py").write_text("def queue():\n    from .client import connect\n")
    (tmp_path / "report.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .client import Client\n"
    )
    found = _cycles({f"pkg.{p.stem}": p for p in tmp_path.glob("*.py")})
    assert found == ["pkg.client -> pkg.coaching -> pkg.client"]


def test_importing_the_whole_reader_loads_nothing_of_the_build() -> None:
    """In a fresh interpreter: every reader module imported, the CLI included; no module of
    the build side or of its libraries ends up loaded."""
    names = sorted(_module_name(p) for p in _reader_files())
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{('dataproducts_pipeline', *BUILD_ONLY)!r})\n"
        "print('\\n'.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "", out.stdout


def test_what_the_reader_imports_is_what_pip_install_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {
        d.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
        for d in project["dependencies"]
    }
    stdlib = set(sys.stdlib_module_names)
    third_party = {
        module.split(".")[0]
        for path in _reader_files()
        for module, _, guarded in _imports(path)
        if not guarded and module and module.split(".")[0] not in stdlib | {"dataproducts"}
    }
    missing = {m for m in third_party if DISTRIBUTION.get(m, m).lower() not in declared}
    assert not missing, f"imported by the reader, not in [project] dependencies: {missing}"
    for extra in ("dbt-core", "great-expectations", "scipy", "implicit"):
        assert extra not in declared, f"{extra} belongs in the pipeline extra"
        assert any(d.startswith(extra) for d in project["optional-dependencies"]["pipeline"])
