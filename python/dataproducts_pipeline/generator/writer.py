"""Writes the simulated world into schema ``raw`` of a (scratch) DuckDB database.

Entity tables arrive as Arrow tables from numpy; the events (the big table) are expanded
in DuckDB SQL from one row per (learner, course) engagement and one row per course item,
with pseudo-random numbers from ``hash(seed, a, b, c)`` (deterministic, thread-safe).

The world's tables hold every row up to the horizon, each with its ``_loaded_at``, and one
column more than the raw contract, ``_bad``: the bad-row kind of a planted row (NULL for a
clean one). Nothing here depends on where the data ends: :func:`deliver` copies the rows
loaded in ``[since, end)`` into the target's ``raw`` schema.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from ..raw_contract import RAW_TABLES
from .config import BAD_ROW_KINDS, HORIZON_DAYS
from .vocab import DOMAINS, GOAL_TEXTS, LANGUAGES
from .world import DAY, MAX_MODULES, Catalog, ChunkResult, rng_for

EPOCH = datetime(1970, 1, 1)
EVENT_ID_STRIDE = 256  # event ids: engagement id * 256 + slot (unique, not dense)
RESPONSE_KINDS = np.array(["clicked", "helpful", "not_helpful", "dismissed"], dtype=object)


def epoch_us(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


class Clock:
    """Converts float seconds since the world's start into microseconds since the epoch.

    ``start``: the world's first instant; ``days``: its span (sign-ups, launches, organic
    views); the world is simulated to ``days + HORIZON_DAYS``."""

    def __init__(self, start: datetime, days: int):
        self.start = start
        self.start_us = epoch_us(self.start)
        self.span = days * DAY
        self.horizon = (days + HORIZON_DAYS) * DAY
        self.horizon_us = self.start_us + int(self.horizon * 1e6)
        midnight = datetime(self.start.year, self.start.month, self.start.day)
        self.day_offset = (self.start - midnight).total_seconds()
        self.start_day = (midnight - EPOCH).days

    def seconds(self, when: datetime) -> float:
        """``when`` in seconds since the world's start."""
        return (epoch_us(when) - self.start_us) / 1e6

    def us(self, seconds: np.ndarray) -> np.ndarray:
        return self.start_us + np.round(np.nan_to_num(seconds) * 1e6).astype(np.int64)

    def ts(self, seconds: np.ndarray) -> pa.Array:
        return pa.array(self.us(seconds), type=pa.timestamp("us"), mask=np.isnan(seconds))

    def us_nullable(self, seconds: np.ndarray) -> pa.Array:
        return pa.array(self.us(seconds), type=pa.int64(), mask=np.isnan(seconds))

    @staticmethod
    def loaded_seconds(seconds: np.ndarray, r: np.random.Generator) -> np.ndarray:
        """Seconds: `_loaded_at` of an event-like row, the time plus a lag of seconds to
        hours (5 s + exponential, mean 30 min). Rows near the end of the data arrive late:
        in the next day's load."""
        return seconds + r.exponential(30 * 60, len(seconds)) + 5

    def loaded(self, seconds: np.ndarray, r: np.random.Generator) -> pa.Array:
        """`_loaded_at` of an event-like row (:meth:`loaded_seconds`) as a timestamp."""
        return self.ts(self.loaded_seconds(seconds, r))

    def loaded_at_once(self, seconds: np.ndarray, r: np.random.Generator) -> np.ndarray:
        """Seconds: `_loaded_at` of a sign-up or a launch, 1 to 5 s after it. Any row that
        refers to it happens later and loads at least 5 s after that, so the data never
        holds a row whose learner, course or item is still to arrive."""
        return seconds + 1 + 4 * r.random(len(seconds))


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(object), type=pa.string())


class DuckWriter:
    def __init__(self, con: duckdb.DuckDBPyConnection, seed: int, clock: Clock):
        self.con = con
        self.seed = int(seed)
        self.clock = clock
        self.next_id = {"engagement": 1, "exposure": 1, "delivery": 1, "response": 1, "goal": 1}
        con.execute(
            "create or replace temp macro _u(a, b, c) as "
            f"((hash({self.seed}, a, b, c) >> 11)::double * 1.1102230246251565e-16)"
        )

    # --- tables ---------------------------------------------------------------------------
    def create_tables(self) -> None:
        self.con.execute("create schema if not exists raw")
        for name, table in RAW_TABLES.items():
            self.con.execute(f"drop table if exists raw.{name}")
            self.con.execute(table.ddl())
            self.con.execute(f"alter table raw.{name} add column _bad varchar")

    def _insert(self, name: str, data: dict[str, pa.Array]) -> None:
        cols = list(RAW_TABLES[name].columns)
        src = pa.table({c: data[c] for c in cols})
        self.con.register("_gen_src", src)
        try:
            self.con.execute(
                f"insert into raw.{name} ({', '.join(cols)}) select {', '.join(cols)} from _gen_src"
            )
        finally:
            self.con.unregister("_gen_src")

    def write_catalog(self, cat: Catalog) -> None:
        r = rng_for(self.seed, "loaded", "catalog")
        domain_names = np.array([d[0] for d in DOMAINS], dtype=object)
        lang_codes = np.array([lang[0] for lang in LANGUAGES], dtype=object)
        difficulty = np.array(["beginner", "intermediate", "advanced"], dtype=object)
        in_spec = cat.spec_id > 0
        course_loaded = self.clock.loaded_at_once(cat.launched, r)
        self._insert(
            "courses",
            {
                "course_id": pa.array(np.arange(1, cat.n + 1, dtype=np.int64)),
                "title": _strings(cat.title),
                "domain": _strings(domain_names[cat.domain]),
                "language": _strings(lang_codes[cat.language]),
                "difficulty": _strings(difficulty[cat.difficulty]),
                "specialization_id": pa.array(cat.spec_id.astype(np.int64), mask=~in_spec),
                "specialization_position": pa.array(cat.spec_pos.astype(np.int32), mask=~in_spec),
                "is_published": pa.array(cat.published),
                "launched_at": self.clock.ts(cat.launched),
                "_loaded_at": self.clock.ts(course_loaded),
            },
        )
        it = cat.items
        self._insert(
            "course_items",
            {
                "item_id": pa.array(it["item_id"]),
                "course_id": pa.array((it["course"] + 1).astype(np.int64)),
                "module_number": pa.array(it["module_number"].astype(np.int32)),
                "position": pa.array(it["position"].astype(np.int32)),
                "item_type": _strings(it["item_type"]),
                "title": _strings(it["title"]),
                "passing_score": pa.array(it["passing_score"], mask=np.isnan(it["passing_score"])),
                # after its course's row (an item is published with its course)
                "_loaded_at": self.clock.ts(
                    self.clock.loaded_at_once(course_loaded[it["course"]], r)
                ),
            },
        )
        # the item structure the event expansion joins to
        self.items = pa.table(
            {
                "item_id": pa.array(it["item_id"]),
                "course_id": pa.array((it["course"] + 1).astype(np.int64)),
                "module_number": pa.array(it["module_number"].astype(np.int32)),
                "position": pa.array(it["position"].astype(np.int32)),
                "ordinal": pa.array(it["ordinal"].astype(np.int32)),
                "item_type": _strings(it["item_type"]),
                "passing_score": pa.array(it["passing_score"], mask=np.isnan(it["passing_score"])),
            }
        )
        self.con.register("_gen_items", self.items)

    def write_chunk(
        self,
        res: ChunkResult,
        msgs: dict[str, np.ndarray],
        chunk: int,
        metrics: list[dict[str, str]] | None = None,
        end_us: int | None = None,
    ) -> dict[str, float]:
        """Writes one chunk's rows; returns the facts of the nudge's true effect on each
        metric of ``metrics`` (rows of seed metric_definitions) over the data ending at
        ``end_us`` (see :meth:`_true_effects`)."""
        clock = self.clock
        r = rng_for(self.seed, "loaded", chunk)
        p = res.learners
        lang_codes = np.array([lang[0] for lang in LANGUAGES], dtype=object)
        self._insert(
            "learners",
            {
                "learner_id": pa.array(p.ids),
                "first_name": _strings(p.first_name),
                "country_code": _strings(p.country),
                "language": _strings(lang_codes[p.language]),
                "timezone": _strings(p.timezone),
                "signed_up_at": clock.ts(p.signed_up),
                "_loaded_at": clock.ts(clock.loaded_at_once(p.signed_up, r)),
            },
        )

        eng = res.engagements
        n_eng = len(eng["learner"])
        eng_id = self.next_id["engagement"] + np.arange(n_eng, dtype=np.int64)
        self.next_id["engagement"] += n_eng
        learner_id = p.ids[eng["learner"]]
        course_id = (eng["course"] + 1).astype(np.int64)
        cols: dict[str, pa.Array] = {
            "eng_id": pa.array(eng_id),
            "learner_id": pa.array(learner_id),
            "course_id": pa.array(course_id),
            "t_view": clock.us_nullable(eng["t_view"]),
            "t_view2": clock.us_nullable(eng["t_view2"]),
            "t_view3": clock.us_nullable(eng["t_view3"]),
            "t_enroll": clock.us_nullable(eng["t_enroll"]),
            "t_unenroll": clock.us_nullable(eng["t_unenroll"]),
            "t_complete": clock.us_nullable(eng["t_complete"]),
            "k": pa.array(eng["k"].astype(np.int32)),
            "touched": pa.array(eng["touched"].astype(np.int32)),
            "block_us": pa.array(np.round(eng["block"] * 1e6).astype(np.int64)),
        }
        for m in range(MAX_MODULES):
            cols[f"s{m + 1}"] = clock.us_nullable(eng["starts"][:, m])
        self.con.register("_gen_eng", pa.table(cols))
        try:
            self.con.execute(
                EVENTS_SQL.format(eng="_gen_eng", stride=EVENT_ID_STRIDE, end_us=clock.horizon_us)
            )
        finally:
            self.con.unregister("_gen_eng")
        facts = self._true_effects(res, cols, metrics or [], end_us) if end_us else {}

        x = res.exposures
        n_x = len(x["learner"])
        exp_ids = msgs["experiment_ids"]
        variant_names = msgs["variant_names"]
        self._insert(
            "experiment_exposures",
            {
                "exposure_id": pa.array(self.next_id["exposure"] + np.arange(n_x, dtype=np.int64)),
                "experiment_id": _strings(exp_ids[x["exp"]]),
                "learner_id": pa.array(p.ids[x["learner"]]),
                "variant": _strings(variant_names[x["exp"], x["variant"]]),
                "exposed_at": clock.ts(x["t"]),
                "_loaded_at": clock.loaded(x["t"], r),
            },
        )
        self.next_id["exposure"] += n_x

        d = res.deliveries
        n_d = len(d["eng"])
        delivery_id = self.next_id["delivery"] + np.arange(n_d, dtype=np.int64)
        self.next_id["delivery"] += n_d
        delivery_loaded = clock.loaded_seconds(d["t"], r)
        self._insert(
            "coaching_deliveries",
            {
                "delivery_id": pa.array(delivery_id),
                "learner_id": pa.array(learner_id[d["eng"]]),
                "course_id": pa.array(course_id[d["eng"]]),
                "message_id": _strings(msgs["message_id"][d["msg_row"]]),
                "variant": _strings(msgs["variant"][d["msg_row"]]),
                "delivered_at": clock.ts(d["t"]),
                "_loaded_at": clock.ts(delivery_loaded),
            },
        )
        s = res.responses
        n_s = len(s["delivery"])
        self._insert(
            "coaching_responses",
            {
                "response_id": pa.array(self.next_id["response"] + np.arange(n_s, dtype=np.int64)),
                "delivery_id": pa.array(delivery_id[s["delivery"]]),
                "response": _strings(RESPONSE_KINDS[s["kind"]]),
                "responded_at": clock.ts(s["t"]),
                # never before its delivery's row
                "_loaded_at": clock.ts(
                    np.maximum(
                        clock.loaded_seconds(s["t"], r),
                        delivery_loaded[s["delivery"]] + 1,
                    )
                ),
            },
        )
        self.next_id["response"] += n_s

        g = res.goals
        n_g = len(g["learner"])
        self._insert(
            "learner_goals",
            {
                "goal_id": pa.array(self.next_id["goal"] + np.arange(n_g, dtype=np.int64)),
                "learner_id": pa.array(p.ids[g["learner"]]),
                "course_id": pa.array(course_id[g["eng"]]),
                "goal_text": _strings(np.array(GOAL_TEXTS, dtype=object)[g["text"]]),
                "target_date": pa.array(
                    (clock.start_day + g["target_day"]).astype(np.int32), type=pa.date32()
                ),
                "created_at": clock.ts(g["t"]),
                "_loaded_at": clock.loaded(g["t"], r),
            },
        )
        self.next_id["goal"] += n_g
        return facts

    def _true_effects(
        self,
        res: ChunkResult,
        cols: dict[str, pa.Array],
        metrics: list[dict[str, str]],
        end_us: int,
    ) -> dict[str, float]:
        """The nudge's potential outcomes, as each metric defines its value.

        The learners exposed to the nudge before the data's end are the units. Their
        engagements are expanded into events twice, by the same SQL as the real events
        and with the same random numbers (the engagement ids): once as if nobody had
        been nudged (world 0), once as if every enrollment after the exposure had been
        (world 1); only the items completed and what follows from them differ. Each
        metric of ``metrics`` that reads one of ``NUDGE_EVENT_TYPES`` is then computed
        per unit from its definition (aggregation, window after the first exposure, the
        data's end) and summed. Facts, per metric and world (0, 1):
        ``truth:<metric>:<world>:numerator`` / ``:denominator`` (the units, or the sum of
        the denominator for a ratio metric)."""
        cf = res.counterfactual
        moved = [
            m for m in metrics
            if m["numerator_event_type"] in NUDGE_EVENT_TYPES
            or (m["metric_type"] == "ratio" and m["denominator_event_type"] in NUDGE_EVENT_TYPES)
        ]  # fmt: skip
        if "cf0_k" not in cf or not moved:
            return {}
        clock = self.clock
        learner_ids = res.learners.ids
        exposed = np.isfinite(cf["nudge_exposed_at"])
        exposed_us = clock.us(np.where(exposed, cf["nudge_exposed_at"], 0.0))
        exposed &= exposed_us < end_us
        if not exposed.any():
            return {}
        facts: dict[str, float] = {}
        keep = exposed[res.engagements["learner"]]
        con = self.con
        index = np.flatnonzero(keep)
        try:
            con.register(
                "_gen_cf_units",
                pa.table({"learner_id": pa.array(learner_ids[exposed]),
                          "exposed_us": pa.array(exposed_us[exposed])}),
            )  # fmt: skip
            con.execute(
                "create or replace temp table _gen_cf_events (world integer, learner_id bigint, "
                "item_id bigint, event_type varchar, score double, t_us bigint)"
            )
            for world in (0, 1):
                world_cols = {name: col.take(pa.array(index)) for name, col in cols.items()}
                world_cols["k"] = pa.array(cf[f"cf{world}_k"][keep].astype(np.int32))
                world_cols["touched"] = pa.array(cf[f"cf{world}_touched"][keep].astype(np.int32))
                world_cols["t_complete"] = clock.us_nullable(cf[f"cf{world}_t_complete"][keep])
                world_cols["t_unenroll"] = clock.us_nullable(cf[f"cf{world}_t_unenroll"][keep])
                con.register("_gen_cf_eng", pa.table(world_cols))
                try:
                    select = EVENTS_SELECT.format(
                        eng="_gen_cf_eng", stride=EVENT_ID_STRIDE, end_us=end_us
                    )
                    types = ", ".join(f"'{t}'" for t in NUDGE_EVENT_TYPES)
                    con.execute(
                        f"insert into _gen_cf_events select {world}, learner_id, item_id, "
                        f"event_type, score, epoch_us(occurred_at) from ({select}) "
                        f"where event_type in ({types})"
                    )
                finally:
                    con.unregister("_gen_cf_eng")
            sides = []
            for m in moved:
                window = float(m["window_days"]) if m["window_days"].strip() else None
                num = _unit_value(m["numerator_aggregation"], m["numerator_event_type"], window)
                den = "1"
                if m["metric_type"] == "ratio":
                    den = _unit_value(
                        m["denominator_aggregation"], m["denominator_event_type"], window
                    )
                sides += [(m["metric_id"], "numerator", num), (m["metric_id"], "denominator", den)]
            per_unit = ", ".join(f"{sql} as v{i}" for i, (_, _, sql) in enumerate(sides))
            totals = ", ".join(f"sum(v{i})" for i in range(len(sides)))
            rows = con.execute(f"""
                with ev as (
                    select e.*, u.exposed_us, i.passing_score
                    from _gen_cf_events as e
                    inner join _gen_cf_units as u on e.learner_id = u.learner_id
                    left join _gen_items as i on e.item_id = i.item_id
                    where e.t_us >= u.exposed_us
                ),
                per_unit as (
                    select w.world, u.learner_id, {per_unit}
                    from _gen_cf_units as u
                    cross join (values (0), (1)) as w (world)
                    left join ev on ev.learner_id = u.learner_id and ev.world = w.world
                    group by w.world, u.learner_id
                )
                select world, {totals} from per_unit group by world
            """).fetchall()  # fmt: skip
        finally:
            con.unregister("_gen_cf_units")
            con.execute("drop table if exists _gen_cf_events")
        for world, *values in rows:
            for (metric, side, _), value in zip(sides, values, strict=True):
                facts[f"truth:{metric}:{world}:{side}"] = float(value)
        return facts

    def finish(self) -> None:
        self.con.unregister("_gen_items")

    # --- bad rows -------------------------------------------------------------------------
    def plant_bad_rows(self, rate: float) -> None:
        """Adds corrupted copies of valid rows, each marked with its kind in ``_bad``.

        Every copy breaks exactly one staging rule. Except for `null_key` and `duplicate`,
        a copy gets a fresh primary key above every clean key, so no other row refers to
        it and the clean data set stays intact (staged rows = the clean rows).

        Which rows are copied depends on the world only, never on where the data ends, so
        appending a day adds the bad rows a regeneration would hold. Rows loaded in the
        span's first ``days - 8`` days: exactly ``rate * rows / kinds`` of each kind (at
        least one), all loaded inside the span (a re-sent copy follows within a week), so
        data that ends at the span's end holds every kind. Later rows: each is copied
        with probability ``rate / kinds`` per kind."""
        if rate <= 0:
            return
        settled_us = self.clock.start_us + int((self.clock.span - 8 * DAY) * 1e6)
        parent_max = {
            name: int(
                self.con.execute(
                    f"select coalesce(max({RAW_TABLES[name].primary_key}), 0) from raw.{name}"
                ).fetchone()[0]
            )
            for name in ("learners", "courses", "coaching_deliveries")
        }
        for ti, (name, kinds) in enumerate(BAD_ROW_KINDS.items()):
            table = RAW_TABLES[name]
            key = table.primary_key
            clean_rows, settled_rows, clean_max = self.con.execute(
                f"select count(*), count(*) filter (where epoch_us(_loaded_at) < {settled_us}), "
                f"coalesce(max({key}), 0) from raw.{name}"
            ).fetchone()
            if clean_rows == 0:
                continue
            per_kind = max(1, round(rate * settled_rows / len(kinds)))
            next_key = int(clean_max) + 1
            # duplicates last, so that no other kind copies a re-sent row
            for ki, kind in sorted(enumerate(kinds), key=lambda p: p[1] == "duplicate"):
                code = 1000 * (ti + 1) + ki
                eligible, overrides = _corruption(name, kind, code, parent_max)
                fresh = kind not in ("null_key", "duplicate")
                if fresh:
                    overrides.setdefault(key, f"{next_key} - 1 + _rn")
                exprs = ", ".join(overrides.get(c, c) for c in table.columns)
                clean = f"{key} is not null and {key} <= {clean_max} and ({eligible})"
                sql = f"""
                    insert into raw.{name} ({", ".join(table.columns)}, _bad)
                    with settled as (
                        select *, 0 as _region, hash({self.seed}, {key}, {code}) as _h
                        from raw.{name}
                        where {clean} and epoch_us(_loaded_at) < {settled_us}
                        order by _h, {key}
                        limit {per_kind}
                    ),
                    later as (
                        select *, 1 as _region, hash({self.seed}, {key}, {code}) as _h
                        from raw.{name}
                        where {clean} and epoch_us(_loaded_at) >= {settled_us}
                            and _u({key}, {code}, 0) < {rate / len(kinds)!r}
                    ),
                    numbered as (
                        select *, row_number() over (order by _region, _h, {key}) as _rn
                        from (select * from settled union all select * from later)
                    )
                    select {exprs}, '{kind}' from numbered
                """
                n = int(self.con.execute(sql).fetchone()[0])
                if fresh:
                    next_key += n

    def planted(self, since_us: int | None, end_us: int) -> dict[tuple[str, str], int]:
        """(table, kind) → bad rows loaded in ``[since, end)`` (every kind, zeros too)."""
        out: dict[tuple[str, str], int] = {}
        for name, kinds in BAD_ROW_KINDS.items():
            found = dict(
                self.con.execute(
                    f"select _bad, count(*) from raw.{name} where _bad is not null and "
                    f"{loaded_between(since_us, end_us)} group by _bad"
                ).fetchall()
            )
            for kind in kinds:
                out[(name, kind)] = int(found.get(kind, 0))
        return out


def loaded_between(since_us: int | None, end_us: int) -> str:
    """The SQL condition on ``_loaded_at`` for the rows of a delivery."""
    lo = "" if since_us is None else f"epoch_us(_loaded_at) >= {since_us} and "
    return f"{lo}epoch_us(_loaded_at) < {end_us}"


# Column overrides per (table, kind). `_u(key, code, i)` are uniforms in [0, 1).
_ENUM_COLUMN = {
    "courses": ("difficulty", "'expert'"),
    "course_items": ("item_type", "'video'"),
    "events": ("event_type", "'page_view'"),
    "coaching_responses": ("response", "'liked'"),
}
_ENUM_ELIGIBLE = {
    "courses": "true",
    "course_items": "item_type in ('lecture', 'reading')",
    "events": "event_type in ('course_view', 'enroll') and item_id is null",
    "coaching_responses": "true",
}
_ORPHAN = {
    "course_items": ("course_id", "courses"),
    "events": ("learner_id", "learners"),
    "experiment_exposures": ("learner_id", "learners"),
    "coaching_deliveries": ("learner_id", "learners"),
    "coaching_responses": ("delivery_id", "coaching_deliveries"),
    "learner_goals": ("learner_id", "learners"),
}
_EVENT_TIME = {
    "learners": "signed_up_at",
    "courses": "launched_at",
    "events": "occurred_at",
    "experiment_exposures": "exposed_at",
    "coaching_deliveries": "delivered_at",
    "coaching_responses": "responded_at",
    "learner_goals": "created_at",
}
_TEXT = {
    "learners": "first_name",
    "courses": "title",
    "course_items": "title",
    "learner_goals": "goal_text",
}


def _corruption(
    name: str, kind: str, code: int, parent_max: dict[str, int]
) -> tuple[str, dict[str, str]]:
    key = RAW_TABLES[name].primary_key
    u1 = f"_u({key}, {code}, 1)"
    u2 = f"_u({key}, {code}, 2)"
    if kind == "null_key":
        return "true", {key: "null"}
    if kind == "duplicate":
        # re-sent 1 hour to 7 days later (possibly in a later day's load)
        return (
            "true",
            {
                "_loaded_at": f"make_timestamp(epoch_us(_loaded_at) + cast(3600e6 + {u1} * 601200e6 as bigint))"
            },
        )
    if kind == "invalid_enum":
        col, bad = _ENUM_COLUMN[name]
        return _ENUM_ELIGIBLE[name], {col: bad}
    if kind == "orphan":
        col, parent = _ORPHAN[name]
        return "true", {col: f"{parent_max[parent]} + 1000000000 + _rn"}
    if kind == "future_timestamp":
        col = _EVENT_TIME[name]
        # loaded 1 to 48 hours BEFORE the event it describes
        return (
            "true",
            {
                "_loaded_at": f"make_timestamp(epoch_us({col}) - cast(3660e6 + {u1} * 169200e6 as bigint))"
            },
        )
    if kind == "score_out_of_range":
        if name == "events":
            return (
                "event_type = 'quiz_submit'",
                {
                    "score": f"case when {u1} < 0.5 then round(101 + {u2} * 50, 1) "
                    f"else -round(1 + {u2} * 20, 1) end"
                },
            )
        return "item_type in ('quiz', 'assignment')", {"passing_score": f"101 + floor({u1} * 50)"}
    if kind == "invalid_text":
        return "true", {_TEXT[name]: f"case when {u1} < 0.5 then '' else '   ' end"}
    raise AssertionError(f"unknown bad-row kind {kind}")  # pragma: no cover


EVENTS_SELECT = """
with
eng as (select * from {eng}),
course_level as (
    select eng_id * {stride} + 0 as event_id, learner_id, course_id, 'course_view' as event_type, t_view as t_us from eng
    union all
    select eng_id * {stride} + 1, learner_id, course_id, 'course_view', t_view2 from eng where t_view2 is not null
    union all
    select eng_id * {stride} + 2, learner_id, course_id, 'course_view', t_view3 from eng where t_view3 is not null
    union all
    select eng_id * {stride} + 3, learner_id, course_id, 'enroll', t_enroll from eng where t_enroll is not null
    union all
    select eng_id * {stride} + 4, learner_id, course_id, 'unenroll', t_unenroll from eng where t_unenroll is not null
    union all
    select eng_id * {stride} + 5, learner_id, course_id, 'course_complete', t_complete from eng where t_complete is not null
),
item_rows as (
    select
        e.eng_id,
        e.learner_id,
        e.course_id,
        e.block_us,
        i.item_id,
        i.ordinal,
        i.item_type,
        i.passing_score,
        [e.s1, e.s2, e.s3, e.s4, e.s5, e.s6][i.module_number] + (i.position - 1) * e.block_us as base_us,
        i.ordinal <= e.k as done,
        _u(e.eng_id, i.ordinal, 90) as u_attempts
    from eng as e
    inner join _gen_items as i
        on i.course_id = e.course_id and i.ordinal <= e.touched
    where e.touched > 0
),
item_attempts as (
    select
        *,
        case
            when item_type <> 'quiz' then 0
            when done then 1 + (u_attempts < 0.30)::integer + (u_attempts < 0.10)::integer
            else floor(u_attempts * 3)::integer
        end as attempts
    from item_rows
),
slots as (select unnest(range(5))::integer as slot),
item_level as (
    select
        a.eng_id * {stride} + 8 + (a.ordinal - 1) * 5 + s.slot as event_id,
        a.learner_id,
        a.course_id,
        a.item_id,
        case s.slot when 0 then 'item_start' when 4 then 'item_complete' else 'quiz_submit' end as event_type,
        case when s.slot between 1 and 3 then round(
            case
                when a.done and s.slot = a.attempts
                    then a.passing_score + (100 - a.passing_score) * _u(a.eng_id, a.ordinal, 20 + s.slot)
                else a.passing_score * (0.3 + 0.65 * _u(a.eng_id, a.ordinal, 20 + s.slot))
            end, 1)
        end as score,
        a.base_us + cast(a.block_us * case s.slot
            when 0 then 0.1 * _u(a.eng_id, a.ordinal, 10)
            when 4 then 0.75 + 0.2 * _u(a.eng_id, a.ordinal, 14)
            else 0.15 + 0.2 * (s.slot - 1) + 0.15 * _u(a.eng_id, a.ordinal, 10 + s.slot)
        end as bigint) as t_us
    from item_attempts as a
    cross join slots as s
    where s.slot = 0 or (s.slot = 4 and a.done) or (s.slot between 1 and 3 and s.slot <= a.attempts)
),
all_events as (
    select event_id, learner_id, course_id, null::bigint as item_id, event_type, null::double as score, t_us
    from course_level
    union all
    select event_id, learner_id, course_id, item_id, event_type, score, t_us
    from item_level
)
select
    event_id,
    learner_id,
    course_id,
    item_id,
    event_type,
    score,
    make_timestamp(t_us) as occurred_at,
    make_timestamp(
        t_us + 5000000 + cast(-ln(1 - _u(event_id, 0, 77)) * 1.8e9 as bigint)
    ) as _loaded_at
from all_events
where t_us < {end_us}
"""

EVENTS_SQL = (
    "insert into raw.events (event_id, learner_id, course_id, item_id, event_type, score, "
    "occurred_at, _loaded_at)" + EVENTS_SELECT
)

#: The event types whose events the nudge changes in the simulation: all follow from the
#: items an enrollment completes. It moves enrollments (and course views) only through
#: the next course of a specialization, which the potential outcomes do not follow, so
#: no truth is stated for a metric that reads those.
NUDGE_EVENT_TYPES = ("item_start", "item_complete", "quiz_submit", "course_complete", "unenroll")


def _unit_value(aggregation: str, event_type: str, window_days: float | None) -> str:
    """SQL: a unit's value of one side of a metric, over its events ``ev`` after the
    exposure (written here from the metric's definition, independently of the models)."""
    inside = f"ev.event_type = '{event_type}'"
    if window_days is not None:
        inside += f" and ev.t_us < ev.exposed_us + {int(window_days * 86_400_000_000)}"
    if aggregation == "any":
        return f"coalesce(max(case when {inside} then 1 else 0 end), 0)"
    if aggregation == "count":
        return f"count(*) filter (where {inside})"
    if aggregation == "count_passed":
        return f"count(*) filter (where {inside} and ev.score >= ev.passing_score)"
    if aggregation == "sum_score":
        return f"coalesce(sum(ev.score) filter (where {inside}), 0)"
    raise ValueError(f"unknown aggregation {aggregation!r}")
