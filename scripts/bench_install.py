"""Benchmark of the reader's install: ``pip install .`` in a fresh venv, and cold start.

Prints a Markdown section (for BENCHMARKS.md). For each checkout given with
``--repo PATH[=LABEL]`` (repeatable; default the repository this script is in, ``HEAD``):

1. the reader install: a fresh ``python3 -m venv`` in a temporary directory, then
   ``pip install --no-cache-dir -c <checkout>/constraints.txt <checkout>`` (no extras)
   timed; then the venv's site-packages size (du), the number of distributions
   (``pip list --format=freeze``) and whether ``import dbt.version`` (dbt-core) works;
2. cold start in that venv: the median wall time over ``--runs`` fresh processes of
   ``python -c "import dataproducts"`` and of
   ``python -c "import dataproducts; dataproducts.connect(SNAPSHOT).close()"`` (one
   unmeasured run of each first, so the OS file cache is warm for all), and one
   ``python -X importtime`` run of the second, summed by top-level package.

pip installs from a copy of the checkout's files (tracked, and untracked but not ignored:
what ``git status`` shows), made in the temporary directory: pip builds the project in its
source tree (setuptools writes ``python/*.egg-info`` there, some versions ``build/`` too),
and the checkout must stay as it is. Uncommitted changes are measured too.

SNAPSHOT is ``--published DIR`` (a published directory), else a ``tiny`` dataset generated
and built (not timed) with this venv's ``dataproducts`` command into the temporary
directory. Benchmarks are not tests: nothing here fails on a slow figure.

    .venv/bin/python scripts/bench_install.py
    .venv/bin/python scripts/bench_install.py --repo /tmp/old=before --repo .=after \\
        --published /tmp/bench-snapshot/published
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Distributions only the build side needs: listed when an install has them.
HEAVY = (
    "dbt-core",
    "dbt-duckdb",
    "dbt-postgres",
    "great-expectations",
    "scipy",
    "implicit",
    "scikit-learn",
    "statsmodels",
)


def clean_env() -> dict[str, str]:
    """This environment without what would point the measured processes elsewhere."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("DATAPRODUCTS_", "DBT_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``cmd``; its stdout, or exit with its output when it fails."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=env or clean_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{output}")
    return proc.stdout


def parse_repo(text: str) -> tuple[Path, str]:
    path, _, label = text.partition("=")
    repo = Path(path).expanduser().resolve()
    if not (repo / "pyproject.toml").is_file():
        raise argparse.ArgumentTypeError(f"{repo} has no pyproject.toml")
    if not (repo / "constraints.txt").is_file():
        raise argparse.ArgumentTypeError(f"{repo} has no constraints.txt")
    return repo, label or repo.name


def copy_checkout(repo: Path, dest: Path) -> int:
    """Copy the files git sees in ``repo`` (tracked and untracked-not-ignored, as they are
    in the working tree) to ``dest``; the number of files."""
    listed = run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
    )
    count = 0
    for name in sorted(set(filter(None, listed.split("\0")))):
        src = repo / name
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
        count += 1
    return count


def git_describe(repo: Path) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = proc.stdout.strip() or "?"
    dirty = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=normal"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{commit}{' + uncommitted changes' if dirty else ''}"


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        sys.exit(f"no site-packages in {venv}")
    return found[0]


def du_mib(path: Path) -> float:
    out = run(["du", "-sk", str(path)], cwd=path)
    return int(out.split()[0]) / 1024


def median_ms(
    cmd: list[str], cwd: Path, runs: int, env: dict[str, str] | None = None
) -> tuple[float | None, str]:
    """Median wall time (ms) of ``runs`` fresh processes of ``cmd``, after one unmeasured;
    ``(None, last line of stderr)`` when it fails."""
    env = env or clean_env()
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        took = (time.perf_counter() - started) * 1000
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"]
            return None, lines[-1]
        if i:
            times.append(took)
    return statistics.median(times), ""


def importtime_top(
    python: Path, code: str, cwd: Path, env: dict[str, str] | None = None, top: int = 5
) -> list[tuple[str, float]]:
    """One ``-X importtime`` run of ``code``: self time (ms) summed by top-level package,
    the ``top`` largest."""
    proc = subprocess.run(
        [str(python), "-X", "importtime", "-c", code],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    by_package: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, _cumulative, name = line[len("import time:") :].split("|", 2)
            package = name.strip().split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
        except ValueError:
            continue
    return sorted(by_package.items(), key=lambda kv: -kv[1])[:top]


def build_snapshot(workdir: Path) -> Path:
    """Generate and build ``tiny`` with this venv's ``dataproducts`` into ``workdir``
    (setup, not a figure); the published directory."""
    cli = Path(sys.executable).parent / "dataproducts"
    if not cli.exists():
        sys.exit(f"{cli} not found: run `make install`, or pass --published DIR")
    env = clean_env()
    env.update(
        DATAPRODUCTS_DUCKDB=str(workdir / "warehouse.duckdb"),
        DATAPRODUCTS_PUBLISHED_DIR=str(workdir / "published"),
        DBT_PROFILES_DIR=str(REPO),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    # dbt's target/ (and logs/, beside it) in the workdir too: the checkout stays as it is
    build = ["build", "--target-path", str(workdir / "target")]
    for args in (["generate", "--scale", "tiny", "--quiet"], build):
        run([str(cli), *args], cwd=REPO, env=env)
    return workdir / "published"


def measure(
    repo: Path, label: str, workdir: Path, python: str, snapshot: Path, runs: int
) -> dict[str, object]:
    """Install ``repo`` into ``workdir/venv-<label>`` and time its cold start."""
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
    src = workdir / f"src-{slug}"
    venv = workdir / f"venv-{slug}"
    for stale in (src, venv):  # a kept --workdir: start afresh
        shutil.rmtree(stale, ignore_errors=True)
    files = copy_checkout(repo, src)
    run([python, "-m", "venv", str(venv)], cwd=workdir)
    py = venv / "bin" / "python"
    sp = site_packages(venv)
    empty_mib = du_mib(sp)
    empty_dists = len(run([str(py), "-m", "pip", "list", "--format=freeze"], cwd=workdir).split())
    pip_version = run([str(py), "-m", "pip", "--version"], cwd=workdir).split()[1]

    cmd = [str(py), "-m", "pip", "install", "--no-cache-dir", "-c"]
    cmd += [str(src / "constraints.txt"), str(src)]
    started = time.perf_counter()
    log = run(cmd, cwd=workdir)
    install_s = time.perf_counter() - started
    downloaded = sum(line.lstrip().startswith("Downloading ") for line in log.splitlines())
    local = sum(line.lstrip().startswith("Processing /") for line in log.splitlines())

    freeze = run([str(py), "-m", "pip", "list", "--format=freeze"], cwd=workdir).split()
    names = {line.split("==")[0].lower().replace("_", "-") for line in freeze}
    dbt = subprocess.run(
        [str(py), "-c", "import dbt.version"],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,  # the ModuleNotFoundError expected of the reader
        check=False,
    )
    connect = f"import dataproducts; dataproducts.connect({str(snapshot)!r}).close()"
    import_ms, import_error = median_ms([str(py), "-c", "import dataproducts"], workdir, runs)
    connect_ms, connect_error = median_ms([str(py), "-c", connect], workdir, runs)
    importtime_env = None
    checkout_ms = None
    if connect_ms is None and (repo / "python").is_dir():
        # the installed package cannot connect: time it as an editable install runs it,
        # the checkout's python/ first on the path, the same venv's dependencies
        importtime_env = clean_env()
        importtime_env["PYTHONPATH"] = str(repo / "python")
        checkout_ms, _ = median_ms([str(py), "-c", connect], workdir, runs, importtime_env)
    return {
        "label": label,
        "repo": repo,
        "commit": git_describe(repo),
        "files": files,
        "pip": pip_version,
        "install_s": install_s,
        "downloaded": downloaded,
        "local": local,
        "site_mib": du_mib(sp),
        "empty_mib": empty_mib,
        "dists": len(freeze),
        "empty_dists": empty_dists,
        "dbt": dbt.returncode == 0,
        "heavy": [h for h in HEAVY if h in names],
        "bare_ms": median_ms([str(py), "-c", "pass"], workdir, runs)[0],
        "import_ms": import_ms,
        "import_error": import_error,
        "connect_ms": connect_ms,
        "connect_error": connect_error,
        "checkout_ms": checkout_ms,
        "importtime": importtime_top(py, connect, workdir, importtime_env),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repo",
        action="append",
        type=parse_repo,
        metavar="PATH[=LABEL]",
        help="A checkout to measure (repeatable) [default: this repository, label HEAD].",
    )
    parser.add_argument(
        "--published",
        type=Path,
        help="The published directory cold start connects to [default: build tiny].",
    )
    parser.add_argument("--runs", type=int, default=7, help="Processes per cold-start median.")
    parser.add_argument("--python", default="python3", help="The Python the venvs are made with.")
    parser.add_argument("--workdir", type=Path, help="Keep venvs and copies here [default: temp].")
    parser.add_argument("--header", action="store_true", help="Print the section heading.")
    args = parser.parse_args()
    repos = args.repo or [(REPO, "HEAD")]
    if len({label for _, label in repos}) != len(repos):
        parser.error("labels of --repo must differ")

    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        workdir = args.workdir.resolve() if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        setup = ""
        if args.published:
            snapshot = args.published.resolve()
            if not (snapshot / "CURRENT").is_file():
                sys.exit(f"{snapshot} is not a published directory (no CURRENT)")
        else:
            started = time.perf_counter()
            snapshot = build_snapshot(workdir / "snapshot")
            setup = (
                f" Setup, not timed as a figure: `dataproducts generate --scale tiny` and "
                f"`dataproducts build` of this repository, {time.perf_counter() - started:.0f} s."
            )
        python = shutil.which(args.python) or args.python
        version = run([python, "--version"], cwd=workdir).strip()
        load_before = os.getloadavg()[0]
        results = []
        for repo, label in repos:  # one after the other: one heavy process at a time
            results.append(measure(repo, label, workdir, python, snapshot, args.runs))
            print(f"measured {label}", file=sys.stderr, flush=True)
            if not args.workdir:  # a venv of the full install is ~1 GiB
                for path in workdir.glob("*-*"):
                    if path.name.startswith(("venv-", "src-")):
                        shutil.rmtree(path, ignore_errors=True)
        load_after = os.getloadavg()[0]

    out = []
    if args.header:
        out += ["### Installing the reader: `pip install .` and cold start", ""]
    out += [
        "Each checkout: "
        + "; ".join(f"{r['label']} = `{r['repo']}` at {r['commit']}" for r in results)
        + f". A fresh `python3 -m venv` ({version}, pip {results[0]['pip']}) per checkout, "
        "then `pip install --no-cache-dir -c constraints.txt .` (no extras) from a copy of "
        f"the checkout's files; cold start connects to `{snapshot}`.{setup}",
        "",
        "| checkout | install (s) | site-packages (MiB) | distributions | dbt importable "
        "| `import dataproducts` median (ms) | import + `connect().close()` median (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    failures = []
    for r in results:
        cells = []
        for key in ("import", "connect"):
            if r[f"{key}_ms"] is not None:
                cells.append(f"{r[f'{key}_ms']:.0f}")
                continue
            failures.append(r)
            cells.append(f"**fails** ({len(failures)})")
            if key == "connect" and r["checkout_ms"] is not None:
                cells[-1] += f"; {r['checkout_ms']:.0f} from the checkout"
        out.append(
            f"| {r['label']} | {r['install_s']:.1f} | {r['site_mib']:.0f} | {r['dists']} "
            f"| {'yes' if r['dbt'] else 'no'} | {cells[0]} | {cells[1]} |"
        )
    r0 = results[0]
    if failures:
        out.append("")
        for n, r in enumerate(failures, 1):
            error = r["import_error"] or r["connect_error"]
            out.append(
                f"({n}) {r['label']}: the installed package fails: `{error}`."
                + (
                    " The figure after it: the same venv with the checkout's `python/` first "
                    "on `PYTHONPATH`, as an editable install (`make install`) runs."
                    if r["checkout_ms"] is not None and not r["import_error"]
                    else ""
                )
            )
    out += [
        "",
        "pip reads this machine's package registry (a local mirror and file:// links, as "
        "configured for pip here), so download time is near "
        "zero: the install time is resolving, unpacking, compiling bytecode and building "
        "the project (in an isolated build environment, setuptools installed into it each "
        "time); pip's cache was disabled (`--no-cache-dir`). Wheels fetched over the index / "
        "read from local paths: "
        + ", ".join(f"{r['label']} {r['downloaded']} / {r['local']}" for r in results)
        + ".",
        "",
        f"Site-packages and distributions include the fresh venv's own ({r0['empty_mib']:.0f} "
        f"MiB, {r0['empty_dists']} distributions: pip, setuptools). dbt importable: "
        "`python -c 'import dbt.version'` (dbt-core) succeeds. Build-side distributions "
        "installed: "
        + "; ".join(f"{r['label']}: {', '.join(r['heavy']) or 'none'}" for r in results)
        + ".",
        "",
        f"Cold start: median of {args.runs} fresh processes each, run from an empty directory "
        "after one unmeasured run (warm OS file cache; bytecode compiled by pip at install). "
        "Bare `python -c pass` for reference: "
        + ", ".join(f"{r['label']} {r['bare_ms']:.0f} ms" for r in results)
        + ". Import time of import + connect by top-level package (self time summed over "
        "its modules, one `-X importtime` run): "
        + "; ".join(
            f"{r['label']}: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in r["importtime"])
            for r in results
        )
        + f". Load average: {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} cores.",
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
