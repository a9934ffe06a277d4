"""The raw-data contract: the tables and columns that loaders write into schema ``raw``.

This is the boundary between whatever loads data (an EL tool, the product database, or
our synthetic generator) and the dbt project. The dbt sources YAML
(``models/staging/raw/_raw__sources.yml``) documents the same tables column by column;
``python/tests/test_raw_contract.py`` fails if the two ever disagree.

Loaders may add columns, never rename or drop these. All timestamps are UTC, stored
without a time zone.

>>> RAW_TABLES["events"].columns["event_type"]
'varchar'
>>> RAW_TABLES["learners"].primary_key
'learner_id'
"""

from __future__ import annotations

from dataclasses import dataclass

RAW_SCHEMA = "raw"


@dataclass(frozen=True)
class RawTable:
    """One raw table: its primary key and its columns with portable SQL types."""

    name: str
    primary_key: str
    columns: dict[str, str]

    def ddl(self, schema: str = RAW_SCHEMA, *, if_not_exists: bool = False) -> str:
        """``create table`` statement, valid on DuckDB and PostgreSQL."""
        cols = ",\n  ".join(f"{c} {t}" for c, t in self.columns.items())
        create = "create table if not exists" if if_not_exists else "create table"
        return f"{create} {schema}.{self.name} (\n  {cols}\n)"

    @property
    def spark_columns(self) -> dict[str, str]:
        """The columns with their Spark SQL types (:data:`SPARK_TYPES`)."""
        return {c: SPARK_TYPES[t] for c, t in self.columns.items()}


#: The contract's portable types in Spark SQL. ``timestamp`` is Spark's TIMESTAMP (an
#: instant, shown in the session time zone): the raw tables' UTC times read unchanged in a
#: session whose ``spark.sql.session.timeZone`` is UTC, as the local server's is.
SPARK_TYPES: dict[str, str] = {
    "bigint": "bigint",
    "integer": "int",
    "double precision": "double",
    "varchar": "string",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


def _table(name: str, primary_key: str, **columns: str) -> RawTable:
    return RawTable(name=name, primary_key=primary_key, columns=dict(columns))


RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in [
        _table(
            "learners",
            "learner_id",
            learner_id="bigint",
            first_name="varchar",
            country_code="varchar",
            language="varchar",
            timezone="varchar",
            signed_up_at="timestamp",
            _loaded_at="timestamp",
        ),
        _table(
            "courses",
            "course_id",
            course_id="bigint",
            title="varchar",
            domain="varchar",
            language="varchar",
            difficulty="varchar",
            specialization_id="bigint",
            specialization_position="integer",
            is_published="boolean",
            launched_at="timestamp",
            _loaded_at="timestamp",
        ),
        _table(
            "course_items",
            "item_id",
            item_id="bigint",
            course_id="bigint",
            module_number="integer",
            position="integer",
            item_type="varchar",
            title="varchar",
            passing_score="double precision",
            _loaded_at="timestamp",
        ),
        _table(
            "events",
            "event_id",
            event_id="bigint",
            learner_id="bigint",
            course_id="bigint",
            item_id="bigint",
            event_type="varchar",
            score="double precision",
            occurred_at="timestamp",
            _loaded_at="timestamp",
        ),
        _table(
            "experiment_exposures",
            "exposure_id",
            exposure_id="bigint",
            experiment_id="varchar",
            learner_id="bigint",
            variant="varchar",
            exposed_at="timestamp",
            _loaded_at="timestamp",
        ),
        _table(
            "coaching_deliveries",
            "delivery_id",
            delivery_id="bigint",
            learner_id="bigint",
            course_id="bigint",
            message_id="varchar",
            variant="varchar",
            delivered_at="timestamp",
            _loaded_at="timestamp",
        ),
        _table(
            "coaching_responses",
            "response_id",
            response_id="bigint",
            delivery_id="bigint",
            response="varchar",
            responded_at="timestamp",
            _loaded_at="timestamp",
        ),
        _table(
            "learner_goals",
            "goal_id",
            goal_id="bigint",
            learner_id="bigint",
            course_id="bigint",
            goal_text="varchar",
            target_date="date",
            created_at="timestamp",
            _loaded_at="timestamp",
        ),
    ]
}

# Accepted values of the enum columns (staging quarantines anything else).
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("courses", "difficulty"): ("beginner", "intermediate", "advanced"),
    ("course_items", "item_type"): ("lecture", "reading", "quiz", "assignment"),
    ("events", "event_type"): (
        "course_view",
        "enroll",
        "unenroll",
        "item_start",
        "item_complete",
        "quiz_submit",
        "course_complete",
    ),
    ("coaching_responses", "response"): ("clicked", "helpful", "not_helpful", "dismissed"),
}
