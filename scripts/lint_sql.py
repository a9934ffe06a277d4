"""sqlfluff over models/ and tests/, in one process per core (``make lint``).

sqlfluff's own ``--processes`` pickles each file's parse tree back to the parent, and the
statistics models parse into trees too deep to pickle. So instead the files are split
into groups of about equal size, and each group is linted by its own single-process
``sqlfluff lint`` (each renders the dbt project once, with the ``lint`` target). Every
file is linted exactly once, with the same configuration (.sqlfluff) as a single run;
the exit code is the worst of the groups'.

    python scripts/lint_sql.py            # one group per core
    python scripts/lint_sql.py --jobs 1   # one sqlfluff process, as before
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("models", "tests")


def _ignored() -> list[str]:
    """Directory prefixes of .sqlfluffignore (the only form it holds here)."""
    lines = (REPO / ".sqlfluffignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def sql_files() -> list[Path]:
    ignored = _ignored()
    files = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.sql")):
            rel = path.relative_to(REPO).as_posix()
            if not any(rel.startswith(prefix) for prefix in ignored):
                files.append(path)
    return files


def split(files: list[Path], jobs: int) -> list[list[Path]]:
    """Largest first, each to the lightest group: about equal work per group."""
    groups: list[list[Path]] = [[] for _ in range(jobs)]
    sizes = [0] * jobs
    for path in sorted(files, key=lambda p: (-p.stat().st_size, p.as_posix())):
        i = sizes.index(min(sizes))
        groups[i].append(path)
        sizes[i] += path.stat().st_size
    return [g for g in groups if g]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    files = sql_files()
    groups = split(files, max(1, args.jobs))
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    print(f"sqlfluff: {len(files)} files in {len(groups)} processes (dbt templater)", flush=True)
    started = time.monotonic()
    lock = threading.Lock()
    codes: list[int] = []

    def lint(group: list[Path]) -> None:
        proc = subprocess.run(
            [str(sqlfluff), "lint", "--processes", "1", "-v", *map(str, group)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        with lock:  # one group's report at a time, never interleaved
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
            sys.stdout.flush()
            codes.append(proc.returncode)

    threads = [threading.Thread(target=lint, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worst = max(codes)
    print(f"sqlfluff: {'clean' if worst == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return worst


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
