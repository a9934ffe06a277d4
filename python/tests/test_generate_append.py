"""``generate --append``: a day of new data, reproducibly (issue 16, part 1).

The guarantee: generating to D and appending to D+1 gives exactly the tables a full
generation to D+1 (from the same start) gives, bad rows and ``_loaded_at`` included (they
are equal, not merely equal modulo ``_loaded_at``: a row's load time is part of the world,
and the end only decides which rows have arrived). Checked here on DuckDB by comparing
every raw table row for row with SQL ``except all`` in both directions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dataproducts.errors import ConfigurationError
from dataproducts_pipeline.cli import generate as generate_command
from dataproducts_pipeline.generate import generate
from dataproducts_pipeline.raw_contract import RAW_TABLES

D = datetime(2026, 11, 1)
START = D - timedelta(days=120)  # tiny: 120 days
RATE = 0.05


def _gen(path: Path, **kwargs) -> object:
    return generate("tiny", seed=5, duckdb_path=path, progress=False, **kwargs)


def _differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Per raw table: (rows only in a, rows only in b), as multisets."""
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    out = {}
    for name in RAW_TABLES:
        only_a = con.execute(
            f"select count(*) from (select * from a.raw.{name} except all select * from b.raw.{name})"
        ).fetchone()[0]
        only_b = con.execute(
            f"select count(*) from (select * from b.raw.{name} except all select * from a.raw.{name})"
        ).fetchone()[0]
        out[name] = (only_a, only_b)
    con.close()
    return out


def _sorted(rows: list[tuple]) -> list[tuple]:
    """Rows in one order whatever the engine's collation (NULLs first in every column)."""
    return sorted(rows, key=lambda row: tuple((v is not None, str(v)) for v in row))


@pytest.fixture(scope="module")
def appended(tmp_path_factory) -> tuple[Path, list]:
    """Generated to D, then appended to D+1 and to D+3."""
    path = tmp_path_factory.mktemp("append") / "appended.duckdb"
    reports = [_gen(path, bad_row_rate=RATE, end=D)]
    reports.append(_gen(path, append=True, end=D + timedelta(days=1)))
    return path, reports


def test_append_adds_a_day_that_equals_regenerating(appended, tmp_path):
    path, (_first, second) = appended
    one_day = tmp_path / "d1.duckdb"
    _gen(one_day, bad_row_rate=RATE, end=D + timedelta(days=1), start=START)
    assert _differences(path, one_day) == {name: (0, 0) for name in RAW_TABLES}

    # the day is not empty, and the report counts what was added
    con = duckdb.connect(str(path), read_only=True)
    added = {
        name: con.execute(f"select count(*) from raw.{name} where _loaded_at >= ?", [D]).fetchone()[
            0
        ]
        for name in RAW_TABLES
    }
    assert added == second.rows
    assert second.since == D and second.end == D + timedelta(days=1)
    assert added["events"] > 20 and added["coaching_deliveries"] > 0
    # late rows: happened before D, loaded after it
    late = con.execute(
        "select count(*) from raw.events where occurred_at < ? and _loaded_at >= ?", [D, D]
    ).fetchone()[0]
    assert late > 0
    # re-sent rows: the first copy loaded before D, the re-sent copy after it
    resent = con.execute(
        "select count(*) from (select event_id from raw.events where event_id is not null "
        "group by event_id having min(_loaded_at) < ? and max(_loaded_at) >= ?)",
        [D, D],
    ).fetchone()[0]
    assert resent > 0
    # the log holds both runs
    log = con.execute(
        "select run_number, mode, loaded_from, loaded_to from raw.generator_runs order by 1"
    ).fetchall()
    con.close()
    assert log == [(1, "generate", None, D), (2, "append", D, D + timedelta(days=1))]
    assert sum(second.bad_rows.values()) > 0


def test_appends_compose(appended, tmp_path):
    path, _ = appended
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    _gen(copy, append=True, end=D + timedelta(days=3))
    three_days = tmp_path / "d3.duckdb"
    _gen(three_days, bad_row_rate=RATE, end=D + timedelta(days=3), start=START)
    assert _differences(copy, three_days) == {name: (0, 0) for name in RAW_TABLES}


def test_the_end_only_decides_which_rows_have_arrived(tmp_path):
    """A shorter end holds a subset of a longer one's rows: those loaded before it."""
    short, long_ = tmp_path / "short.duckdb", tmp_path / "long.duckdb"
    _gen(short, end=D - timedelta(days=10), start=START)
    _gen(long_, end=D, start=START)
    con = duckdb.connect()
    con.execute(f"attach '{short}' as s (read_only)")
    con.execute(f"attach '{long_}' as l (read_only)")
    cutoff = D - timedelta(days=10)
    for name in RAW_TABLES:
        only_short, missing = con.execute(
            f"select (select count(*) from (select * from s.raw.{name} except all "
            f"select * from l.raw.{name})), (select count(*) from (select * from l.raw.{name} "
            f"where _loaded_at < ? except all select * from s.raw.{name}))",
            [cutoff],
        ).fetchone()
        assert (only_short, missing) == (0, 0), name
    con.close()


def test_append_errors_say_what_to_do(tmp_path, appended):
    with pytest.raises(ConfigurationError, match="nothing to append to"):
        _gen(tmp_path / "empty.duckdb", append=True, end=D)
    assert not (tmp_path / "empty.duckdb").exists()  # no empty warehouse left behind
    path, _ = appended
    with pytest.raises(ConfigurationError, match="already ends at 2026-11-02"):
        _gen(path, append=True, end=D + timedelta(days=1))
    with pytest.raises(ConfigurationError, match="simulated to"):
        _gen(path, append=True, end=D + timedelta(days=400))


def test_cli_append_refuses_world_options(tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(
        generate_command, ["--append", "--seed", "3", "--end-date", "2026-11-02"]
    )
    assert result.exit_code == 2
    assert "--append takes the world from the target's generator log: drop --seed" in result.output


def test_append_on_postgres_equals_regenerating(postgres_server, tmp_path):
    """The same guarantee on PostgreSQL: generate to D, append to D+1 (COPY into the
    existing tables, in one transaction), compared with the full generation to D+1 on
    DuckDB, every row and value."""
    import psycopg2

    postgres_server.create_database("generate_append")
    dsn = postgres_server.dsn_for("generate_append")
    kwargs = {"seed": 5, "progress": False, "target": "postgres", "pg_dsn": dsn}
    first = generate("tiny", bad_row_rate=RATE, end=D, **kwargs)
    added = generate("tiny", append=True, end=D + timedelta(days=1), **kwargs)
    reference = tmp_path / "reference.duckdb"
    _gen(reference, bad_row_rate=RATE, end=D + timedelta(days=1), start=START)
    assert added.rows["events"] > 0
    duck = duckdb.connect(str(reference), read_only=True)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for name, table in RAW_TABLES.items():
            cols = ", ".join(table.columns)
            cur.execute(f"select {cols} from raw.{name}")
            got = _sorted(cur.fetchall())
            want = _sorted(duck.execute(f"select {cols} from raw.{name}").fetchall())
            assert len(got) == first.rows[name] + added.rows[name] == len(want), name
            assert got == want, name
        cur.execute("select run_number, mode from raw.generator_runs order by 1")
        assert cur.fetchall() == [(1, "generate"), (2, "append")]
    duck.close()
