"""Run every benchmark and write BENCHMARKS.md (``make bench``).

Each benchmark is a script in this folder that prints a Markdown section to stdout. This
runner records the machine and the exact command of every step, so the figures can be
reproduced and compared. Benchmarks are not tests: nothing here fails on a slow result;
the targets are printed beside the figures for a person to read.

Run a subset with ``python scripts/bench.py generate`` (step names below).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable

#: (name, commands). Commands run from the repository root with the venv's Python; the
#: outputs of one step's commands are joined into its section.
STEPS: list[tuple[str, list[list[str]]]] = [
    (
        "generate",
        [
            [PY, "scripts/bench_generate.py", "--scale", "medium", "--header"],
            [PY, "scripts/bench_generate.py", "--scale", "large"],
        ],
    ),
    (
        "recommendations",
        [[PY, "scripts/bench_recommendations.py", "--scale", "medium", "--header"]],
    ),
    (
        "recommendations at large",
        [
            [
                PY,
                "scripts/bench_recommendations.py",
                "--scale",
                "large",
                "--build-only",
                "--runs",
                "1",
            ]
        ],
    ),
    ("experiments", [[PY, "scripts/bench_experiments.py", "--scale", "medium"]]),
    ("coaching", [[PY, "scripts/bench_build.py", "--product", "coaching", "--scale", "medium"]]),
    (
        "spark",
        [
            [PY, "scripts/bench_spark.py", "--scale", "small", "--header"],
            [PY, "scripts/bench_spark.py", "--scale", "medium"],
        ],
    ),
    ("spark at large", [[PY, "scripts/bench_spark.py", "--scale", "large"]]),
    (
        "incremental",
        [
            [PY, "scripts/bench_incremental.py", "--scale", "medium"],
            [PY, "scripts/bench_incremental.py", "--scale", "medium", "--target", "spark"],
        ],
    ),
    ("package", [[PY, "scripts/bench_package.py", "--scale", "medium", "--header"]]),
    ("install", [[PY, "scripts/bench_install.py", "--header"]]),
]


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for mod in ("duckdb", "dbt.version", "pandas", "numpy"):
        try:
            m = __import__(mod, fromlist=["x"])
            v = getattr(m, "__version__", None) or m.get_installed_version().to_version_string()
            versions.append(f"{mod.split('.')[0]} {v}")
        except Exception:
            continue
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores",
        f"- Memory: {mem_gib:.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; {', '.join(versions)}",
    ]


def _previous_sections() -> dict[str, str]:
    """Sections of the current BENCHMARKS.md, so running a subset keeps the others."""
    path = REPO / "BENCHMARKS.md"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for chunk in path.read_text().split("\n## ")[1:]:
        name = chunk.split("\n", 1)[0].strip()
        out[name] = "## " + chunk.rstrip() + "\n"
    return out


def main(argv: list[str]) -> int:
    wanted = set(argv) or {name for name, _ in STEPS}
    sections: dict[str, str] = _previous_sections()
    failed = []
    for name, cmds in STEPS:
        if name not in wanted:
            continue
        shown, bodies = [], []
        t0 = time.perf_counter()
        for cmd in cmds:
            text = " ".join(["python" if c == PY else c for c in cmd])
            shown.append(f"`{text}`")
            print(f"== {name}: {text}", flush=True)
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            if proc.returncode != 0:
                failed.append(name)
                bodies.append(
                    f"**failed** (exit {proc.returncode}):\n\n```\n{proc.stderr[-3000:]}\n```"
                )
            else:
                bodies.append(proc.stdout.strip())
            print(bodies[-1], flush=True)
        took = time.perf_counter() - t0
        body = "\n".join(bodies)
        # each section says when it ran: a subset run keeps the other sections as they were
        stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
        sections[name] = (
            f"## {name}\n\nCommands: {', '.join(shown)} ({took:.0f} s in all; run {stamp})"
            f"\n\n{body}\n"
        )
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python scripts/bench.py`; `python scripts/bench.py <step>`",
        "reruns one section and keeps the others); each section says when it ran, all on the",
        "machine below. Benchmarks are not tests: no test asserts a wall-clock time.",
        "",
        f"Last written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, on:",
        "",
        *machine(),
        "",
        *[sections[n] for n, _ in STEPS if n in sections],
    ]
    (REPO / "BENCHMARKS.md").write_text("\n".join(out))
    print(f"wrote {REPO / 'BENCHMARKS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
