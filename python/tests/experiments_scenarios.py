"""Purpose-made raw data for the experiment metrics tests (helper, not a test module).

A *scenario* is an experiment registry (the two seeds) plus raw tables whose every
metric value is known by construction: for each analysis unit we draw the numbers
(items completed after exposure, before exposure, quiz submissions passed...) and then
write exactly those events, inside the metric windows, plus decoy events outside them.
The tests compare what dbt computes from the raw tables with scipy computed on these
drawn numbers — never on anything the models produced.

``scenario_project`` copies the parts of the dbt project the experiments product needs
(staging, the experiments models and tests, all macros) into a temporary directory and
replaces the registry seeds, so that the real SQL runs on a registry made for the test.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from dataproducts.allocation import Experiment, Registry, Variant
from dataproducts_pipeline.raw_contract import RAW_TABLES

REPO = Path(__file__).resolve().parents[2]
LOADED_AT = datetime(2026, 11, 1)
PASSING_SCORE = 60.0
# every shipped metric uses a 28-day window (but course_completion_to_date: open-ended)
# and a 28-day CUPED lookback
WINDOW_DAYS = 28
OTHER_PRODUCTS = {"recommendations", "coaching"}


def read_metric_definitions() -> pd.DataFrame:
    return pd.read_csv(REPO / "seeds" / "experiments" / "metric_definitions.csv")


@dataclass
class ExperimentSpec:
    """One experiment of a scenario and how to simulate it."""

    experiment_id: str
    weights: dict[str, float]  # variant -> weight, first is the control
    units: int | dict[str, int]  # total (allocated by the MD5 rule) or exact per variant
    start_at: datetime = datetime(2026, 9, 1)
    end_at: datetime = datetime(2026, 10, 1)
    # multiplicative effect of each variant on every rate (1.0 = none)
    effects: dict[str, float] = field(default_factory=dict)
    item_rate: float = 4.0
    completion_rate: float = 0.3
    quiz_rate: float = 2.0
    pass_rate: float = 0.6
    enroll_rate: float = 1.0
    unenroll_rate: float = 0.1
    # course completions after the 28-day window (before the data ends): counted by the
    # open-ended course_completion_to_date only
    late_completion_rate: float = 0.2
    # edge cases
    constant_items: dict[str, int] | None = None  # variant -> exact items_completed (zero variance)
    all_complete: bool = False  # every unit completes a course (proportion of 1, no variance)
    no_quiz: bool = False  # a ratio metric with no events at all
    no_unenroll: bool = False  # a proportion with no events at all
    # exposure-rule cases: counts of learners added on top of the units
    multiple_variant_learners: int = 0
    outside_window_learners: int = 0
    repeat_exposures: int = 0
    mismatched_units: int = 0
    primary_metric: str = "items_completed"
    # the sequential intervals' tuning parameter (None: the project's default)
    sequential_tuning_parameter: float | None = None


@dataclass
class Scenario:
    experiments: pd.DataFrame  # seed experiments.csv
    variants: pd.DataFrame  # seed experiment_variants.csv
    tables: dict[str, pd.DataFrame]  # raw tables
    truth: pd.DataFrame  # one row per unit x metric: numerator, denominator, covariate
    expected_health: pd.DataFrame  # per experiment: counts known by construction

    @property
    def registry(self) -> Registry:
        return _registry(self.experiments, self.variants)


def _registry(experiments: pd.DataFrame, variants: pd.DataFrame) -> Registry:
    out = []
    for row in experiments.itertuples():
        vs = variants[variants.experiment_id == row.experiment_id].sort_values("allocation_order")
        out.append(
            Experiment(
                experiment_id=row.experiment_id,
                name=row.name,
                salt=row.salt,
                start_at=str(row.start_at),
                end_at=str(row.end_at),
                status=row.status,
                primary_metric=row.primary_metric,
                variants=tuple(
                    Variant(v.variant, float(v.weight), bool(v.is_control)) for v in vs.itertuples()
                ),
            )
        )
    return Registry(out)


class _Writer:
    """Accumulates raw rows with fresh ids."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {name: [] for name in RAW_TABLES}
        self.next_id: dict[str, int] = {name: 1 for name in RAW_TABLES}

    def add(self, table: str, **values) -> int:
        pk = RAW_TABLES[table].primary_key
        new_id = self.next_id[table]
        self.next_id[table] += 1
        row = {pk: new_id, **values, "_loaded_at": LOADED_AT}
        self.rows[table].append(row)
        return new_id

    def frames(self) -> dict[str, pd.DataFrame]:
        out = {}
        for name, table in RAW_TABLES.items():
            df = pd.DataFrame(self.rows[name], columns=list(table.columns))
            out[name] = df
        return out


#: The learners' languages, in turn (experiment_slice_results slices by language).
SLICE_LANGUAGES = ("en", "es", "pt")


def build_scenario(specs: list[ExperimentSpec], seed: int = 0) -> Scenario:
    """Simulate every experiment of ``specs`` on disjoint learners; see the module doc."""
    rng = np.random.default_rng(seed)
    w = _Writer()
    course_id = w.add(
        "courses",
        title="Statistics 101",
        domain="data-science",
        language="en",
        difficulty="beginner",
        specialization_id=None,
        specialization_position=None,
        is_published=True,
        launched_at=datetime(2026, 1, 1),
    )
    lecture_id = w.add(
        "course_items",
        course_id=course_id,
        module_number=1,
        position=1,
        item_type="lecture",
        title="Lecture",
        passing_score=None,
    )
    quiz_id = w.add(
        "course_items",
        course_id=course_id,
        module_number=1,
        position=2,
        item_type="quiz",
        title="Quiz",
        passing_score=PASSING_SCORE,
    )

    exp_rows, var_rows, truth_rows, health_rows = [], [], [], []
    for spec in specs:
        salt = f"{spec.experiment_id}-salt"
        exp_rows.append(
            {
                "experiment_id": spec.experiment_id,
                "name": spec.experiment_id.replace("_", " "),
                "hypothesis": "test scenario",
                "owner": "tests",
                "salt": salt,
                "start_at": spec.start_at.strftime("%Y-%m-%d %H:%M:%S"),
                "end_at": spec.end_at.strftime("%Y-%m-%d %H:%M:%S"),
                "status": "completed",
                "primary_metric": spec.primary_metric,
                "sequential_tuning_parameter": spec.sequential_tuning_parameter,
            }
        )
        names = list(spec.weights)
        for order, name in enumerate(names, start=1):
            var_rows.append(
                {
                    "experiment_id": spec.experiment_id,
                    "variant": name,
                    "weight": spec.weights[name],
                    "is_control": order == 1,
                    "allocation_order": order,
                }
            )
        exp = Experiment(
            spec.experiment_id,
            spec.experiment_id,
            salt,
            "",
            "",
            "completed",
            spec.primary_metric,
            tuple(Variant(n, spec.weights[n], i == 0) for i, n in enumerate(names)),
        )
        window_days = (spec.end_at - spec.start_at).days

        def new_learner() -> int:
            return w.add(
                "learners",
                first_name="Ada",
                country_code="FR",
                # three languages in turn: the slices of dimension `language`
                language=SLICE_LANGUAGES[len(w.rows["learners"]) % len(SLICE_LANGUAGES)],
                timezone="Europe/Paris",
                signed_up_at=datetime(2026, 1, 1),
            )

        # the analysis units: fresh learners, kept when the MD5 rule puts them where wanted
        wanted = dict(spec.units) if isinstance(spec.units, dict) else {n: None for n in names}
        total = spec.units if isinstance(spec.units, int) else None
        units: list[tuple[int, str]] = []
        while True:
            if total is not None and len(units) >= total:
                break
            if total is None and all(sum(v == n for _, v in units) >= k for n, k in wanted.items()):
                break
            learner = new_learner()
            variant = exp.assign(learner)
            if total is None and sum(v == variant for _, v in units) >= wanted.get(variant, 0):
                continue  # an unused learner row: harmless, has no exposure
            units.append((learner, variant))

        mismatch_ids = set()
        for _ in range(spec.mismatched_units):
            # a unit logged in another variant than the rule gives: kept, counted
            learner = new_learner()
            expected = exp.assign(learner)
            logged = next(n for n in names if n != expected)
            units.append((learner, logged))
            mismatch_ids.add(learner)

        for learner, variant in units:
            exposed_at = spec.start_at + timedelta(
                seconds=int(rng.integers(0, max(1, window_days - 1) * 86400))
            )
            w.add(
                "experiment_exposures",
                experiment_id=spec.experiment_id,
                learner_id=learner,
                variant=variant,
                exposed_at=exposed_at,
            )
            values = _simulate_unit(
                w, rng, spec, variant, learner, course_id, lecture_id, quiz_id, exposed_at
            )
            for metric_id, (num, den, cov) in values.items():
                truth_rows.append(
                    {
                        "experiment_id": spec.experiment_id,
                        "learner_id": learner,
                        "variant": variant,
                        "metric_id": metric_id,
                        "numerator": num,
                        "denominator": den,
                        "covariate": cov,
                    }
                )
        unit_ids = [u for u, _ in units]
        for learner in rng.choice(
            unit_ids, size=min(spec.repeat_exposures, len(unit_ids)), replace=False
        ):
            variant = dict(units)[int(learner)]
            first = min(
                r["exposed_at"]
                for r in w.rows["experiment_exposures"]
                if r["learner_id"] == learner and r["experiment_id"] == spec.experiment_id
            )
            w.add(
                "experiment_exposures",
                experiment_id=spec.experiment_id,
                learner_id=int(learner),
                variant=variant,
                exposed_at=min(first + timedelta(days=1), spec.end_at - timedelta(seconds=1)),
            )
        for _ in range(spec.multiple_variant_learners):
            learner = new_learner()
            for i, name in enumerate(names[:2]):
                w.add(
                    "experiment_exposures",
                    experiment_id=spec.experiment_id,
                    learner_id=learner,
                    variant=name,
                    exposed_at=spec.start_at + timedelta(days=1 + i),
                )
        for _ in range(spec.outside_window_learners):
            learner = new_learner()
            w.add(
                "experiment_exposures",
                experiment_id=spec.experiment_id,
                learner_id=learner,
                variant=exp.assign(learner),
                exposed_at=spec.end_at + timedelta(hours=1),
            )
        counts = pd.Series([v for _, v in units]).value_counts()
        health_rows.append(
            {
                "experiment_id": spec.experiment_id,
                "units_analysed": len(units),
                "multiple_variant_learners": spec.multiple_variant_learners,
                "exposures_outside_window": spec.outside_window_learners,
                "allocation_mismatches": len(mismatch_ids),
                "units": {n: int(counts.get(n, 0)) for n in names},
                "weights": dict(spec.weights),
            }
        )

    return Scenario(
        experiments=pd.DataFrame(exp_rows),
        variants=pd.DataFrame(var_rows),
        tables=w.frames(),
        truth=pd.DataFrame(truth_rows),
        expected_health=pd.DataFrame(health_rows),
    )


def _simulate_unit(w, rng, spec, variant, learner, course_id, lecture_id, quiz_id, exposed_at):
    """Write one unit's events; return {metric_id: (numerator, denominator, covariate)}."""
    lift = spec.effects.get(variant, 1.0)
    frailty = rng.gamma(4.0, 0.25)  # a learner's propensity, shared before/after (CUPED has signal)

    def after() -> datetime:  # inside [exposure, exposure + 28 days)
        return exposed_at + timedelta(seconds=int(rng.integers(0, WINDOW_DAYS * 86400 - 60)))

    def before() -> datetime:  # inside [exposure - 28 days, exposure)
        return exposed_at - timedelta(seconds=int(rng.integers(1, WINDOW_DAYS * 86400)))

    def event(event_type: str, at: datetime, item_id=None, score=None) -> None:
        w.add(
            "events",
            learner_id=learner,
            course_id=course_id,
            item_id=item_id,
            event_type=event_type,
            score=score,
            occurred_at=at,
        )

    # items completed
    if spec.constant_items is not None:
        items_after = spec.constant_items[variant]
        items_before = spec.constant_items[variant]
    else:
        items_after = int(rng.poisson(spec.item_rate * frailty * lift))
        items_before = int(rng.poisson(spec.item_rate * frailty))
    for _ in range(items_after):
        event("item_complete", after(), lecture_id)
    for _ in range(items_before):
        event("item_complete", before(), lecture_id)

    # course completion (proportion; several completions still count once)
    p_complete = min(1.0, spec.completion_rate * frailty * lift)
    complete_after = 1 if spec.all_complete else int(rng.random() < p_complete)
    complete_before = 1 if spec.all_complete else int(rng.random() < p_complete)
    for _ in range(complete_after * int(rng.integers(1, 3))):
        event("course_complete", after())
    for _ in range(complete_before):
        event("course_complete", before())
    # a late completion, after the 28-day window and before the data is loaded
    room = (LOADED_AT - timedelta(hours=1)) - (exposed_at + timedelta(days=WINDOW_DAYS))
    late = int(
        room > timedelta(minutes=2) and rng.random() < min(1.0, spec.late_completion_rate * lift)
    )
    for _ in range(late):
        gap = int(rng.integers(60, int(room.total_seconds())))
        event("course_complete", exposed_at + timedelta(days=WINDOW_DAYS, seconds=gap))

    # quizzes (ratio: passed / submitted)
    submits = 0 if spec.no_quiz else int(rng.poisson(spec.quiz_rate * frailty))
    passed = 0
    for _ in range(submits):
        ok = rng.random() < min(1.0, spec.pass_rate * lift)
        passed += int(ok)
        event(
            "quiz_submit",
            after(),
            quiz_id,
            float(rng.uniform(60, 100) if ok else rng.uniform(0, 59.9)),
        )
    if not spec.no_quiz:
        event("quiz_submit", before(), quiz_id, 95.0)  # before exposure: no ratio covariate

    # enrollments
    enroll_after = int(rng.poisson(spec.enroll_rate * frailty * lift))
    enroll_before = int(rng.poisson(spec.enroll_rate * frailty))
    for _ in range(enroll_after):
        event("enroll", after())
    for _ in range(enroll_before):
        event("enroll", before())

    # unenroll (guardrail proportion)
    un_after = 0 if spec.no_unenroll else int(rng.random() < spec.unenroll_rate * lift)
    un_before = 0 if spec.no_unenroll else int(rng.random() < spec.unenroll_rate)
    for _ in range(un_after):
        event("unenroll", after())
    for _ in range(un_before):
        event("unenroll", before())

    # decoys outside both windows: must not count anywhere
    event("item_complete", exposed_at + timedelta(days=WINDOW_DAYS, minutes=1), lecture_id)
    event("enroll", exposed_at - timedelta(days=WINDOW_DAYS, minutes=1))
    event("course_view", after())

    return {
        "items_completed": (items_after, None, items_before),
        "course_completion": (complete_after, None, complete_before),
        "course_completion_to_date": (max(complete_after, late), None, complete_before),
        "quiz_pass_rate": (passed, submits, None),
        "enrollments": (enroll_after, None, enroll_before),
        "unenroll_rate": (un_after, None, un_before),
    }


# --- writing a scenario to a warehouse and a project ---------------------------------


def write_raw_duckdb(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists raw")
        for name, df in tables.items():
            con.execute(f"drop table if exists raw.{name}")
            con.execute(RAW_TABLES[name].ddl())
            if len(df):
                con.register("frame", df)
                cols = ", ".join(df.columns)
                con.execute(f"insert into raw.{name} ({cols}) select {cols} from frame")
                con.unregister("frame")
    finally:
        con.close()


def write_raw_postgres(dsn: str, tables: dict[str, pd.DataFrame]) -> None:
    import psycopg2
    from psycopg2.extras import execute_values

    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            cur.execute("create schema if not exists raw")
            for name, df in tables.items():
                cur.execute(f"drop table if exists raw.{name}")
                cur.execute(RAW_TABLES[name].ddl())
                if len(df):
                    rows = [
                        tuple(None if pd.isna(v) else v for v in r)
                        for r in df.astype(object).itertuples(index=False)
                    ]
                    execute_values(
                        cur, f"insert into raw.{name} ({', '.join(df.columns)}) values %s", rows
                    )
    finally:
        con.close()


def scenario_project(dest: Path, experiments: pd.DataFrame, variants: pd.DataFrame) -> Path:
    """A copy of the dbt project limited to what experiments need, with this registry."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dbt_project.yml", dest / "dbt_project.yml")
    # every macro except the other products' own (their YAML documents them with doc
    # blocks that live beside their models, which are not copied)
    shutil.copytree(
        REPO / "macros",
        dest / "macros",
        dirs_exist_ok=True,
        ignore=lambda d, names: [
            n for n in names if Path(d) == REPO / "macros" and n in OTHER_PRODUCTS
        ],
    )
    for sub in ["models/staging", "models/intermediate/experiments", "models/marts/experiments"]:
        shutil.copytree(REPO / sub, dest / sub, dirs_exist_ok=True)
    if (REPO / "tests" / "experiments").exists():
        shutil.copytree(
            REPO / "tests" / "experiments", dest / "tests" / "experiments", dirs_exist_ok=True
        )
    # staging reads some other products' seeds: their CSVs only (their YAML may need docs
    # of models that are not copied); the experiments seeds with their YAML.
    for csv_file in (REPO / "seeds").rglob("*.csv"):
        target = dest / csv_file.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(csv_file, target)
    seeds = dest / "seeds" / "experiments"
    shutil.copytree(REPO / "seeds" / "experiments", seeds, dirs_exist_ok=True)
    experiments.to_csv(seeds / "experiments.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    out = variants.copy()
    out["is_control"] = out["is_control"].map(lambda b: "true" if b else "false")
    out.to_csv(seeds / "experiment_variants.csv", index=False)
    return dest
