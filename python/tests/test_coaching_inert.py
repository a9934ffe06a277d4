"""Rendered coaching text is inert: control, bidi, zero-width and other invisible
characters are stripped from learner text, whitespace is folded, and a value made only
of such characters falls back to the token's neutral fallback.

The SQL macros (``coaching_inert_text``, ``coaching_token_value``; hex code point ranges,
regular expressions dispatched per engine) are compiled by dbt and run on DuckDB and
PostgreSQL over hostile strings, and compared with

- ``reference_inert`` below: the rule written from Unicode categories (``unicodedata``:
  Cc and Cf removed, whitespace and Zs/Zl/Zp to a space), independent of the SQL ranges;
- ``dataproducts_pipeline.coaching.inert`` / ``token_value`` (the Python renderer);
- hand-written expectations for the issue's cases (U+202E, NUL, zero-width names).

PostgreSQL text cannot contain NUL (U+0000) at all, so NUL is tried on DuckDB only.
Nothing needs a built warehouse: the macros are compiled with ``dbt compile --inline``.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import unicodedata
from contextlib import closing
from pathlib import Path

import pytest

from dataproducts_pipeline import coaching

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
_ISOLATE = ("DATAPRODUCTS_", "DBT_")

# --- the rule, written independently from Unicode categories ---------------------------

#: invisible code points outside Cc/Cf that the rule removes too (default-ignorable
#: characters that render as nothing): CGJ, Hangul fillers, Khmer inherent vowels,
#: Mongolian free variation selectors, variation selectors (and supplement), and the
#: Egyptian hieroglyph format controls that became Cf in Unicode 15.
EXTRA_INVISIBLE = (
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0}
    | set(range(0xFE00, 0xFE10))
    | set(range(0x13439, 0x13440))
    | set(range(0xE0100, 0xE01F0))
)


def reference_inert(text: str) -> str:
    spaced = "".join(
        " " if ch in "\t\n\x0b\x0c\r\x85" or unicodedata.category(ch) in ("Zs", "Zl", "Zp") else ch
        for ch in text
    )
    kept = "".join(
        ch
        for ch in spaced
        if unicodedata.category(ch) not in ("Cc", "Cf") and ord(ch) not in EXTRA_INVISIBLE
    )
    while "  " in kept:
        kept = kept.replace("  ", " ")
    return kept


def reference_token_value(text: str, max_length: int, fallback: str) -> str:
    value = reference_inert(text).strip(" ")
    if len(value) > max_length:
        value = value[: max_length - 1] + "…"
    return coaching.escape(value) if value else coaching.escape(fallback)


# --- the strings tried -----------------------------------------------------------------


def _interesting_code_points() -> list[int]:
    """Every code point the rule touches, its neighbours, and a sample of the rest."""
    touched = {
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF
        and (
            unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zs", "Zl", "Zp") or cp in EXTRA_INVISIBLE
        )
    }
    near = {cp + d for cp in touched for d in (-1, 1)}
    rng = random.Random(13)
    sample = {rng.randrange(0x20, 0x30000) for _ in range(1500)}
    return sorted(
        cp for cp in touched | near | sample if 0 <= cp < 0x110000 and not 0xD800 <= cp <= 0xDFFF
    )


#: Hostile learner names and goal texts, and what the first_name token renders them as
#: (fallback "friend", max_length 40), written by hand.
HOSTILE: list[tuple[str, str]] = [
    ("\u202eevil\u202c", "evil"),  # right-to-left override
    ("Ana\u2066\u2067\u2068\u2069", "Ana"),  # bidi isolates
    ("\u200e\u200f\u061c", "friend"),  # only bidi marks
    ("\u200b\u200c\u200d\u2060\ufeff", "friend"),  # only zero-width characters
    ("\u00ad\u034f\u3164\u115f", "friend"),  # soft hyphen, CGJ, Hangul fillers
    ("   \t\n\r  ", "friend"),  # only whitespace
    ("\u00a0\u3000\u2003\u2028\u2029", "friend"),  # only Unicode spaces and separators
    ("Jo\u200bhn\u00a0\u00a0Smith", "John Smith"),
    ("Line1\nLine2\r\nLine3", "Line1 Line2 Line3"),
    ("\x1b[31mred\x1b[0m", "[31mred[0m"),  # ANSI escapes lose their ESC
    ("\x85\x9b\x7f", "friend"),  # C1 controls and DEL
    ("<b>\u202e</b>", "&lt;b&gt;&lt;/b&gt;"),
    ("{first_name}\u200b", "&#123;first_name&#125;"),
    ("Zoë 👍\ufe0f", "Zoë 👍"),
    ("\U000e0041\U000e0042\U000e007f", "friend"),  # tag characters
]

#: DuckDB only: PostgreSQL text cannot hold NUL.
HOSTILE_NUL: list[tuple[str, str]] = [
    ("a\x00b", "ab"),
    ("\x00\x00\u202e", "friend"),
]


def _strings(engine: str) -> list[str]:
    skip_nul = engine == "postgres"
    singles = [chr(cp) for cp in _interesting_code_points() if not (skip_nul and cp == 0)]
    wrapped = [f"a{ch}b" for ch in singles]
    hostile = [h for h, _ in HOSTILE] + ([] if skip_nul else [h for h, _ in HOSTILE_NUL])
    return singles + wrapped + hostile


# --- compiling and running the macros ------------------------------------------------


def _compile(target: str, env: dict[str, str], target_path: Path, sql: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATE)}
    full_env.update(env)
    full_env["DBT_PROFILES_DIR"] = str(REPO)
    full_env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    proc = subprocess.run(
        [
            str(DBT),
            "compile",
            "--quiet",
            "--inline",
            sql,
            "--project-dir",
            str(REPO),
            "--target",
            target,
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
        ],
        env=full_env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc.stdout.strip()


QUERY = (
    "select id, {{ coaching_inert_text('value') }} as inert, "
    "{{ coaching_token_value('value', '40', \"'friend'\") }} as token_value "
    "from hostile_text order by id"
)


def _run_duckdb(sql: str, strings: list[str], path: Path) -> list[tuple[int, str, str]]:
    import duckdb
    import pandas as pd

    frame = pd.DataFrame({"id": range(len(strings)), "value": strings})
    with closing(duckdb.connect(str(path))) as con:
        con.register("hostile_frame", frame)
        con.execute(
            "create or replace table hostile_text as "
            "select cast(id as integer) as id, cast(value as varchar) as value from hostile_frame"
        )
        return con.execute(sql).fetchall()


def _run_postgres(sql: str, strings: list[str], dsn: str) -> list[tuple[int, str, str]]:
    import psycopg2

    with closing(psycopg2.connect(dsn)) as con, con.cursor() as cur:
        cur.execute("create temporary table hostile_text (id integer, value text)")
        cur.executemany("insert into hostile_text values (%s, %s)", list(enumerate(strings)))
        cur.execute(sql)
        return cur.fetchall()


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str]]:
    """string -> (coaching_inert_text, coaching_token_value) computed by the engine."""
    root = tmp_path_factory.mktemp(f"inert_{request.param}")
    strings = _strings(request.param)
    if request.param == "duckdb":
        path = root / "inert.duckdb"
        sql = _compile("dev", {"DATAPRODUCTS_DUCKDB": str(path)}, root / "target", QUERY)
        rows = _run_duckdb(sql, strings, path)
    else:
        server = request.getfixturevalue("postgres_server")
        env = server.create_database("inert")
        sql = _compile("postgres", env, root / "target", QUERY)
        rows = _run_postgres(sql, strings, server.dsn_for("inert"))
    assert [r[0] for r in rows] == list(range(len(strings)))
    return {strings[i]: (inert, value) for i, inert, value in rows}


def _show(text: str) -> str:
    return text.encode("unicode_escape").decode()


def test_sql_inert_text_matches_the_unicode_category_rule(rendered) -> None:
    wrong = [
        (_show(s), _show(got), _show(reference_inert(s)))
        for s, (got, _) in rendered.items()
        if got != reference_inert(s)
    ]
    assert not wrong, f"{len(wrong)} strings differ, e.g. {wrong[:10]}"


def test_sql_token_value_matches_the_rule_and_the_python_renderer(rendered) -> None:
    token = coaching.Token("first_name", "friend", 40)
    wrong = [
        (_show(s), _show(got))
        for s, (_, got) in rendered.items()
        if not (got == reference_token_value(s, 40, "friend") == coaching.token_value(s, token))
    ]
    assert not wrong, f"{len(wrong)} strings differ, e.g. {wrong[:10]}"


def test_hostile_names_render_as_written_by_hand(rendered) -> None:
    cases = HOSTILE + (HOSTILE_NUL if "a\x00b" in rendered else [])
    for text, expected in cases:
        assert rendered[text][1] == expected, (_show(text), _show(rendered[text][1]))


def test_nothing_invisible_survives(rendered) -> None:
    """Whatever the input, the output holds no Cc/Cf character and no whitespace but
    single inner spaces."""
    for text, (_, value) in rendered.items():
        assert not [ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf")], _show(text)
        assert value == value.strip() and "  " not in value, _show(text)
        assert not re.search(r"[^\S ]", value), _show(text)


def test_python_renderer_falls_back_on_invisible_names() -> None:
    out = coaching.render(
        "Hi {first_name}: {goal_text}",
        {"first_name": "\u200b\u202e\u2066", "goal_text": "\ufeff \u00ad"},
        coaching.TOKENS,
    )
    assert out == "Hi friend: the goal you set"
