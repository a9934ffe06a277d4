"""The rows that make a dbt data test fail, for the failure report of ``dataproducts build``.

dbt says only "Got 2 results, configured to fail if != 0". The project's ``test``
materialization (``macros/tests/test_materialization.sql``) selects the first rows of a
failing test and stores them as the test's ``adapter_response.message`` in
``run_results.json``, e.g.::

    failing rows (first 1 of 1): [experiment_id=exp_x, start_at=2026-10-20 00:00:00, ...]

This module reads them back, so that the report names the offending rows.

>>> failing_rows({"adapter_response": {"_message": "failing rows (first 1 of 1): [id=7]"}})
'failing rows (first 1 of 1): [id=7]'
>>> failing_rows({"adapter_response": {"_message": "OK"}}) is None
True
>>> failure_detail({"adapter_response": {"_message": "failing rows (first 1 of 1): [id=7]"}})
' — failing rows (first 1 of 1): [id=7]'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How every listing written by the test materialization starts.
MARKER = "failing rows ("


def failing_rows(result: Mapping[str, Any]) -> str | None:
    """The failing-row listing of one result of ``run_results.json``, or None."""
    response = result.get("adapter_response") or {}
    message = response.get("_message") if isinstance(response, Mapping) else None
    if isinstance(message, str) and message.startswith(MARKER):
        return message
    return None


def failure_detail(result: Mapping[str, Any]) -> str:
    """`` — <failing rows>`` to append to a failing node's line of the report ('' if none)."""
    rows = failing_rows(result)
    return f" — {rows}" if rows else ""
