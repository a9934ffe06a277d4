"""dbt Python models on Spark, through Spark Connect: submission method ``spark_connect``.

dbt-spark runs a Python model by handing its compiled code (the model, then dbt's code
that writes the returned DataFrame with ``saveAsTable``) to a "submission helper"; it
ships helpers for Databricks clusters only, so with ``method: thrift`` or ``session`` a
Python model cannot run. This module adds one more helper to dbt-spark's table,
``spark_connect``: the code runs in dbt's own process against a Spark Connect session of
the server whose Thrift endpoint runs the SQL. Both endpoints share one catalog, so the
model reads its ``dbt.ref`` tables and writes its own where dbt's SQL expects them, and
the heavy work (MLlib's ALS, joins, windows) runs in Spark, not in dbt's process.

- The endpoint: ``$DATAPRODUCTS_SPARK_CONNECT_URL`` (``sc://host:port``), else port
  15002 (Spark Connect's default) on the Thrift server's host. The local server of
  :mod:`dataproducts_pipeline.spark_server` runs both endpoints in one JVM; on a cluster,
  a Spark Connect server beside the Thrift server, on the same metastore.
- One Connect session per endpoint and process, shared by dbt's threads.
- The helper is registered by the dbt plugin :mod:`dbt_dataproducts` (dbt imports every
  installed top-level module named ``dbt_*`` when it starts and initializes the plugins
  it declares); a model opts in with config ``submission_method: spark_connect`` (set for
  every Python model in dbt_project.yml).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from dataproducts.errors import WarehouseError

#: Spark Connect's default port.
DEFAULT_CONNECT_PORT = 15002
SUBMISSION_METHOD = "spark_connect"

_sessions: dict[str, Any] = {}
_lock = threading.Lock()


def connect_url(thrift_host: str | None = None) -> str:
    """``$DATAPRODUCTS_SPARK_CONNECT_URL``, else ``sc://<thrift host>:15002``."""
    url = os.environ.get("DATAPRODUCTS_SPARK_CONNECT_URL")
    if url:
        return url
    host = thrift_host or os.environ.get("DATAPRODUCTS_SPARK_HOST", "127.0.0.1")
    return f"sc://{host}:{DEFAULT_CONNECT_PORT}"


def session(url: str) -> Any:
    """The process's Spark Connect session to ``url`` (created on first use)."""
    with _lock:
        spark = _sessions.get(url)
        if spark is not None:
            return spark
        try:
            from pyspark.sql import SparkSession

            spark = SparkSession.builder.remote(url).getOrCreate()
            spark.sql("select 1").collect()  # fails here, not in the model, when unreachable
        except ImportError as exc:
            raise WarehouseError(
                "dbt's Python models on Spark need the spark extra's Spark Connect client "
                "(pip install -c constraints.txt -e '.[pipeline,spark]', as make does): "
                f"{exc}"
            ) from exc
        except Exception as exc:
            raise WarehouseError(
                f"no Spark Connect server answers at {url}: dbt's Python models on Spark run "
                "through it. Start the local server (python -m "
                "dataproducts_pipeline.spark_server prints the variables) or set "
                f"DATAPRODUCTS_SPARK_CONNECT_URL to your cluster's ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''})"
            ) from exc
        _sessions[url] = spark
        return spark


class SparkConnectPythonJobHelper:
    """dbt's ``PythonJobHelper`` interface: ``__init__(parsed_model, credentials)``, then
    ``submit(compiled_code)``. Runs the compiled code with ``spark`` bound to the session."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.url = connect_url(getattr(credentials, "host", None))

    def submit(self, compiled_code: str) -> None:
        spark = session(self.url)
        name = self.parsed_model.get("unique_id") or self.parsed_model.get("alias", "model")
        namespace: dict[str, Any] = {"spark": spark, "__name__": "__dbt_python_model__"}
        exec(compile(compiled_code, f"<dbt Python model {name}>", "exec"), namespace)


def register() -> bool:
    """Add ``spark_connect`` to dbt-spark's submission helpers (idempotent).

    False when dbt-spark is not installed (nothing to do).
    """
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:
        return False
    current = SparkAdapter.python_submission_helpers
    if getattr(current.fget, "dataproducts_spark_connect", False):
        return True
    original = current.fget

    def python_submission_helpers(self: Any) -> dict[str, Any]:
        return {**original(self), SUBMISSION_METHOD: SparkConnectPythonJobHelper}

    python_submission_helpers.dataproducts_spark_connect = True  # type: ignore[attr-defined]
    SparkAdapter.python_submission_helpers = property(python_submission_helpers)  # type: ignore[method-assign]
    return True
