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

from dataproducts.allocation import BUCKETS, Registry, bucket
from dataproducts.errors import RegistryError, UnknownExperimentError

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

    assert len(got) == N_IDS * len(experiments)  # every id lands in exactly one range
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
