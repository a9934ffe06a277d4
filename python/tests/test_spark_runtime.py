"""The Spark runtime: the local Thrift server, raw data generated into Spark, seeds loaded.

One Spark JVM for the session (the ``spark_server`` fixture), plus one more in the test
that SIGTERMs a test session holding its own server.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import REPO, TINY, DbtRunner
from test_pg_server import running, wait_until

from dataproducts_pipeline.raw_contract import RAW_TABLES

pytestmark = pytest.mark.spark

TESTS = Path(__file__).resolve().parent


def _fetch(server: Any, sql: str) -> tuple[list[str], list[tuple]]:
    with contextlib.closing(server.connect()) as con, contextlib.closing(con.cursor()) as cur:
        cur.arraysize = 20_000  # rows per Thrift round trip (PyHive's default: 1,000)
        cur.execute(sql)
        return [d[0].split(".")[-1] for d in cur.description], cur.fetchall()


# --- the server ----------------------------------------------------------------------------

#: A test session that starts the server (the real fixture), says where it is, then waits.
_SESSION = """
import json, time

def test_hold(spark_server):
    print(json.dumps({"pid": spark_server.jvm_pid, "workdir": str(spark_server.workdir)}),
          flush=True)
    time.sleep(300)
"""


def test_the_server_answers_over_thrift_in_utc(spark_server) -> None:
    _, rows = _fetch(spark_server, "select 1 as one, current_timezone() as tz")
    assert rows == [(1, "UTC")]
    assert spark_server.jvm_pid and running(spark_server.jvm_pid)
    assert spark_server.startup_seconds > 0


def test_hives_function_registry_initializes(spark_server) -> None:
    """Closing a Thrift session can initialize Hive's FunctionRegistry; its static block
    needs hive-llap-common, which pyspark 4 no longer ships. Without the jar the first
    use fails (NoClassDefFoundError ...LlapSigner$Signable, then "Could not initialize
    class" for the life of the JVM) and dbt's close after a node fails that node."""
    _, rows = _fetch(
        spark_server,
        "select java_method('org.apache.hadoop.hive.ql.exec.FunctionRegistry', "
        "'getFunctionNames') as names",
    )
    names = set(rows[0][0].strip("[]").split(", "))
    assert {"abs", "get_splits", "sum"} <= names  # get_splits: the UDTF that needs the jar


def test_an_extra_jar_missing_or_altered_is_refused(tmp_path: Path, monkeypatch) -> None:
    from dataproducts.errors import ConfigurationError
    from dataproducts_pipeline import spark_server as module

    monkeypatch.setattr(module, "extra_jars_dir", lambda: tmp_path)
    with pytest.raises(ConfigurationError, match=r"missing.*--install-jars"):
        module.extra_jars()
    (tmp_path / module.HIVE_LLAP_COMMON.name).write_bytes(b"not the jar")
    with pytest.raises(ConfigurationError, match="altered"):
        module.extra_jars()


def test_sigterm_of_the_tests_stops_the_jvm(tmp_path: Path) -> None:
    """`make test` stopped with SIGTERM: pytest tears the fixture down; no JVM is left and
    its work directory (metastore, warehouse) is gone (issue 13 left a PostgreSQL behind)."""
    (tmp_path / "test_hold.py").write_text(_SESSION)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), *sys.path])
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "pytest", "-p", "conftest", "-s", "-q"),
            *("-p", "no:cacheprovider", str(tmp_path / "test_hold.py")),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    server = None
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if line.startswith("{"):
                server = json.loads(line)
                break
        assert server is not None, "".join(output)
        assert server["pid"] and running(server["pid"])
        os.kill(proc.pid, signal.SIGTERM)  # the pytest process alone
        proc.communicate(timeout=90)
        assert wait_until(lambda: not running(server["pid"]), 60), "the JVM outlived SIGTERM"
        assert wait_until(lambda: not Path(server["workdir"]).exists()), "its directory stayed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if server and running(server["pid"]):
            os.kill(server["pid"], signal.SIGKILL)


# --- raw data ------------------------------------------------------------------------------


def _normalized(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Both engines' rows in comparable Python types, in one order (every column)."""
    df = df.copy()
    for c, t in columns.items():
        if t == "timestamp":
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
        elif t == "date":
            df[c] = pd.to_datetime(df[c]).dt.date
        elif t in ("bigint", "integer"):
            df[c] = df[c].astype("Int64")
        elif t == "double precision":
            df[c] = df[c].astype("float64")
        elif t == "boolean":
            df[c] = df[c].astype("boolean")
        else:  # text: '' and NULL stay apart
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.sort_values(list(columns), na_position="first").reset_index(drop=True)


def test_generate_on_spark_matches_duckdb(spark_server, tmp_path: Path) -> None:
    """`generate --target spark` writes the same rows as the DuckDB target, every value
    (hostile texts, '' vs NULL, timestamps to the microsecond), in the contract's types."""
    import duckdb

    from dataproducts_pipeline.generate import generate

    on_spark = generate(
        target="spark",
        spark_server={"host": spark_server.host, "port": spark_server.port},
        spark_raw_dir=tmp_path / "spark_raw",
        progress=False,
        **TINY,
    )
    path = tmp_path / "reference.duckdb"
    on_duckdb = generate(target="dev", duckdb_path=path, progress=False, **TINY)
    assert on_spark.rows == on_duckdb.rows
    assert on_spark.bad_rows == on_duckdb.bad_rows
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as duck:
        for name, table in RAW_TABLES.items():
            _, described = _fetch(spark_server, f"describe raw.{name}")
            assert {r[0]: r[1] for r in described} == table.spark_columns, name
            cols = list(table.columns)
            _, rows = _fetch(spark_server, f"select {', '.join(cols)} from raw.{name}")
            spark = pd.DataFrame(rows, columns=cols)
            reference = duck.execute(f"select {', '.join(cols)} from raw.{name}").df()
            assert len(spark) == on_duckdb.rows[name] > 0, name
            pd.testing.assert_frame_equal(
                _normalized(spark, table.columns),
                _normalized(reference, table.columns),
                check_dtype=False,
                obj=f"raw.{name}",
            )
    # a second run replaces the tables and removes the first run's files
    generate(
        target="spark",
        spark_server={"host": spark_server.host, "port": spark_server.port},
        spark_raw_dir=tmp_path / "spark_raw",
        progress=False,
        scale="tiny",
        learners=20,
        seed=1,
    )
    _, rows = _fetch(spark_server, "select count(*) from raw.learners")
    assert rows == [(20,)]
    assert len(list((tmp_path / "spark_raw").iterdir())) == 1


def test_append_on_spark_equals_regenerating(spark_server, tmp_path: Path) -> None:
    """`generate --target spark` to D then `--append` to D+1 holds the rows a full
    generation to D+1 holds (the reference, on DuckDB: equal to it row for row, see
    test_generate_append.py), every value; the appended files sit beside the first ones."""
    from datetime import datetime, timedelta

    import duckdb

    from dataproducts_pipeline.generate import generate

    end = datetime(2026, 11, 1)
    server = {"host": spark_server.host, "port": spark_server.port}
    raw = tmp_path / "spark_raw"
    first = generate(
        target="spark", spark_server=server, spark_raw_dir=raw, progress=False, end=end, **TINY
    )
    added = generate(
        target="spark", spark_server=server, spark_raw_dir=raw, progress=False,
        end=end + timedelta(days=1), append=True,
    )  # fmt: skip
    path = tmp_path / "reference.duckdb"
    generate(
        target="dev", duckdb_path=path, progress=False, end=end + timedelta(days=1),
        start=first.start, **TINY,
    )  # fmt: skip
    assert added.rows["events"] > 0
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as duck:
        for name, table in RAW_TABLES.items():
            cols = list(table.columns)
            _, rows = _fetch(spark_server, f"select {', '.join(cols)} from raw.{name}")
            reference = duck.execute(f"select {', '.join(cols)} from raw.{name}").df()
            assert len(rows) == first.rows[name] + added.rows[name] == len(reference), name
            pd.testing.assert_frame_equal(
                _normalized(pd.DataFrame(rows, columns=cols), table.columns),
                _normalized(reference, table.columns),
                check_dtype=False,
                obj=f"raw.{name}",
            )
    _, log = _fetch(spark_server, "select run_number, mode from raw.generator_runs order by 1")
    assert log == [(1, "generate"), (2, "append")]
    assert len(list(raw.iterdir())) == 1  # one run directory: the append added files to it


# --- seeds ---------------------------------------------------------------------------------

#: Hostile cells, and types dbt infers (number, boolean, date) beside text.
_HOSTILE = (
    "id,label,note,amount,flag,day\n"
    "1,O'Brien,,1.5,true,2026-08-01\n"
    '2,"back\\slash 100% \'\'two\'\'","say ""hi""",,false,\n'
    '3,"multi\nline é 中 \\\'",plain,2,,2026-08-03\n'
)
_HOSTILE_ROWS = [
    (1, "O'Brien", None, 1.5, True, "2026-08-01"),
    (2, "back\\slash 100% ''two''", 'say "hi"', None, False, None),
    (3, "multi\nline é 中 \\'", "plain", 2.0, None, "2026-08-03"),
]
#: The project's seeds with apostrophes and empty cells, loaded again as text.
_REAL = {
    "coaching_tokens": REPO / "seeds" / "coaching" / "coaching_tokens.csv",
    "metric_definitions": REPO / "seeds" / "experiments" / "metric_definitions.csv",
}


def _csv_rows(path: Path) -> tuple[list[str], list[tuple]]:
    with open(path, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    return header, [tuple(cell if cell != "" else None for cell in row) for row in rows]


def test_seeds_load_on_spark_with_apostrophes_and_empty_cells(spark_server, tmp_path: Path) -> None:
    """dbt seed on Spark through the project's loader (macros/spark/seed_load.sql), in a
    scratch project: the project's seeds with apostrophes and empty cells (every column as
    text: each cell must come back exactly, an empty one as NULL, never 'None') and a
    hostile seed with inferred types."""
    project = tmp_path / "seed_check"
    (project / "seeds").mkdir(parents=True)
    (project / "macros").mkdir()
    shutil.copy(REPO / "macros" / "spark" / "seed_load.sql", project / "macros")
    types: dict[str, dict[str, str]] = {}
    for name, path in _REAL.items():
        shutil.copy(path, project / "seeds" / f"{name}.csv")
        types[name] = dict.fromkeys(_csv_rows(path)[0], "string")
    (project / "seeds" / "hostile.csv").write_text(_HOSTILE, encoding="utf-8")
    seeds_config = {name: {"+column_types": t} for name, t in types.items()}
    (project / "dbt_project.yml").write_text(
        json.dumps(
            {
                "name": "seed_check",
                "version": "1.0",
                "config-version": 2,
                "profile": "dataproducts",
                "seed-paths": ["seeds"],
                "macro-paths": ["macros"],
                "seeds": {"seed_check": seeds_config},
            }
        )
    )
    runner = DbtRunner(
        {**spark_server.env, "DATAPRODUCTS_SPARK_SCHEMA": "seed_check"},
        "spark",
        tmp_path / "target",
        project_dir=project,
    )
    runner.run("seed")
    for name, path in _REAL.items():
        header, expected = _csv_rows(path)
        cols, rows = _fetch(spark_server, f"select * from seed_check.{name}")
        assert cols == header
        assert sorted(rows, key=repr) == sorted(expected, key=repr), name
        assert any("'" in str(cell) for row in rows for cell in row), name
    _, rows = _fetch(spark_server, "select * from seed_check.metric_definitions")
    assert any(cell is None for row in rows for cell in row)
    _, rows = _fetch(
        spark_server,
        "select id, label, note, amount, flag, cast(day as string) "
        "from seed_check.hostile order by id",
    )
    assert rows == _HOSTILE_ROWS
    # the project's loader ran (literals in the SQL, not dbt-spark's %s bindings)
    compiled = next((tmp_path / "target" / "run").rglob("hostile.csv")).read_text()
    assert "'O\\'Brien'" in compiled and "%s" not in compiled


# --- dbt's Python models through Spark Connect ---------------------------------------------


def test_dbt_loads_the_plugin_that_adds_spark_connect() -> None:
    """dbt imports installed top-level modules named dbt_* and initializes their plugins;
    ours adds the submission method the Python models use on Spark, once."""
    from dbt.adapters.spark.impl import SparkAdapter
    from dbt.plugins.manager import PluginManager

    from dataproducts_pipeline.spark_connect import SparkConnectPythonJobHelper, register

    assert "dbt_dataproducts" in PluginManager.get_prefixed_modules()
    PluginManager.from_modules("dataproducts")
    helpers = SparkAdapter.python_submission_helpers.fget(None)
    assert helpers["spark_connect"] is SparkConnectPythonJobHelper
    assert {"job_cluster", "all_purpose_cluster"} <= set(helpers)  # dbt-spark's kept
    assert register() is True
    assert SparkAdapter.python_submission_helpers.fget(None) == helpers  # not wrapped twice


def test_the_connect_url_defaults_to_the_thrift_host(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataproducts_pipeline.spark_connect import connect_url

    monkeypatch.delenv("DATAPRODUCTS_SPARK_CONNECT_URL", raising=False)
    monkeypatch.setenv("DATAPRODUCTS_SPARK_HOST", "spark.internal")
    assert connect_url() == "sc://spark.internal:15002"
    assert connect_url("thrift.host") == "sc://thrift.host:15002"
    monkeypatch.setenv("DATAPRODUCTS_SPARK_CONNECT_URL", "sc://connect.host:443/;use_ssl=true")
    assert connect_url("thrift.host") == "sc://connect.host:443/;use_ssl=true"
