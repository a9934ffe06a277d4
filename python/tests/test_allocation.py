"""The allocation rule: Python (dataproducts.allocation) and SQL agree, on both engines.

The SQL side is the real dbt code: macro ``experiments_allocation_bucket`` and model
``int_experiment_variants_ranged``, built from the registry seeds of a copy of the
project (the repository's experiments plus two with awkward weights), then queried for
100,000 learner ids per experiment.
"""

from __future__ import annotations

import csv
import hashlib
from contextlib import closing

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, DbtRunner
from experiments_scenarios import scenario_project

from dataproducts import allocation
from dataproducts.allocation import BUCKETS, Registry, bucket, canonical_learner_id
from dataproducts.errors import InvalidArgumentError, RegistryError, UnknownExperimentError

N_IDS = 100_000
EXTRA = [  # weights that are not halves: rounding of the ranges must agree
    ("exp_thirds", [("control", 0.3333), ("b", 0.3333), ("c", 0.3334)]),
    ("exp_uneven", [("control", 0.1), ("b", 0.2), ("c", 0.7)]),
]


def test_bucket_is_the_documented_md5_rule():
    # int('a4f8b9c5', 16) would be the first 8 hex digits; computed independently here
    digest = hashlib.md5(b"completion-nudge-v1-42").hexdigest()
    assert bucket("completion-nudge-v1", 42) == int(digest[:8], 16) % 10000
    assert bucket("completion-nudge-v1", 42) == bucket("completion-nudge-v1", "42")


# --- one canonical learner id (issue 13) ---------------------------------------------

#: Ids at the edges of the raw contract's bigint, and ordinary ones: SQL writes each as
#: ``cast(learner_id as varchar)`` (digits, '-' when negative, no leading zero).
EDGE_IDS = [0, 1, 12, -1, -12, 10**15 + 7, 2**63 - 1, -(2**63)]


def accepted_forms(i: int) -> list[object]:
    """Every way a caller may write learner ``i``: all must allocate as ``i``."""
    sign = "-" if i < 0 else ""
    digits = str(abs(i))
    forms: list[object] = [i, np.int64(i), str(i), f" {i}", f"{i} ", f"\t{i}\n"]
    forms += [f"{sign}0{digits}", f"  {sign}000{digits}  "]
    if i >= 0:
        forms += [f"+{i}", f"+00{i}", np.uint64(i)]
    if -(2**31) <= i < 2**31:
        forms.append(np.int32(i))
    return forms


def sql_text(i: int) -> str:
    """What SQL's cast of a bigint to text gives, written out independently of str()."""
    if i == 0:
        return "0"
    digits, n = [], abs(i)
    while n:
        n, d = divmod(n, 10)
        digits.append("0123456789"[d])
    return ("-" if i < 0 else "") + "".join(reversed(digits))


@pytest.mark.parametrize("learner", EDGE_IDS)
def test_equal_ids_allocate_equally(learner):
    """12, "12", " 12", "012", "+12", numpy 12: one learner, one bucket, one variant —
    the bucket of the text SQL hashes."""
    salt = "completion-nudge-v1"
    want = int(hashlib.md5(f"{salt}-{sql_text(learner)}".encode()).hexdigest()[:8], 16) % 10000
    registry = Registry.from_seeds()
    variant = registry["exp_completion_nudge"].variant_for_bucket(want)
    for form in accepted_forms(learner):
        assert canonical_learner_id(form) == learner, repr(form)
        assert bucket(salt, form) == want, repr(form)
        assert registry.assign("exp_completion_nudge", form) == variant, repr(form)
        assert allocation.assign("exp_completion_nudge", form) == variant, repr(form)
    forms = accepted_forms(learner)
    assert list(registry["exp_completion_nudge"].assign_many(forms)) == [variant] * len(forms)


HOSTILE_IDS = [
    None,
    True,
    False,
    12.0,  # a float, even a whole one: ids are integers (pass int(x))
    1.5,
    float("nan"),
    float("inf"),
    np.float64(12.0),
    "1.5",
    "12.0",
    "1e3",
    "1; drop table learners",
    "a\x00b",
    "12\x00",
    "",
    "   ",
    "-",
    "+",
    "1 2",
    "1_000",  # int() takes it, SQL does not
    "0x1f",
    "\u0661\u0662",  # Arabic-Indic digits: int() takes them, SQL does not
    "\uff11\uff12",  # fullwidth digits
    "\u200b12",  # zero-width space
    "12\u00a0",  # no-break space
    b"12",
    bytearray(b"12"),
    [12],
    (12,),
    {"id": 12},
    {12},
    object(),
    2**63,
    -(2**63) - 1,
    str(2**63),
    str(-(2**63) - 1),
    10**40,
    "9" * 400,
]


@pytest.mark.parametrize("value", HOSTILE_IDS, ids=repr)
def test_anything_but_a_canonical_id_is_an_invalid_argument(value):
    registry = Registry.from_seeds()
    exp = registry["exp_completion_nudge"]
    calls = [
        lambda: canonical_learner_id(value),
        lambda: bucket(exp.salt, value),
        lambda: exp.assign(value),
        lambda: registry.assign("exp_completion_nudge", value),
        lambda: allocation.assign("exp_completion_nudge", value),
        lambda: exp.assign_many([1, value]),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError, match="learner_id"):
            call()


@pytest.mark.parametrize("value", [None, 1, 1.5, ["exp_completion_nudge"], {}, b"x", "", "a\x00b"])
def test_experiment_id_of_another_type_is_an_invalid_argument(value):
    with pytest.raises(InvalidArgumentError, match="experiment_id"):
        Registry.from_seeds().assign(value, 12)


@pytest.mark.parametrize("value", [12, "12", None, {1: 2}])
def test_assign_many_wants_an_iterable_of_ids(value):
    with pytest.raises(InvalidArgumentError, match="learner_ids"):
        Registry.from_seeds()["exp_completion_nudge"].assign_many(value)


def test_cli_assign_canonical_ids_and_exit_2_for_anything_else(tmp_path, monkeypatch, capsys):
    """Nothing published: the CLI allocates with the registry in seeds/."""
    from dataproducts.cli import run

    monkeypatch.setenv("DATAPRODUCTS_PUBLISHED_DIR", str(tmp_path / "published"))
    want = Registry.from_seeds().assign("exp_completion_nudge", 12)
    for form in ["12", "012", " 12 ", "+12"]:
        assert run(["assign", "exp_completion_nudge", form, "--json"]) == 0
        out = capsys.readouterr().out
        assert '"learner_id": 12' in out and f'"variant": "{want}"' in out, out
    for bad in ["1.5", "12.0", "1; drop", "a\x00b", "", str(2**63)]:
        assert run(["assign", "exp_completion_nudge", bad]) == 2, bad
        err = capsys.readouterr().err
        assert "learner_id" in err and "Traceback" not in err


def test_ranges_follow_cumulative_weights():
    reg = Registry.from_seeds()
    exp = reg["exp_syllabus_layout"]  # 0.5 / 0.25 / 0.25
    assert exp.upper_bounds() == [5000, 7500, 10000]
    assert [exp.variant_for_bucket(b) for b in (0, 4999, 5000, 7499, 7500, 9999)] == [
        "control",
        "control",
        "weekly",
        "weekly",
        "modular",
        "modular",
    ]


def test_split_matches_weights_on_many_ids():
    """Over 100k ids, each arm's share is within 4 standard errors of its weight."""
    exp = Registry.from_seeds()["exp_syllabus_layout"]
    variants = exp.assign_many(range(N_IDS))
    for v in exp.variants:
        share = float(np.mean(variants == v.name))
        se = np.sqrt(v.weight * (1 - v.weight) / N_IDS)
        assert abs(share - v.weight) < 4 * se


def test_seed_rows_are_in_allocation_order():
    """Python reads the arms in file order, SQL by allocation_order: they must agree."""
    with open(REPO / "seeds" / "experiments" / "experiment_variants.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    seen: dict[str, list[int]] = {}
    for row in rows:
        seen.setdefault(row["experiment_id"], []).append(int(row["allocation_order"]))
    for exp_id, orders in seen.items():
        assert orders == list(range(1, len(orders) + 1)), exp_id
    for row in rows:  # whole buckets: SQL and Python round the ranges the same way
        assert abs(float(row["weight"]) * BUCKETS - round(float(row["weight"]) * BUCKETS)) < 1e-6


def test_registry_errors_say_what_to_do(tmp_path):
    with pytest.raises(UnknownExperimentError, match="the registry has"):
        Registry.from_seeds()["no_such_experiment"]
    d = tmp_path / "experiments"
    d.mkdir()
    (d / "experiments.csv").write_text(
        "experiment_id,name,hypothesis,owner,salt,start_at,end_at,status,primary_metric\n"
        "e,E,h,o,s,2026-09-01,2026-10-01,running,items_completed\n"
    )
    (d / "experiment_variants.csv").write_text(
        "experiment_id,variant,weight,is_control,allocation_order\ne,control,0.5,true,1\ne,b,0.4,false,2\n"
    )
    with pytest.raises(RegistryError, match=r"experiment_variants\.csv"):
        Registry.from_seeds(tmp_path)


# --- Python vs SQL -------------------------------------------------------------------


def _registry_frames():
    experiments = pd.read_csv(REPO / "seeds" / "experiments" / "experiments.csv")
    variants = pd.read_csv(REPO / "seeds" / "experiments" / "experiment_variants.csv")
    variants["is_control"] = variants.is_control.astype(str).str.lower() == "true"
    extra_e, extra_v = [], []
    for exp_id, arms in EXTRA:
        row = experiments.iloc[0].to_dict()
        row.update(experiment_id=exp_id, name=exp_id, salt=f"{exp_id}-salt")
        extra_e.append(row)
        for order, (name, w) in enumerate(arms, start=1):
            extra_v.append(
                {
                    "experiment_id": exp_id,
                    "variant": name,
                    "weight": w,
                    "is_control": order == 1,
                    "allocation_order": order,
                }
            )
    return (
        pd.concat([experiments, pd.DataFrame(extra_e)], ignore_index=True),
        pd.concat([variants, pd.DataFrame(extra_v)], ignore_index=True),
    )


SQL = """
select
    experiments.experiment_id,
    ids.learner_id,
    {{ experiments_allocation_bucket('experiments.salt', 'ids.learner_id') }} as bucket,
    ranges.variant
from allocation_ids as ids
cross join {{ ref('experiments') }} as experiments
inner join {{ ref('int_experiment_variants_ranged') }} as ranges
    on
        ranges.experiment_id = experiments.experiment_id
        and {{ experiments_allocation_bucket('experiments.salt', 'ids.learner_id') }} >= ranges.lower_bucket
        and {{ experiments_allocation_bucket('experiments.salt', 'ids.learner_id') }} < ranges.upper_bucket
"""


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_python_and_sql_agree_on_100k_ids(engine, request, tmp_path):
    experiments, variants = _registry_frames()
    project = scenario_project(tmp_path / "project", experiments, variants)
    registry = Registry.from_seeds(project / "seeds")
    ids = np.arange(1, N_IDS + 1, dtype=np.int64)
    if engine == "duckdb":
        import duckdb

        path = tmp_path / "alloc.duckdb"
        with closing(duckdb.connect(str(path))) as con:
            con.execute(
                f"create table allocation_ids as select range as learner_id from range(1, {N_IDS + 1})"
            )
            for i in EDGE_IDS:  # the bigint's edges and negative ids too
                con.execute(f"insert into allocation_ids values (cast('{i}' as bigint))")
        runner = DbtRunner({"DATAPRODUCTS_DUCKDB": str(path)}, "dev", tmp_path / "target", project)
    else:
        import psycopg2

        server = request.getfixturevalue("postgres_server")
        env = server.create_database("allocation")
        dsn = server.dsn_for("allocation")
        with closing(psycopg2.connect(dsn)) as con, con, con.cursor() as cur:
            cur.execute(
                f"create table allocation_ids as select g::bigint as learner_id from generate_series(1, {N_IDS}) as g"
            )
            for i in EDGE_IDS:  # the bigint's edges and negative ids too
                cur.execute(f"insert into allocation_ids values (cast('{i}' as bigint))")
        runner = DbtRunner(env, "postgres", tmp_path / "target", project)
    # the two registry seeds and the ranges model, in one dbt invocation
    runner.run(
        "build",
        "--select",
        "experiments",
        "experiment_variants",
        "int_experiment_variants_ranged",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
    )
    sql = runner.run("compile", "--quiet", "--inline", SQL).stdout.strip()
    if engine == "duckdb":
        with closing(duckdb.connect(str(path), read_only=True)) as con:
            got = con.execute(sql).df()
    else:
        with closing(psycopg2.connect(dsn)) as con, con.cursor() as cur:
            cur.execute(sql)
            got = pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])

    n_edge = len(set(EDGE_IDS) - set(range(1, N_IDS + 1)))
    assert len(got) == (N_IDS + len(EDGE_IDS)) * len(experiments)  # one range per id
    got["learner_id"] = got.learner_id.astype(object).map(int)
    in_range = got.learner_id.map(lambda i: 1 <= i <= N_IDS)
    in_range &= ~got.duplicated(["experiment_id", "learner_id"])  # 1 and 12 are both
    edges = got[got.learner_id.isin(EDGE_IDS)].drop_duplicates(["experiment_id", "learner_id"])
    assert len(edges) == len(EDGE_IDS) * len(experiments)
    assert n_edge > 0
    for row in edges.itertuples():  # every accepted form of an edge id: SQL's bucket, variant
        exp = registry[row.experiment_id]
        for form in accepted_forms(row.learner_id):
            assert bucket(exp.salt, form) == row.bucket, (row.experiment_id, form)
            assert exp.assign(form) == row.variant, (row.experiment_id, form)
    got = got[in_range]
    for exp_id, part in got.groupby("experiment_id"):
        part = part.sort_values("learner_id")
        assert (part.learner_id.to_numpy() == ids).all()
        exp = registry[exp_id]
        py_buckets = np.fromiter(
            (bucket(exp.salt, int(i)) for i in ids), dtype=np.int64, count=N_IDS
        )
        np.testing.assert_array_equal(part.bucket.to_numpy(np.int64), py_buckets)
        mismatched = (part.variant.to_numpy() != exp.assign_many(ids)).sum()
        assert mismatched == 0, f"{exp_id}: {mismatched} of {N_IDS} ids differ"
