"""A dbt plugin of this project: dbt-spark runs Python models through Spark Connect.

dbt imports every installed top-level module whose name starts with ``dbt_`` when it
starts a command, and initializes the ``plugins`` it declares (``dbt.plugins``). This
one adds the submission method ``spark_connect`` to dbt-spark (see
:mod:`dataproducts_pipeline.spark_connect`); without dbt-spark it does nothing. It is
part of the build side (the ``pipeline`` and ``spark`` extras), never of the reader.
"""

from __future__ import annotations

from dbt.plugins.manager import dbtPlugin


class SparkConnectSubmission(dbtPlugin):
    """Registers dbt-spark's ``spark_connect`` submission method."""

    def initialize(self) -> None:
        from dataproducts_pipeline.spark_connect import register

        register()


plugins = [SparkConnectSubmission]
