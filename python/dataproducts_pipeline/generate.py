"""Synthetic raw data with planted structure: ``dataproducts generate`` as a function.

>>> report = generate("tiny", seed=1, duckdb_path="/tmp/doctest-wh.duckdb", progress=False)
>>> report.rows["learners"]
200

Writes the eight tables of the raw contract (:mod:`dataproducts_pipeline.raw_contract`)
into schema ``raw`` of the DuckDB file (target ``dev``), of PostgreSQL (target
``postgres``, with COPY) or of Spark (target ``spark``: Parquet files registered as
external tables, see :mod:`dataproducts_pipeline.generator.spark`), replacing them, and
logs the run in ``raw.generator_runs`` (:mod:`dataproducts_pipeline.generator.log`).

Time: a *world* and where the data *ends*. The world starts at ``start`` (default
``end - days``): sign-ups, launches and organic course views happen in its first ``days``
days, and what they lead to is simulated ``HORIZON_DAYS`` (60) days further. It depends on
``(seed, sizes, start)`` only. The data holds the world's rows loaded before ``end``
(``_loaded_at < end``); ``end`` defaults to 2026-11-01 00:00 UTC (the experiments of the
registry run inside Aug-Oct 2026; one outside ``[start, end)`` gets no exposure, and the
report's summary says so). ``dataproducts generate --end-date today`` ends the data at
today's midnight UTC, so that ``dbt source freshness`` passes on it. ``append=True``
(``generate --append --end-date D2``) adds to the target the rows loaded between its
data's end and ``D2``: the same tables a full generation from the same start to ``D2``
holds, late rows (happened before the old end, loaded after it) and re-sent duplicates
included (``test_generate_append.py``).

Sizes (``scale`` → learners / courses / days / ≈ events; ``learners=``, ``courses=``,
``days=`` override): tiny 200 / 30 / 120 / ~10k; small 5k / 200 / 180 / ~300k;
medium 100k / 2k / 365 / ~10M; large 1M / 5k / 365 / ~100M.

How it is built
---------------
The catalog (courses, items) and each chunk of 50,000 learners are simulated in numpy
(vectorized; generators seeded per ``(seed, stage, chunk)``), one row per (learner,
course) *engagement*; DuckDB SQL then expands engagements into events, with
pseudo-random numbers ``hash(seed, a, b, c)`` (deterministic under parallelism). DuckDB
runs with a memory limit (``$DATAPRODUCTS_GENERATE_MEMORY``, default 3GB), a temporary
directory, ``preserve_insertion_order=false`` and one thread per core; large (1M learners,
~100M events) peaks under 5 GB of resident memory. Event ids are unique but not dense
(engagement id * 256 + the event's slot in the engagement).
The writes to DuckDB happen in one transaction, as does the COPY into PostgreSQL: a
failed run leaves the previous raw tables in place (Spark: the tables are re-registered
only once every Parquet file is written).

Planted structure (the numbers live in :data:`dataproducts_pipeline.generator.config.PLANTED`)
----------------------------------------------------------------------------------
Learners
    15 domains (data-science, machine-learning, business, computer-science, health,
    language-learning, personal-development, math, physics, arts, social-sciences,
    it-support, marketing, design, finance). Each learner has a latent interest in 1-3
    domains (ordered: early activity favours the first, later activity the last: the
    interest *drifts*, so recent activity predicts the next enrollments better than old
    activity), a language (en 65%, es, pt, fr, de, zh, ar, hi), a country consistent with
    the language, an IANA time zone consistent with the country, a first name from a
    per-language list (with accents, apostrophes and non-Latin scripts), and a sign-up time
    uniform in the span (the world's first ``days`` days). 10% of learners have no event
    at all (cold start).
Courses
    A domain (every domain has a course when there are at least 15), a language (80% en),
    a difficulty, a Zipf-like popularity (weight ∝ 1/rank^1.1 over a random ranking), 5%
    unpublished (still some traffic: retired courses), titles composed from per-domain
    topics ("Machine Learning Foundations", "Accounting Deep Dive (Español)"). About half
    the courses of each domain form specializations of 3-5 ordered courses sharing a topic
    and a language, with rising difficulty. 90% of courses launch in the first days of the
    span, 10% later (they get no view before their launch).
Course items
    3-6 modules of 3-5 items; every module ends with a quiz; other items are lectures,
    readings or assignments; quizzes and assignments have a passing score 60-80.
Activity funnel, per (learner, course)
    The number of course views per learner is heavy-tailed (1 + lognormal, mean growing
    with the history length). 70% of views pick a course of the learner's current interest
    domain, the rest the whole catalog, always by popularity * language match (x3 for the
    learner's language, x1 for English, x0.05 otherwise): courses co-enrolled by a learner
    cluster by domain. A view may be followed by revisits (course_view again), then
    ``enroll`` with probability 0.20 + 0.30 (course in an interest domain) + 0.10 (same
    language). Enrolled learners go through the items in order, module by module:
    ``item_start``, for quizzes ``quiz_submit`` (failing scores below the passing score,
    then a passing one; 1-3 attempts), ``item_complete``; they drop out with a per-item
    hazard (by difficulty, * a learner "grit" factor, * 0.8 in an interest domain), often
    after starting the next item (and failing its quiz). ``course_complete`` follows the
    last item's completion. 20% of drop-outs ``unenroll``. Modules are hours to weeks
    apart (inactivity gaps); timestamps increase along the funnel; the data holds what
    was loaded before ``end`` (the rest arrives with later appends).
Specializations
    A learner who completes course k of a specialization views course k+1 with probability
    0.6 (a few days later) and enrolls with probability 0.85 — the signal behind the
    ``next_in_specialization`` recommender.
Experiments (registry: ``seeds/experiments``; allocation: ``allocator``, by default
    ``Experiment.assign_many``, the MD5 rule of :mod:`dataproducts.allocation`)
    A learner is exposed at their first course view inside an experiment's window (views
    after a specialization completion are simulated in later rounds and count only if the
    learner had no earlier-round view in the window), with the allocator's variant; 25% of
    later views in the window log a repeat exposure with the same variant. 0.5% of exposed
    learners also get an exposure with another variant (multiple-exposure noise, later in
    the window). Effects apply only after the exposure, so pre-exposure behaviour is
    identical between arms (CUPED stays unbiased):

    - ``exp_completion_nudge``: in the treatment, the drop-out hazard of enrollments
      started after the exposure (and before the experiment ends) is multiplied by 0.55,
      so the share of exposed learners completing a course after exposure rises by about
      +20% (relative; +15-25% depending on sizes and seed). The report holds the *true*
      values of both potential outcomes over all exposed learners (nobody nudged, every
      enrollment after the exposure nudged; same random numbers) for each metric of seed
      metric_definitions whose events follow from the items an enrollment completes
      (items, quizzes, completions, unenrollments), as the metric defines its value
      (``course_completion``: within its window after the exposure;
      ``course_completion_to_date``: at any time up to the end):
      ``planted["nudge_truth"]["by_metric"]``, printed by the summary. The writer expands
      both worlds into events with the real events' SQL and computes each metric from
      its definition. Not followed: the next course of a specialization that a
      completion leads to (a second-order effect on items and enrollments), so no truth
      is stated for ``enrollments``.
    - ``exp_aa_homepage`` and ``exp_syllabus_layout`` (three variants, weights
      0.5/0.25/0.25): no effect.
    - ``planted["true_relative_lift"]``: per experiment, the true relative lift of each
      metric: the nudge's above, and 0 on every metric for the experiments without an
      effect (the slow validity check judges the intervals on these).
    - ``exp_srm_checkout``: every exposure of 20% of the treatment learners is lost from
      the log → sample-ratio mismatch (treatment share ≈ 0.44; flagged from `small` up).
Coaching (catalog: the active rows of ``seeds/coaching/coaching_messages.csv``)
    Learners with ``bucket("coaching-holdout-v1", learner_id) < 1000`` (10%) are a
    holdout and get no delivery. Other enrolled (learner, course) pairs get Poisson(1.5)
    deliveries between the enrollment and three days after their last activity: a
    message_id uniformly, then one of its active variants uniformly. Responses (0-2 per
    delivery): ``clicked`` (30%), and feedback (55%): ``dismissed`` (20% of feedback),
    otherwise ``helpful`` with P(helpful | rated) by message type: growth_mindset and
    goal_* 0.70, encouragement 0.50, self_assessment 0.50, study_tip 0.35 (others 0.50).
    In the first message (by id) with exactly two active variants, the first variant's
    rate is +0.15 and the second's -0.15 (``planted["coaching"]`` names them).
Goals
    About 15% of learners set a goal on their first enrollment (minutes to days after
    enrolling), in their own words (including hostile texts: ``<script>…``, template
    syntax, SQL), with a target date 30-120 days later; a goal is *achieved* when the
    course is completed before the target date (``planted["goals"]``).
``_loaded_at``
    Event-like rows (events, exposures, deliveries, responses, goals): the row's time plus
    5 s and an exponential lag (mean 30 min), so the last rows before ``end`` arrive in
    the next day's load; a response never loads before its delivery. Learners, courses and
    items load 1-5 s after they sign up or launch, before anything that refers to them.

Bad rows (``bad_row_rate``)
---------------------------
For each raw table, about ``bad_row_rate`` * its rows are added, spread evenly over the
kinds that apply to it (at least one of each when the rate is positive, among the rows
loaded in the span's first ``days - 8`` days; later rows are copied by a per-row draw, so
the choice never depends on where the data ends), see :data:`BAD_ROW_KINDS`: each is a
copy of a valid row that breaks exactly ONE staging rule. ``null_key`` (primary key null)
and ``duplicate`` (the same row re-sent 1 hour to 7 days later: the older copy becomes
*superseded*; a re-send may arrive in a later day's load) keep the key; the others
(``invalid_enum``, ``orphan``, ``future_timestamp``, ``score_out_of_range``,
``invalid_text``) get a fresh primary key, so no other row refers to them and the clean
data set is unchanged. :data:`BAD_ROW_REASONS` maps ``(table, kind)`` to the staging
reason (or the ``superseded`` fate); the report counts exactly what the data holds.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from dataproducts.allocation import BUCKETS, Experiment, Registry
from dataproducts.dsn import dsn_from_env
from dataproducts.errors import ConfigurationError, WarehouseError
from dataproducts.paths import SEEDS_DIR, default_duckdb_path, read_seed_rows

from .generator import postgres, spark
from .generator.config import (
    BAD_ROW_KINDS,
    BAD_ROW_REASONS,
    DEFAULT_END,
    HORIZON_DAYS,
    PLANTED,
    SCALES,
    Sizes,
)
from .generator.log import LOG, Entry, World, from_row, select_last
from .generator.world import (
    CHUNK,
    CourseSampler,
    ExperimentWindow,
    Times,
    make_catalog,
    make_learners,
    simulate_chunk,
)
from .generator.writer import Clock, DuckWriter, epoch_us, loaded_between
from .raw_contract import RAW_SCHEMA, RAW_TABLES

__all__ = [
    "BAD_ROW_KINDS",
    "BAD_ROW_REASONS",
    "PLANTED",
    "SCALES",
    "GenerateReport",
    "generate",
]

Allocator = Callable[[Experiment, np.ndarray], Sequence[str]]


@dataclass(frozen=True)
class GenerateReport:
    """What ``generate`` wrote: where, how much, and every planted fact tests can check."""

    target: str
    location: str
    seed: int
    scale: str
    learners: int
    courses: int
    days: int
    end: datetime
    rows: dict[str, int]
    #: (table, kind) → number of bad rows planted (see BAD_ROW_KINDS).
    bad_rows: dict[tuple[str, str], int]
    #: The world's first instant (sign-ups and launches start here).
    start: datetime | None = None
    #: An append: the data's previous end (``rows`` and ``bad_rows`` count what was added).
    since: datetime | None = None
    planted: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def expected_staging(self) -> dict[tuple[str, str], int]:
        """(table, staging reason or ``superseded``) → rows staging must classify so."""
        out: dict[tuple[str, str], int] = {}
        for (table, kind), n in self.bad_rows.items():
            key = (table, BAD_ROW_REASONS[(table, kind)])
            out[key] = out.get(key, 0) + n
        return out

    def summary(self) -> str:
        world = (
            f"{self.scale} (seed {self.seed}: {self.learners:,} learners, {self.courses:,} "
            f"courses, {self.days} days of sign-ups from {self.start:%Y-%m-%d})"
        )
        if self.since is None:
            head = f"generated {world} to {self.end:%Y-%m-%d}"
        else:
            head = (
                f"appended to {world} the rows loaded from {self.since:%Y-%m-%d %H:%M} "
                f"to {self.end:%Y-%m-%d %H:%M}"
            )
        lines = [f"{head} into {self.target} {self.location} in {self.seconds:.1f} s"]
        width = max(len(t) for t in self.rows)
        for table, n in self.rows.items():
            bad = sum(v for (t, _), v in self.bad_rows.items() if t == table)
            extra = f"  ({bad:,} bad rows planted)" if bad else ""
            lines.append(f"  raw.{table:<{width}} {n:>12,}{extra}")
        truth = self.planted.get("nudge_truth")
        if truth and truth.get("exposed"):
            # the true effect for each metric definition it moves (a window of 28 days
            # after the exposure is not the same outcome as completion to date)
            for metric, m in (truth.get("by_metric") or {}).items():
                lines.append(
                    f"  planted: {PLANTED.nudge_experiment} true {metric} "
                    f"{m['control_rate']:.3f} → {m['treatment_rate']:.3f} "
                    f"({m['relative_lift']:+.1%})"
                )
        outside = self.planted.get("experiments_outside_window")
        if outside:
            lines.append(
                f"  warning: {', '.join(outside)} ran outside [{self.start:%Y-%m-%d}, "
                f"{self.end:%Y-%m-%d}): no exposures (choose --end-date/--days to cover them)"
            )
        return "\n".join(lines)


def _default_allocator(experiment: Experiment, learner_ids: np.ndarray) -> Sequence[str]:
    return experiment.assign_many(learner_ids.tolist())


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.strip())


def _metric_definitions(seeds_dir: Path) -> list[dict[str, str]]:
    """The rows of seed metric_definitions: the planted truth is reported for each metric
    the nudge moves, as the metric defines its value (window included)."""
    return read_seed_rows(
        seeds_dir / "experiments" / "metric_definitions.csv", "metric definitions"
    )


def _coaching_catalog(seeds_dir: Path) -> dict[str, np.ndarray]:
    rows = [
        r
        for r in read_seed_rows(
            seeds_dir / "coaching" / "coaching_messages.csv", "coaching catalog"
        )
        if r["active"].strip().lower() == "true"
    ]
    rows.sort(key=lambda r: (r["message_id"], r["variant"]))
    message_id = np.array([r["message_id"] for r in rows], dtype=object)
    variant = np.array([r["variant"] for r in rows], dtype=object)
    mtype = [r["message_type"] for r in rows]
    rates = PLANTED.helpful_by_type
    helpful = np.array([rates.get(t, rates["default"]) for t in mtype], dtype=float)
    ids, first_row, n_variants = np.unique(
        message_id.astype(str), return_index=True, return_counts=True
    )
    better = None
    two = [i for i, n in zip(ids, n_variants, strict=True) if n == 2]
    if two:
        rows_two = np.flatnonzero(message_id == two[0])
        helpful[rows_two[0]] = min(helpful[rows_two[0]] + PLANTED.variant_gap, 0.95)
        helpful[rows_two[1]] = max(helpful[rows_two[1]] - PLANTED.variant_gap, 0.05)
        better = {
            "message_id": two[0],
            "better_variant": variant[rows_two[0]],
            "worse_variant": variant[rows_two[1]],
        }
    return {
        "message_id": message_id,
        "variant": variant,
        "message_type": np.array(mtype, dtype=object),
        "helpful": helpful,
        "first_row": first_row.astype(np.int64),
        "n_variants": n_variants.astype(np.int64),
        "better": better,  # type: ignore[dict-item]
    }


def _holdout(con: duckdb.DuckDBPyConnection, ids: np.ndarray) -> np.ndarray:
    """``allocation.bucket(salt, id) < threshold``, computed with DuckDB's md5 (vectorized)."""
    import pyarrow as pa

    con.register("_gen_ids", pa.table({"learner_id": pa.array(ids)}))
    try:
        buckets = con.execute(
            "select (('0x' || substr(md5(? || '-' || learner_id::varchar), 1, 8))::bigint "
            f"% {BUCKETS}) as b from _gen_ids",
            [PLANTED.holdout_salt],
        ).fetchnumpy()["b"]
    finally:
        con.unregister("_gen_ids")
    return np.asarray(buckets) < PLANTED.holdout_buckets


def _configure(con: duckdb.DuckDBPyConnection, tmp: str) -> None:
    threads = os.cpu_count() or 1
    memory = os.environ.get("DATAPRODUCTS_GENERATE_MEMORY", "3GB")
    con.execute(f"set memory_limit = '{memory}'")
    con.execute(f"set temp_directory = '{tmp}'")
    con.execute("set preserve_insertion_order = false")
    con.execute(f"set threads = {threads}")


def generate(
    scale: str = "tiny",
    *,
    learners: int | None = None,
    courses: int | None = None,
    days: int | None = None,
    seed: int = 42,
    bad_row_rate: float = 0.0,
    target: str = "dev",
    end: datetime = DEFAULT_END,
    start: datetime | None = None,
    append: bool = False,
    duckdb_path: str | os.PathLike[str] | None = None,
    pg_dsn: str | None = None,
    spark_server: dict[str, Any] | None = None,
    spark_raw_dir: str | os.PathLike[str] | None = None,
    allocator: Allocator | None = None,
    progress: bool = True,
) -> GenerateReport:
    """Generates the raw tables; see the module docstring for what is planted.

    The world starts at ``start`` (default ``end - days``) and the data holds its rows
    loaded before ``end``. ``append=True`` extends the target's raw tables instead: the
    world's parameters come from the target's generator log (the other size, seed and
    rate arguments are ignored), and the rows loaded between the data's current end and
    ``end`` are added, so the result equals a full generation from the same ``start``
    to ``end``.

    ``allocator(experiment, learner_ids) -> variant names`` replaces the registry's MD5
    allocation (``Experiment.assign_many``). ``duckdb_path`` defaults to
    ``$DATAPRODUCTS_DUCKDB`` / ``warehouse/dataproducts.duckdb``; ``pg_dsn`` to the
    ``DATAPRODUCTS_PG_*`` variables. Target ``spark``: ``spark_server`` (``host``, ``port``,
    ``user``) overrides ``DATAPRODUCTS_SPARK_HOST/PORT/USER``; the Parquet files go to
    ``spark_raw_dir`` (default ``$DATAPRODUCTS_SPARK_RAW_DIR`` or ``warehouse/spark_raw``),
    which the Spark server must read at the same path.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    if target not in ("dev", "postgres", "spark"):
        raise ConfigurationError(
            f"unknown target {target!r}; use 'dev' (DuckDB), 'postgres' or 'spark'."
        )
    if end.tzinfo is not None or (start is not None and start.tzinfo is not None):
        raise ConfigurationError("end and start must be naive datetimes in UTC (no tzinfo).")
    if not append:
        sizes = Sizes.resolve(scale, learners, courses, days)
        if not (isinstance(bad_row_rate, int | float) and 0.0 <= bad_row_rate <= 0.5):
            raise ConfigurationError(
                f"bad_row_rate must be between 0 and 0.5, got {bad_row_rate!r}."
            )
    allocate = allocator or _default_allocator
    registry = Registry.from_seeds()
    msgs = _coaching_catalog(SEEDS_DIR)
    metrics = _metric_definitions(SEEDS_DIR)

    with tempfile.TemporaryDirectory(prefix="dataproducts-generate-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "world.duckdb"))
        try:
            _configure(con, tmp)
            # --- the target: where the data goes, and (append) the world it comes from ---
            if target == "dev":
                path = Path(duckdb_path or default_duckdb_path())
                path.parent.mkdir(parents=True, exist_ok=True)
                location = str(path)
                if append and not path.exists():
                    raise ConfigurationError(
                        f"nothing to append to: {path} does not exist. Run `dataproducts "
                        "generate` without --append first."
                    )
                _attach_target(con, path)
                last = _duckdb_last(con, location) if append else None
            elif target == "postgres":
                dsn = pg_dsn or dsn_from_env()
                postgres.connect(dsn).close()  # fail fast, before generating anything
                from dataproducts.dsn import mask_dsn

                location = mask_dsn(dsn)
                last = postgres.last_entry(dsn, location) if append else None
            else:
                server = {**spark.server_from_env(), **(spark_server or {})}
                raw_dir = spark.check_raw_dir(Path(spark_raw_dir or spark.default_raw_dir()))
                spark.connect(**server).close()  # fail fast, before generating anything
                location = f"{server['host']}:{server['port']} (Parquet files in {raw_dir})"
                last = spark.last_entry(server, location) if append else None
            if last is not None:
                world, since = last.world, last.loaded_to
                if end <= since:
                    raise ConfigurationError(
                        f"the raw data in {location} already ends at {since:%Y-%m-%d %H:%M}: "
                        "--append needs a later --end-date."
                    )
            else:
                world = World(
                    seed=int(seed), scale=sizes.scale, learners=sizes.learners,
                    courses=sizes.courses, days=sizes.days, bad_row_rate=float(bad_row_rate),
                    start=start if start is not None else end - timedelta(days=sizes.days),
                )  # fmt: skip
                since = None
                if end <= world.start:
                    raise ConfigurationError(
                        f"the data would end ({end:%Y-%m-%d}) before the world starts "
                        f"({world.start:%Y-%m-%d}): choose a later --end-date or an earlier start."
                    )
            if end > world.horizon:
                raise ConfigurationError(
                    f"the world of this data is simulated to {world.horizon:%Y-%m-%d} "
                    f"({world.days} days of sign-ups + {HORIZON_DAYS} days): the data cannot "
                    f"end at {end:%Y-%m-%d}. Regenerate with a later start instead."
                )
            sizes = Sizes(world.scale, world.learners, world.courses, world.days)
            clock = Clock(world.start, world.days)
            times = Times(span=clock.span, horizon=clock.horizon, end=clock.seconds(end))
            since_us = None if since is None else epoch_us(since)
            end_us = epoch_us(end)

            experiments: list[ExperimentWindow] = []
            outside: list[str] = []
            for exp in registry.experiments.values():
                lo = clock.seconds(_parse_ts(exp.start_at))
                hi = clock.seconds(_parse_ts(exp.end_at))
                if min(hi, times.end) <= max(lo, 0.0):
                    outside.append(exp.experiment_id)
                lo, hi = max(lo, 0.0), min(hi, times.horizon)
                if hi > lo:
                    experiments.append(
                        ExperimentWindow(
                            experiment=exp,
                            start=lo,
                            end=hi,
                            treatment=np.array([not v.is_control for v in exp.variants]),
                        )
                    )
            n_var_max = max((len(x.experiment.variants) for x in experiments), default=1)
            msgs["experiment_ids"] = np.array(
                [x.experiment.experiment_id for x in experiments], dtype=object
            )
            names = np.full((max(len(experiments), 1), n_var_max), "", dtype=object)
            for i, x in enumerate(experiments):
                names[i, : len(x.experiment.variants)] = [v.name for v in x.experiment.variants]
            msgs["variant_names"] = names

            # --- the world, in the scratch database ---------------------------------------
            facts: dict[str, float] = {}
            writer = DuckWriter(con, world.seed, clock)
            writer.create_tables()
            with tqdm(total=1, desc="catalog", disable=not progress) as bar:
                cat = make_catalog(sizes, world.seed, clock.span)
                sampler = CourseSampler(cat)
                writer.write_catalog(cat)
                bar.update()
            n_chunks = math.ceil(sizes.learners / CHUNK)
            with tqdm(
                total=sizes.learners, desc="learners & activity", unit="learner",
                unit_scale=True, disable=not progress,
            ) as bar:  # fmt: skip
                for chunk in range(n_chunks):
                    first = chunk * CHUNK + 1
                    n = min(CHUNK, sizes.learners - chunk * CHUNK)
                    people = make_learners(first, n, sizes, world.seed, chunk, clock.span, PLANTED)
                    res = simulate_chunk(
                        people, cat, sampler, experiments, allocate,
                        _holdout(con, people.ids), msgs, world.seed, chunk, times, PLANTED,
                        clock.day_offset,
                    )  # fmt: skip
                    truth = writer.write_chunk(res, msgs, chunk, metrics, end_us)
                    for k, v in (res.facts | truth).items():
                        facts[k] = facts.get(k, 0.0) + v
                    bar.update(n)
            writer.finish()
            with tqdm(total=1, desc="bad rows", disable=not progress) as bar:
                writer.plant_bad_rows(world.bad_row_rate)
                bar.update()
            bad = writer.planted(since_us, end_us) if world.bad_row_rate > 0 else {}

            # --- the rows loaded in [since, end), into the target ---------------------------
            entry = Entry(
                run_number=1 if last is None else last.run_number + 1,
                mode="generate" if last is None else "append",
                world=world,
                loaded_from=since,
                loaded_to=end,
            )
            where = loaded_between(since_us, end_us)
            if target == "dev":
                rows = _deliver_duckdb(con, where, entry)
            elif target == "postgres":
                rows = postgres.copy_tables(con, dsn, progress, where=where, log=entry)
            else:
                rows = spark.copy_tables(con, raw_dir, server, progress, where=where, log=entry)
        finally:
            con.close()

    return GenerateReport(
        target=target,
        location=location,
        seed=world.seed,
        scale=world.scale,
        learners=world.learners,
        courses=world.courses,
        days=world.days,
        end=end,
        rows=rows,
        bad_rows=bad,
        start=world.start,
        since=since,
        planted={
            **_planted_facts(facts, experiments, msgs, [m["metric_id"] for m in metrics]),
            "experiments_outside_window": sorted(outside),
        },
        seconds=time.perf_counter() - started,
    )


def _attach_target(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Attaches the target DuckDB file as ``target`` (its lock is held until the end)."""
    literal = str(path).replace("'", "''")
    try:
        con.execute(f"attach '{literal}' as target")
    except (duckdb.IOException, duckdb.BinderException) as exc:
        raise WarehouseError(
            f"cannot open the DuckDB file {path}: {exc}. Close whatever holds it "
            "(a dbt run, a notebook) or pass another duckdb_path / $DATAPRODUCTS_DUCKDB."
        ) from exc


def _duckdb_last(con: duckdb.DuckDBPyConnection, where: str) -> Entry:
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = 'target' "
        f"and schema_name = '{RAW_SCHEMA}' and table_name = '{LOG.name}'"
    ).fetchone()[0]
    row = con.execute(select_last(f"target.{RAW_SCHEMA}")).fetchone() if exists else None
    return from_row(row, where)


def _deliver_duckdb(con: duckdb.DuckDBPyConnection, where: str, entry: Entry) -> dict[str, int]:
    """Copies the world's rows matching ``where`` into the target file's raw tables (a
    full generation replaces them, an append adds to them) and logs the run, in one
    transaction: a failure leaves the target as it was."""
    schema = f"target.{RAW_SCHEMA}"
    replace = entry.mode == "generate"
    rows: dict[str, int] = {}
    con.begin()
    try:
        con.execute(f"create schema if not exists {schema}")
        for name, table in [*RAW_TABLES.items(), (LOG.name, LOG)]:
            if replace:
                con.execute(f"drop table if exists {schema}.{name}")
            if replace or name == LOG.name:
                con.execute(table.ddl(schema, if_not_exists=True))
        for name, table in RAW_TABLES.items():
            cols = ", ".join(table.columns)
            rows[name] = int(
                con.execute(
                    f"insert into {schema}.{name} ({cols}) select {cols} from {RAW_SCHEMA}.{name} "
                    f"where {where}"
                ).fetchone()[0]
            )
        con.execute(f"insert into {schema}.{LOG.name} values {entry.sql_values()}")
        con.commit()
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.rollback()
        raise
    return rows


def _planted_facts(
    facts: dict[str, float],
    experiments: list[ExperimentWindow],
    msgs: dict[str, Any],
    metric_ids: list[str],
) -> dict[str, Any]:
    out: dict[str, Any] = {"experiments": {}}
    for x in experiments:
        eid = x.experiment.experiment_id
        out["experiments"][eid] = {
            "exposed_learners": int(facts.get(f"{eid}:exposed", 0)),
            "logged_learners": int(facts.get(f"{eid}:logged_learners", 0)),
            "first_exposures": {
                v.name: int(facts.get(f"{eid}:first:{v.name}", 0)) for v in x.experiment.variants
            },
            "cross_variant_learners": int(facts.get(f"{eid}:cross_variant_learners", 0)),
            "cross_variant_rows": int(facts.get(f"{eid}:cross_variant_rows", 0)),
            "srm_lost_learners": int(facts.get(f"{eid}:srm_lost_learners", 0)),
        }
    exposed = facts.get("nudge_exposed", 0.0)
    if exposed:
        c = facts["nudge_y_control"] / exposed
        t = facts["nudge_y_treatment"] / exposed
        out["nudge_truth"] = {
            "experiment_id": PLANTED.nudge_experiment,
            "metric": "share of exposed learners with a course_complete at or after exposure",
            "exposed": int(exposed),
            "control_rate": c,
            "treatment_rate": t,
            "relative_lift": t / c - 1 if c else float("nan"),
        }
        # each metric the nudge moves, as the metric defines its value: from the events
        # of both potential worlds (DuckWriter._true_effects)
        by_metric = {}
        for key in sorted(facts):
            if key.startswith("truth:") and key.endswith(":0:numerator"):
                metric = key.split(":")[1]
                rates = [
                    facts[f"truth:{metric}:{w}:numerator"] / facts[f"truth:{metric}:{w}:denominator"]
                    if facts[f"truth:{metric}:{w}:denominator"] else float("nan")
                    for w in (0, 1)
                ]  # fmt: skip
                by_metric[metric] = {
                    "control_rate": rates[0],
                    "treatment_rate": rates[1],
                    "relative_lift": rates[1] / rates[0] - 1 if rates[0] else float("nan"),
                    "absolute_difference": rates[1] - rates[0],
                }
        out["nudge_truth"]["by_metric"] = by_metric
    # the true relative lift of every (experiment, metric) the generator knows: the
    # nudge's for the metrics it moves, and none (0) for the experiments without an
    # effect, on every metric
    nudge = out.get("nudge_truth", {}).get("by_metric", {})
    out["true_relative_lift"] = {
        x.experiment.experiment_id: (
            {m: v["relative_lift"] for m, v in nudge.items()}
            if x.experiment.experiment_id == PLANTED.nudge_experiment
            else dict.fromkeys(metric_ids, 0.0)
        )
        for x in experiments
    }
    out["coaching"] = {
        "helpful_rate": {
            f"{m}:{v}": float(h)
            for m, v, h in zip(msgs["message_id"], msgs["variant"], msgs["helpful"], strict=True)
        },
        "variant_difference": msgs["better"],
        "holdout": {"salt": PLANTED.holdout_salt, "buckets_below": PLANTED.holdout_buckets},
    }
    out["goals"] = {
        "goals": int(facts.get("goals", 0)),
        "achieved": int(facts.get("goals_achieved", 0)),
    }
    return out
