"""The validation gate (great-expectations) on the tiny build, on DuckDB and PostgreSQL.

The gate must pass on a healthy build and fail, naming the mart and the expectation, on
copies tampered in exactly one way: a duplicate key, a gap in ranks, a p-value of 1.5, a
``{first_name}`` left in rendered text, a row count 10x the previous snapshot's.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from dataproducts.errors import ConfigurationError
from dataproducts_pipeline.expectations import SUITES
from dataproducts_pipeline.expectations._rules import (
    MartSuite,
    _duplicated,
    _positions,
    ranks_contiguous,
    unique,
)
from dataproducts_pipeline.validation import ValidationReport, previous_row_counts, validate_build

# --- helpers: a private, tampered copy of a build ----------------------------------------


class Copy:
    """A writable copy of a build's warehouse, on the same engine."""

    def __init__(self, engine: str, source: str) -> None:
        self.engine = engine
        self.source = source  # what validate_build reads

    def execute(self, sql: str, params: tuple = ()) -> None:
        """Run one statement (``%s`` placeholders on both engines)."""
        if self.engine == "duckdb":
            import duckdb

            with closing(duckdb.connect(self.source)) as con:
                con.execute(sql.replace("%s", "?"), list(params))
            return
        import psycopg2

        with closing(psycopg2.connect(self.source)) as con, con.cursor() as cur:
            cur.execute(sql, params)
            con.commit()

    def query(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        if self.engine == "duckdb":
            import duckdb

            with closing(duckdb.connect(self.source, read_only=True)) as con:
                return con.execute(sql.replace("%s", "?"), list(params)).df()
        import psycopg2

        with closing(psycopg2.connect(self.source)) as con, con.cursor() as cur:
            cur.execute(sql, params)
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


@pytest.fixture
def tampered(warehouse, request, tmp_path: Path) -> Iterator[Copy]:
    """A fresh copy of the tiny build: a DuckDB file copy, or a PostgreSQL database cloned
    from the build's as a template."""
    if warehouse.engine == "duckdb":
        # Same file name: DuckDB views name their database after the file.
        target = tmp_path / "copy" / warehouse.path.name
        target.parent.mkdir()
        shutil.copyfile(warehouse.path, target)
        yield Copy("duckdb", str(target))
        return
    import psycopg2
    from psycopg2.extensions import parse_dsn

    server = request.getfixturevalue("postgres_server")
    original = parse_dsn(warehouse.dsn)["dbname"]
    name = "tampered_" + re.sub(r"\W", "_", request.node.name.lower())[-40:]
    admin = psycopg2.connect(server.dsn_for("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            cur.execute(f'create database "{name}" template "{original}"')
        yield Copy("postgres", server.dsn_for(name))
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
    finally:
        admin.close()


def source_of(build) -> str:
    return str(build.path) if build.engine == "duckdb" else build.dsn


def marts_failing(report: ValidationReport) -> set[str]:
    return {f.split(":", 1)[0] for f in report.failures}


def expectations_failing(report: ValidationReport) -> set[str]:
    return {re.match(r"[^:]+: (\w+)\(", f).group(1) for f in report.failures}


# --- a healthy build passes ------------------------------------------------------------


def test_gate_passes_on_the_tiny_build(warehouse, tmp_path: Path) -> None:
    report = validate_build(source_of(warehouse), data_docs_dir=tmp_path / "docs")

    assert report.failures == []
    assert report.success
    # Every suite ran, on as many rows as the warehouse holds (counted here in SQL).
    assert set(report.row_counts) == set(SUITES)
    for mart, rows in report.row_counts.items():
        relation = "recommendations_v1" if mart == "recommendations" else mart
        assert rows == warehouse.scalar(f"select count(*) from marts.{relation}"), mart
    assert report.expectations_run == sum(len(s.checks()) for s in SUITES.values())
    # Data Docs: an index linking a validation page per mart.
    index = report.data_docs_index
    assert index == (tmp_path / "docs" / "index.html").resolve()
    html = index.read_text()
    for mart in SUITES:
        assert mart in html
        assert list((tmp_path / "docs" / "validations" / mart).rglob("*.html")), mart


def test_gate_passes_against_its_own_row_counts(duckdb_build, tmp_path: Path) -> None:
    """The next build of the same data, compared with this one's manifest, passes."""
    first = validate_build(duckdb_build.path, data_docs_dir=tmp_path / "a")
    manifest = {"build_id": "previous", "row_counts": first.row_counts}
    second = validate_build(duckdb_build.path, manifest, data_docs_dir=tmp_path / "b")
    assert second.success, second.failures
    assert second.expectations_run == first.expectations_run


def test_gate_writes_nothing_but_its_data_docs(
    duckdb_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ephemeral context: no gx/ folder, no uncommitted/ — only the Data Docs asked for."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    report = validate_build(duckdb_build.path, data_docs_dir="site")
    assert report.success, report.failures
    assert sorted(p.name for p in workdir.iterdir()) == ["site"]
    assert report.data_docs_index == (workdir / "site" / "index.html").resolve()


# --- tampered copies fail, naming the mart and the expectation -------------------------


def _one_list(copy: Copy, min_length: int) -> tuple[int, str]:
    df = copy.query(
        "select learner_id, module from marts.recommendations_v1 group by learner_id, module "
        "having count(*) >= %s order by learner_id, module limit 1",
        (min_length,),
    )
    return int(df.iat[0, 0]), str(df.iat[0, 1])


def tamper_duplicate_key(copy: Copy) -> None:
    # experiment_health has a one-column key: a second row for an experiment breaks only it.
    copy.execute(
        "insert into marts.experiment_health select * from marts.experiment_health "
        "where experiment_id = (select min(experiment_id) from marts.experiment_health)"
    )


def tamper_duplicate_recommendation(copy: Copy) -> None:
    learner, module = _one_list(copy, 3)
    copy.execute(
        "insert into marts.recommendations_v1 select * from marts.recommendations_v1 "
        "where learner_id = %s and module = %s and rank = 1",
        (learner, module),
    )


def tamper_rank_gap(copy: Copy) -> None:
    learner, module = _one_list(copy, 3)
    copy.execute(
        "delete from marts.recommendations_v1 where learner_id = %s and module = %s and rank = 2",
        (learner, module),
    )


def tamper_p_value(copy: Copy) -> None:
    copy.execute(
        "update marts.experiment_results set p_value = 1.5 where experiment_id || metric_id || "
        "variant = (select min(experiment_id || metric_id || variant) from marts.experiment_results)"
    )


def tamper_token(copy: Copy) -> None:
    copy.execute(
        "update marts.coaching_queue set rendered_text = 'Keep going, {first_name}!' "
        "where learner_id = (select min(learner_id) from marts.coaching_queue)"
    )


TAMPERS: dict[str, tuple[Callable[[Copy], None], str, set[str]]] = {
    # name: (tamper, the mart that must fail, the expectations that must fail there)
    "duplicate_key": (
        tamper_duplicate_key,
        "experiment_health",
        {"expect_column_values_to_be_unique"},
    ),
    "rank_gap": (tamper_rank_gap, "recommendations", {"expect_column_pair_values_to_be_equal"}),
    "p_value_1.5": (tamper_p_value, "experiment_results", {"expect_column_values_to_be_between"}),
    "token_left": (tamper_token, "coaching_queue", {"expect_column_values_to_not_match_regex"}),
}


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_gate_fails_on_a_tampered_copy(kind: str, tampered: Copy, tmp_path: Path) -> None:
    tamper, mart, expected = TAMPERS[kind]
    tamper(tampered)
    report = validate_build(tampered.source, data_docs_dir=tmp_path / "docs")

    assert not report.success
    # Exactly the broken rule fails, and the message names the mart and the expectation.
    assert marts_failing(report) == {mart}, report.failures
    assert expectations_failing(report) == expected, report.failures
    # The Data Docs are built for a failed run too (that is where one looks).
    assert report.data_docs_index is not None and report.data_docs_index.exists()


def test_failure_messages_say_what_broke(tampered: Copy, tmp_path: Path) -> None:
    tamper_p_value(tampered)
    tamper_token(tampered)
    tamper_rank_gap(tampered)
    report = validate_build(tampered.source, data_docs_dir=tmp_path / "docs")
    text = "\n".join(report.failures)
    assert "experiment_results: expect_column_values_to_be_between(column=p_value" in text
    assert "[1 unexpected row(s), e.g. [1.5]]" in text
    assert "coaching_queue: expect_column_values_to_not_match_regex(column=rendered_text" in text
    assert "{first_name}" in text
    assert "recommendations: expect_column_pair_values_to_be_equal(column_A=rank" in text
    assert "Ranks contiguous" in text


def test_duplicate_recommendation_breaks_its_keys(tampered: Copy, tmp_path: Path) -> None:
    """A whole row repeated: both keys fail, each on exactly the two rows that share it
    (and the ranks, since a rank repeats)."""
    tamper_duplicate_recommendation(tampered)
    report = validate_build(tampered.source, data_docs_dir=tmp_path / "docs")
    assert marts_failing(report) == {"recommendations"}
    for key in ("learner_id__module__rank", "learner_id__module__course_id"):
        failed = [
            f
            for f in report.failures
            if f.startswith(
                f"recommendations: expect_column_values_to_be_in_set(column={key}__unique,"
            )
        ]
        assert len(failed) == 1 and "[2 unexpected row(s)" in failed[0], report.failures
        assert "Key unique: one row per" in failed[0]


def test_row_count_ten_times_the_previous_fails(warehouse, tmp_path: Path) -> None:
    """The previous snapshot had a tenth of this build's recommendations."""
    rows = int(warehouse.scalar("select count(*) from marts.recommendations_v1"))
    previous = {"row_counts": {"recommendations": rows // 10}}
    report = validate_build(source_of(warehouse), previous, data_docs_dir=tmp_path / "docs")
    assert not report.success
    assert marts_failing(report) == {"recommendations"}
    assert expectations_failing(report) == {"expect_table_row_count_to_be_between"}
    # Bounds: floor(r/10 * 0.5) - 5 .. ceil(r/10 * 1.5) + 5; observed r.
    assert f"observed {rows}" in report.failures[0]


# --- a big mart checked in parts gives the whole table's outcome -----------------------


def _without_part(failure: str) -> str:
    return re.sub(r"part \d+ of \d+, by learner_id(; )?", "", failure).replace(" []", "")


def test_recommendations_checked_in_parts_as_if_whole(
    tampered: Copy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``recommendations`` read in 3 parts by learner (as ``large`` reads its 50 million
    rows: see ``ROWS_PER_PART``) passes when healthy, and fails exactly as the whole table
    does: a rank gap and a repeated row within one learner's lists (checked on each part)
    and a second ``generated_at``, plus a row count 10x the previous snapshot's (checked on
    the whole table, once)."""
    from dataproducts_pipeline import validation

    suite = [SUITES["recommendations"]]
    rows = int(tampered.query("select count(*) as n from marts.recommendations_v1").iat[0, 0])
    parted = -(-rows // 3)

    def gate(name: str, previous=None, rows_per_part: int = parted) -> ValidationReport:
        monkeypatch.setattr(validation, "ROWS_PER_PART", rows_per_part)
        return validate_build(
            tampered.source, previous, data_docs_dir=tmp_path / name, suites=suite
        )

    healthy = gate("healthy")
    assert healthy.success, healthy.failures
    assert healthy.row_counts == {"recommendations": rows}
    assert healthy.expectations_run == len(SUITES["recommendations"].checks())
    pages = {p.name for p in (tmp_path / "healthy" / "validations").iterdir()}
    assert pages == {"recommendations", *(f"recommendations_part_{i}_of_3" for i in (1, 2, 3))}

    learner, module = _one_list(tampered, 3)
    tampered.execute(
        "delete from marts.recommendations_v1 where learner_id = %s and module = %s and rank = 2",
        (learner, module),
    )
    other = tampered.query(
        "select module from marts.recommendations_v1 where learner_id = %s and module <> %s "
        "group by module having count(*) >= 2 order by module limit 1",
        (learner, module),
    ).iat[0, 0]
    tampered.execute(
        "insert into marts.recommendations_v1 select * from marts.recommendations_v1 "
        "where learner_id = %s and module = %s and rank = 1",
        (learner, other),
    )
    tampered.execute(
        "update marts.recommendations_v1 set generated_at = generated_at + interval '1 second' "
        "where learner_id = (select max(learner_id) from marts.recommendations_v1)"
    )
    previous = {"row_counts": {"recommendations": rows // 10}}
    whole = gate("whole", previous, rows_per_part=10 * rows)
    in_parts = gate("parts", previous)

    assert not in_parts.success
    assert sorted(map(_without_part, in_parts.failures)) == sorted(whole.failures)
    assert expectations_failing(in_parts) == {
        "expect_table_row_count_to_be_between",  # on the whole table
        "expect_column_unique_value_count_to_be_between",  # generated_at, whole table
        "expect_column_values_to_be_in_set",  # the keys' uniqueness, in a part
        "expect_column_pair_values_to_be_equal",  # the ranks, in a part
    }
    assert any("part " in f and " of 3, by learner_id" in f for f in in_parts.failures)
    # one row deleted, one repeated
    assert in_parts.row_counts == whole.row_counts == {"recommendations": rows}


def test_a_whole_arrow_table_is_checked_in_parts_too(
    duckdb_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Arrow table given whole (not as ``ArrowParts``) that its suite reads in parts is
    split by a hash of learner_id: its rules pass, on 3 parts, and every row is counted."""
    import duckdb

    from dataproducts_pipeline import validation

    with closing(duckdb.connect(str(duckdb_build.path), read_only=True)) as con:
        table = con.execute("select * from marts.recommendations_v1").to_arrow_table()
    monkeypatch.setattr(validation, "ROWS_PER_PART", -(-table.num_rows // 3))
    report = validation.validate_arrow_tables(
        {"recommendations_v1": table}, data_docs_dir=tmp_path / "docs"
    )
    assert not [f for f in report.failures if f.startswith("recommendations:")]
    assert report.row_counts["recommendations"] == table.num_rows
    assert (tmp_path / "docs" / "validations" / "recommendations_part_3_of_3").is_dir()


def test_the_gate_lets_go_of_every_frame_it_has_checked(
    duckdb_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the gate reads the next mart, or the next part of one, no frame it checked
    before is alive: great-expectations keeps every batch it validated unless told to drop
    it, which held the whole of ``recommendations`` at ``large`` although it was read in
    parts (14.7 GB; 5.5 GB once let go)."""
    import gc
    import weakref

    import duckdb

    from dataproducts_pipeline import validation

    read: list[weakref.ref] = []
    alive_when_read: list[int] = []
    to_pandas = validation._to_pandas

    def recorded(table, categorical):
        gc.collect()
        alive_when_read.append(sum(ref() is not None for ref in read))
        frame = to_pandas(table, categorical)
        read.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(validation, "_to_pandas", recorded)
    with closing(duckdb.connect(str(duckdb_build.path), read_only=True)) as con:
        (rows,) = con.execute("select count(*) from marts.recommendations_v1").fetchone()
    monkeypatch.setattr(validation, "ROWS_PER_PART", -(-rows // 3))
    report = validate_build(duckdb_build.path, data_docs_dir=tmp_path / "docs")
    assert report.success, report.failures
    assert len(read) == len(SUITES) + 2  # recommendations in 3 parts
    assert alive_when_read == [0] * len(read)
    gc.collect()
    assert not [ref for ref in read if ref() is not None]


def test_a_rule_grouping_across_parts_is_refused() -> None:
    """A suite validated in parts whose rule groups rows without the part column would
    judge each part alone: refused when the suite is defined."""
    with pytest.raises(ValueError, match="could span parts"):
        MartSuite(
            mart="m",
            purpose="p",
            key=("learner_id", "rank"),
            rules=(ranks_contiguous("rank", partition_by=("module",)),),
            part_by="learner_id",
        )


def test_missing_mart_is_a_failure_not_a_crash(duckdb_build, tmp_path: Path) -> None:
    target = tmp_path / duckdb_build.path.name
    shutil.copyfile(duckdb_build.path, target)
    Copy("duckdb", str(target)).execute("drop table marts.coaching_queue")
    report = validate_build(target, data_docs_dir=tmp_path / "docs")
    assert not report.success
    assert len(report.failures) == 1
    assert report.failures[0].startswith("coaching_queue: table missing")
    assert "coaching_queue" not in report.row_counts


def test_unknown_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no DuckDB warehouse at"):
        validate_build(tmp_path / "nope.duckdb", data_docs_dir=tmp_path / "docs")


# --- the suites themselves -------------------------------------------------------------


def test_every_public_mart_has_a_suite_that_matches_its_contract(duckdb_build) -> None:
    """Suites exist for exactly the public marts, and ask only for contracted columns."""
    manifest = json.loads((duckdb_build.dbt.target_path / "manifest.json").read_text())
    public: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node.get("access") == "public":
            public[node["name"]] = set(node["columns"])
            assert node["config"]["contract"]["enforced"], node["name"]
    assert set(SUITES) == set(public)
    for mart, suite in SUITES.items():
        asked = {
            c
            for check in suite.checks()
            if check.expectation == "ExpectTableColumnsToMatchSet"
            for c in check.kwargs["column_set"]
        }
        assert set(suite.key) <= asked, mart
        assert asked <= public[mart], (mart, asked - public[mart])


def test_ranks_contiguous_derivation_by_hand() -> None:
    """Partition a: ranks 1, 2, 4 (gap) -> positions 1, 2, 3; b: 2, 1 -> 2, 1 (ok);
    c: 1, 1 (repeat) -> 1, 2; d: 0, 1 (starts at 0) -> 1, 2."""
    df = pd.DataFrame(
        {
            "p": ["a", "a", "a", "b", "b", "c", "c", "d", "d"],
            "rank": [1, 2, 4, 2, 1, 1, 1, 0, 1],
        }
    )
    out = ranks_contiguous("rank", ["p"]).derive(df)
    assert out["rank__expected"].tolist() == [1, 2, 3, 2, 1, 1, 2, 1, 2]
    bad = out.loc[out["rank"] != out["rank__expected"], "p"].tolist()
    assert bad == ["a", "c", "d", "d"]


def test_ranks_contiguous_counts_along_sorted_runs_in_any_row_order() -> None:
    """The same partitions as above, with the partition as a categorical (codes not in
    sorted order): positions are counted along the rows sorted by (partition, rank) and
    put back in table order. Sorted rows: a: 1, 2, 4 -> 1, 2, 3; b: 1, 2 -> 1, 2; c: 1, 1
    -> 1, 2; d: 0, 1 -> 1, 2. Any other order gives each row the same position, and the
    same positions as grouping gives (the path taken without a cheap integer form)."""
    df = pd.DataFrame(
        {
            "p": pd.Categorical(
                ["a", "a", "a", "b", "b", "c", "c", "d", "d"], categories=["d", "b", "a", "c"]
            ),
            "rank": [1, 2, 4, 1, 2, 1, 1, 0, 1],
        }
    )
    assert _positions(df, ["p"], "rank") is not None  # the vectorized path is taken
    out = ranks_contiguous("rank", ["p"]).derive(df)
    assert out["rank__expected"].tolist() == [1, 2, 3, 1, 2, 1, 2, 1, 2]
    grouped = df.groupby("p", sort=False, observed=True)["rank"].rank(method="first")
    assert out["rank__expected"].tolist() == grouped.astype(int).tolist()
    # Shuffled (b's ranks descending, a split around c): row by row the same positions.
    shuffled = df.iloc[[4, 0, 5, 3, 2, 6, 1, 8, 7]]
    again = ranks_contiguous("rank", ["p"]).derive(shuffled)
    assert again["rank__expected"].tolist() == [2, 1, 1, 1, 3, 2, 2, 2, 1]
    # Text partitions (not categorical) or a null rank: no integer form, grouping instead.
    assert _positions(df.astype({"p": str}), ["p"], "rank") is None
    with_null = df.astype({"rank": "Int64"})
    with_null.loc[1, "rank"] = pd.NA
    assert _positions(with_null, ["p"], "rank") is None
    assert ranks_contiguous("rank", ["p"]).derive(with_null)["rank__expected"].tolist() == [
        1,
        3,
        2,
        1,
        2,
        1,
        2,
        1,
        2,
    ]


def test_compound_key_uniqueness_by_hand() -> None:
    """Key (a, b): rows 0 and 3 are both (1, x), rows 2 and 5 both (2, y): those four are
    repeated, the rest unique; in any row order, on the packed path or pandas' own (text
    columns), and rows whose key is all missing are never repeats (as in
    great-expectations' compound check, which leaves them out)."""
    df = pd.DataFrame(
        {
            "a": [1, 1, 2, 1, 3, 2],
            "b": pd.Categorical(["x", "y", "y", "x", "x", "y"]),
        }
    )
    repeated = [True, False, True, True, False, True]
    assert _duplicated(df, ["a", "b"]).tolist() == repeated
    order = [3, 0, 1, 5, 2, 4]
    assert _duplicated(df.iloc[order], ["a", "b"]).tolist() == [repeated[i] for i in order]
    ordered = df.sort_values(["a", "b"])  # the already-sorted path
    assert _duplicated(ordered, ["a", "b"]).tolist() == [repeated[i] for i in ordered.index]
    assert _duplicated(df.astype({"b": str}), ["a", "b"]).tolist() == repeated
    missing = pd.DataFrame({"a": [None, None, 1.0, 1.0], "b": [None, None, "x", None]})
    assert _duplicated(missing, ["a", "b"]).tolist() == [False, False, False, False]
    # The check: the derived column is True where no other row has the same key.
    rule = unique("a", "b")
    out = rule.derive(df)
    assert out["a__b__unique"].tolist() == [not r for r in repeated]
    assert rule.checks[0].kwargs == {"column": "a__b__unique", "value_set": [True]}


def test_row_count_bounds_by_hand() -> None:
    suite = MartSuite(
        "m", "test", ("id",), (), min_rows=1, row_count_tolerance=0.5, row_count_slack=5
    )
    assert suite.row_count_bounds(None) == (1, None)
    # 100 rows before: floor(50) - 5 = 45, ceil(150) + 5 = 155.
    assert suite.row_count_bounds(100) == (45, 155)
    # 3 rows before: floor(1.5) - 5 = -4, raised to min_rows 1; ceil(4.5) + 5 = 10.
    assert suite.row_count_bounds(3) == (1, 10)
    # An empty previous snapshot still admits a few rows.
    assert suite.row_count_bounds(0) == (1, 5)


def test_previous_row_counts_reads_every_manifest_shape() -> None:
    assert previous_row_counts(None) == {}
    assert previous_row_counts({"row_counts": {"recommendations_v1": 10, "x": 2}}) == {
        "recommendations": 10,
        "x": 2,
    }
    assert previous_row_counts({"tables": {"similar_courses": {"row_count": 7}}}) == {
        "similar_courses": 7
    }
    assert previous_row_counts({"tables": [{"name": "learner_goals", "rows": 3}]}) == {
        "learner_goals": 3
    }
    assert previous_row_counts({"marts": {"a": {"rows": True}}, "row_counts": "n/a"}) == {}


def test_the_suites_documentation_examples_run() -> None:
    import doctest

    import dataproducts_pipeline.expectations

    result = doctest.testmod(dataproducts_pipeline.expectations)
    assert result.attempted >= 2 and result.failed == 0
