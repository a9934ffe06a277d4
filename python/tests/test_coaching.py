"""The coaching product, checked on both engines against independent implementations.

The dbt build of the session fixtures (tiny data, seed 7) is checked against:
- scipy.stats.beta for the feedback loop's posterior (CDF, credible interval, P(rate <
  threshold)), at the warehouse's counts and at extreme counts through ``dbt show``;
- scipy.stats.ttest_ind(equal_var=False) for coaching_impact, on per-learner values
  recomputed in pandas from the staged events;
- hashlib + scipy for the Thompson-sampling draws (``dataproducts_pipeline.coaching.thompson_choice``);
- dataproducts.allocation.bucket for the holdout;
- zoneinfo for send_after;
- a Python renderer (``dataproducts_pipeline.coaching.render``, html-escaping by hand) for the text.
Rules that need no second implementation (caps, cooldown, no dangling token...) are dbt
data tests in tests/coaching/ and unit tests in the models' YAML, run by the build.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dataproducts import coaching
from dataproducts.allocation import bucket
from dataproducts_pipeline import coaching as rules

THRESHOLD = 0.30  # var coaching_suppression_threshold
SUPPRESSION_PROBABILITY = 0.95  # var coaching_suppression_probability
MIN_RESPONSES = 20  # var coaching_suppression_min_responses
DAY_START, DAY_END = 8, 21  # vars coaching_quiet_hours_end / _start


def show(build, sql: str) -> pd.DataFrame:
    """Run an inline query through dbt (so macros are rendered) and return its rows."""
    proc = build.dbt.scratch().run(
        "show", "--quiet", "--output", "json", "--limit", "10000", "--inline", sql
    )
    return pd.DataFrame(json.loads(proc.stdout[proc.stdout.index("{") :])["show"])


# --- the exact Beta CDF macro ------------------------------------------------------

BETA_CASES = [
    # (alpha, beta, x): the prior, small counts, large counts, far tails of both sides
    (1, 1, 0.3),
    (1, 1, 1e-9),
    (2, 11, 0.05),
    (3, 400, 0.3),
    (12, 3, 0.3),
    (41, 81, 0.3),
    (501, 1501, 0.2),
    (5001, 3001, 0.6),
    (2001, 2001, 0.45),
    (20001, 15001, 0.5),
    (1, 10000, 1e-5),
    (10000, 1, 0.9999),
    (300, 700, 0.3),
]


def test_beta_cdf_macro_matches_scipy(warehouse):
    rows = " union all ".join(
        f"select {i} as k, {a} as alpha, {b} as beta, cast({x!r} as double precision) as x"
        for i, (a, b, x) in enumerate(BETA_CASES)
    )
    got = show(warehouse, f"with points as ({rows}) {{{{ coaching_beta_cdf('points', ['k']) }}}}")
    got = got.sort_values("k").reset_index(drop=True)
    assert len(got) == len(BETA_CASES)
    for (a, b, x), cdf in zip(BETA_CASES, got["cdf"], strict=True):
        expected = stats.beta.cdf(x, a, b)
        # relative error for the tails (values down to 1e-30 keep their digits: the tail
        # is summed directly, never 1 - cdf), absolute near 1
        assert cdf == pytest.approx(expected, rel=1e-8, abs=1e-14), (a, b, x)


QUANTILE_CASES = [
    # (alpha, beta, probability): the prior, skewed small counts at extreme levels (where a
    # start from the coarse cuts is poor and the bisection safeguard matters), large counts
    (1, 1, 0.025),
    (2, 1, 0.0005),
    (1, 2, 0.9995),
    (3, 1, 0.0005),
    (2, 11, 0.0005),
    (23, 3, 0.999),
    (3, 400, 0.025),
    (12, 3, 0.9995),
    (41, 81, 0.5),
    (501, 1501, 0.975),
    (5001, 3001, 0.025),
    (20001, 15001, 0.975),
    (1, 10000, 0.975),
    (10000, 1, 0.025),
]


def test_beta_quantile_macro_matches_scipy(warehouse):
    rows = " union all ".join(
        f"select {i} as k, {a} as alpha, {b} as beta, cast({p!r} as double precision) as probability"
        for i, (a, b, p) in enumerate(QUANTILE_CASES)
    )
    got = show(
        warehouse,
        f"with points as ({rows}), quantiles as ({{{{ coaching_beta_quantile('points', ['k']) }}}}) "
        "select * from quantiles",
    )
    got = got.sort_values("k").reset_index(drop=True)
    assert len(got) == len(QUANTILE_CASES)
    for (a, b, p), q in zip(QUANTILE_CASES, got["quantile"], strict=True):
        assert q == pytest.approx(stats.beta.ppf(p, a, b), abs=1e-10), (a, b, p)


# --- the feedback loop -------------------------------------------------------------


def _feedback_from_staging(build) -> pd.DataFrame:
    """Counts per message variant recomputed in pandas from the staged deliveries/responses."""
    as_of = build.scalar("select as_of from intermediate.int_coaching_runs_defined")
    d = build.query("select * from staging.stg_raw__coaching_deliveries")
    r = build.query("select * from staging.stg_raw__coaching_responses")
    d = d[d.delivered_at <= as_of]
    r = r[r.responded_at <= as_of]
    votes = (
        r[r.response.isin(["helpful", "not_helpful"])]
        .sort_values(["delivery_id", "responded_at", "response_id"])
        .groupby("delivery_id")
        .tail(1)
        .set_index("delivery_id")["response"]
    )
    d = d.assign(vote=d.delivery_id.map(votes))
    return d.groupby(["message_id", "variant"]).agg(
        n_deliveries=("delivery_id", "size"),
        n_helpful=("vote", lambda v: int((v == "helpful").sum())),
        n_not_helpful=("vote", lambda v: int((v == "not_helpful").sum())),
    )


def test_message_performance_matches_scipy(warehouse):
    perf = warehouse.query("select * from marts.coaching_message_performance")
    assert len(perf) > 0
    variants = perf[perf.grain == "variant"].set_index(["message_id", "variant"])
    expected = _feedback_from_staging(warehouse)
    for key, row in expected.iterrows():
        got = variants.loc[key]
        assert got.n_deliveries == row.n_deliveries, key
        assert got.n_helpful == row.n_helpful, key
        assert got.n_not_helpful == row.n_not_helpful, key

    a = perf.posterior_alpha.astype(float)
    b = perf.posterior_beta.astype(float)
    assert (a == 1 + perf.n_helpful).all() and (b == 1 + perf.n_not_helpful).all()
    np.testing.assert_allclose(perf.credible_interval_lower, stats.beta.ppf(0.025, a, b), atol=1e-9)
    np.testing.assert_allclose(perf.credible_interval_upper, stats.beta.ppf(0.975, a, b), atol=1e-9)
    p_below = stats.beta.cdf(THRESHOLD, a, b)
    np.testing.assert_allclose(perf.p_below_threshold.astype(float), p_below, rtol=1e-8, atol=1e-15)
    own = (p_below > SUPPRESSION_PROBABILITY) & (perf.n_votes >= MIN_RESPONSES)
    assert (perf.is_suppressed_by_own_feedback.astype(bool) == own).all()


def test_posterior_quantile_table_matches_scipy(warehouse):
    q = warehouse.query(
        "select q.level_index, q.quantile, f.posterior_alpha as a, f.posterior_beta as b "
        "from intermediate.int_coaching_posterior_quantiles_tabulated as q "
        "join intermediate.int_coaching_feedback_counted as f using (performance_key)"
    )
    n_variants = warehouse.scalar(
        "select count(*) from intermediate.int_coaching_feedback_counted where grain = 'variant'"
    )
    assert len(q) == 1000 * n_variants
    exact = stats.beta.ppf((q.level_index + 0.5) / 1000, q.a.astype(float), q.b.astype(float))
    # linear interpolation of the exact CDF on a 1,001-point grid over mean +- 12 sd:
    # measured error ~3e-5 at the steepest levels; 1e-4 is the documented bound
    np.testing.assert_allclose(q["quantile"], exact, atol=1e-4)


# --- Thompson sampling ------------------------------------------------------------


def test_thompson_draws_reproduce_in_python(warehouse):
    drawn = warehouse.query("select * from intermediate.int_coaching_variants_drawn")
    assert len(drawn) > 0
    day = str(warehouse.scalar("select as_of_date from intermediate.int_coaching_runs_defined"))[
        :10
    ]
    perf = warehouse.query(
        "select message_id, variant, posterior_alpha, posterior_beta, is_suppressed "
        "from marts.coaching_message_performance where grain = 'variant'"
    )
    seed = pd.read_csv(rules.SEEDS_DIR / "coaching" / "coaching_messages.csv")
    active = seed[seed.active.astype(str).str.lower() == "true"][["message_id", "variant"]]
    eligible = perf.merge(active, on=["message_id", "variant"])
    eligible = eligible[~eligible.is_suppressed.astype(bool)]
    checked = 0
    for row in drawn.itertuples(index=False):
        variants = [
            (v.variant, int(v.posterior_alpha), int(v.posterior_beta))
            for v in eligible[eligible.message_id == row.message_id].itertuples(index=False)
        ]
        assert row.u_explore == pytest.approx(
            rules.hash_unit(rules.THOMPSON_SEED, day, row.learner_id, row.message_id, "explore"),
            abs=1e-12,
        )
        variant, method = rules.thompson_choice(variants, int(row.learner_id), row.message_id, day)
        assert method == row.selection_method, row
        if method == "thompson":
            # the SQL draws from a quantile table accurate to 1e-4: skip near-ties
            levels = sorted(
                (
                    stats.beta.ppf(
                        (
                            math.floor(
                                rules.hash_unit(7, day, row.learner_id, row.message_id, v) * 1000
                            )
                            + 0.5
                        )
                        / 1000,
                        a,
                        b,
                    )
                    for v, a, b in variants
                ),
                reverse=True,
            )
            if levels[0] - levels[1] < 1e-3:
                continue
        assert variant == row.variant, row
        checked += 1
    assert checked > 0


def test_queue_is_identical_on_both_engines(duckdb_build, postgres_build):
    cols = "learner_id, course_id, message_id, variant, rendered_text, send_after, generated_at"
    order = " order by learner_id, course_id, message_id"
    a = duckdb_build.query(f"select {cols} from marts.coaching_queue{order}")
    b = postgres_build.query(f"select {cols} from marts.coaching_queue{order}")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a.astype(str), b.astype(str))


# --- holdout and impact -------------------------------------------------------------


def test_holdout_is_the_shared_hash_allocation(warehouse):
    learners = warehouse.query(
        "select learner_id, holdout_bucket, is_holdout from intermediate.int_coaching_learners_allocated"
    )
    expected = learners.learner_id.map(lambda i: bucket(rules.HOLDOUT_SALT, int(i)))
    assert (learners.holdout_bucket == expected).all()
    assert (learners.is_holdout.astype(bool) == (expected < 1000)).all()
    queued = warehouse.query("select distinct learner_id from marts.coaching_queue").learner_id
    assert len(queued) > 0
    assert not any(rules.is_holdout(int(i)) for i in queued)


def test_coaching_impact_matches_scipy_welch(warehouse):
    as_of = warehouse.scalar("select as_of from intermediate.int_coaching_runs_defined")
    ev = warehouse.query(
        "select learner_id, course_id, item_id, event_type, occurred_at from staging.stg_raw__events"
    )
    ev = ev[ev.occurred_at <= as_of]
    learners = pd.Index(ev.loc[ev.event_type == "enroll", "learner_id"].unique())
    completed = ev[ev.event_type == "course_complete"].groupby("learner_id").size()
    items = (
        ev[ev.event_type == "item_complete"]
        .drop_duplicates(["learner_id", "course_id", "item_id"])
        .groupby("learner_id")
        .size()
    )
    per = pd.DataFrame(
        {
            "course_completion": (completed.reindex(learners).fillna(0) > 0).astype(float),
            "items_completed": items.reindex(learners).fillna(0).astype(float),
        },
        index=learners,
    )
    holdout = np.array([rules.is_holdout(int(i)) for i in per.index])
    impact = warehouse.query("select * from marts.coaching_impact").set_index("metric")
    for metric in ("course_completion", "items_completed"):
        coached, held = per.loc[~holdout, metric], per.loc[holdout, metric]
        res = stats.ttest_ind(coached, held, equal_var=False)
        t, p = res.statistic, res.pvalue
        lo, hi = res.confidence_interval(0.95)  # Welch's, at its df (not the normal's)
        row = impact.loc[metric]
        assert row.coached_learners == len(coached) and row.holdout_learners == len(held)
        assert row.coached_mean == pytest.approx(coached.mean(), rel=1e-12)
        assert row.holdout_mean == pytest.approx(held.mean(), rel=1e-12)
        assert row.t_statistic == pytest.approx(t, rel=1e-9)
        assert row.p_value == pytest.approx(p, rel=1e-6, abs=1e-9)
        assert row.ci_lower == pytest.approx(lo, rel=1e-6, abs=1e-12)
        assert row.ci_upper == pytest.approx(hi, rel=1e-6, abs=1e-12)


# --- rendering and scheduling --------------------------------------------------------


def test_rendered_text_matches_python_renderer(warehouse):
    rows = warehouse.query(
        """
        select
            q.learner_id, q.course_id, q.message_id, q.variant, q.rendered_text,
            c.item_id, c.module_number, c.days_inactive, c.days_to_target,
            coalesce(c.goal_id, e.latest_goal_id) as goal_id,
            l.first_name, co.title as course_title, i.title as item_title, g.goal_text
        from marts.coaching_queue as q
        join intermediate.int_coaching_candidates_capped as c
            using (learner_id, course_id, message_id)
        join staging.stg_raw__learners as l on q.learner_id = l.learner_id
        left join staging.stg_raw__courses as co on q.course_id = co.course_id
        left join staging.stg_raw__course_items as i on c.item_id = i.item_id
        left join intermediate.int_coaching_enrollments_summarized as e
            on q.learner_id = e.learner_id and q.course_id = e.course_id
        left join staging.stg_raw__learner_goals as g
            on coalesce(c.goal_id, e.latest_goal_id) = g.goal_id
        """
    )
    assert len(rows) > 0
    seed = pd.read_csv(rules.SEEDS_DIR / "coaching" / "coaching_messages.csv")
    templates = seed.set_index(["message_id", "variant"])["template"]
    for r in rows.itertuples(index=False):

        def num(v):
            return None if v is None or pd.isna(v) else int(v)

        values = {
            "first_name": r.first_name,
            "course_title": r.course_title,
            "item_title": r.item_title,
            "module": None if num(r.module_number) is None else f"module {num(r.module_number)}",
            "goal_text": r.goal_text,
            "days_inactive": num(r.days_inactive),
            "days_to_target": num(r.days_to_target),
        }
        expected = rules.render(templates[(r.message_id, r.variant)], values, rules.TOKENS)
        assert r.rendered_text == expected
        assert not set("{}<>") & set(r.rendered_text)


def test_send_after_is_next_local_daytime(warehouse):
    rows = warehouse.query(
        "select q.learner_id, q.send_after, q.generated_at, l.timezone, l.declared_timezone, "
        "l.timezone_is_fallback from marts.coaching_queue as q "
        "join intermediate.int_coaching_learners_allocated as l using (learner_id)"
    )
    assert len(rows) > 0
    known = available_timezones()
    for r in rows.itertuples(index=False):
        if r.timezone_is_fallback:
            assert r.declared_timezone is None or r.declared_timezone not in known
        tz = ZoneInfo(r.timezone)
        generated = pd.Timestamp(r.generated_at).to_pydatetime().replace(tzinfo=ZoneInfo("UTC"))
        local = generated.astimezone(tz)
        if DAY_START <= local.hour < DAY_END:
            expected = generated
        else:
            day = local.date() + (timedelta(days=1) if local.hour >= DAY_END else timedelta(0))
            expected = datetime(day.year, day.month, day.day, DAY_START, tzinfo=tz)
        got = pd.Timestamp(r.send_after).to_pydatetime().replace(tzinfo=ZoneInfo("UTC"))
        assert got == expected.astimezone(ZoneInfo("UTC")), r


# --- custom segments ------------------------------------------------------------------


def test_custom_segment_model_is_picked_up_without_editing_membership(warehouse):
    compiled = (
        warehouse.dbt.target_path
        / "compiled/dataproducts/models/marts/coaching/coaching_segment_membership.sql"
    ).read_text()
    assert "int_coaching_segment_repeat_quiz_failures" in compiled
    source = (
        rules.SEEDS_DIR.parent / "models/marts/coaching/coaching_segment_membership.sql"
    ).read_text()
    assert "repeat_quiz_failures" not in source


# --- the Python API -----------------------------------------------------------------


def test_queue_for_returns_frozen_rows(duckdb_build):
    q = coaching.queue(duckdb_build.path)
    learner = int(q.learner_id.iloc[0])
    rows = coaching.queue_for(learner, duckdb_path=duckdb_build.path)
    assert len(rows) == (q.learner_id == learner).sum()
    with pytest.raises(AttributeError):
        rows[0].variant = "z"  # type: ignore[misc]
    assert coaching.queue_for(-1, duckdb_path=duckdb_build.path) == []


def test_render_reference_escapes_and_bounds():
    tokens = rules.TOKENS
    hostile = "{goal_text}<img src=x onerror=alert(1)> '; drop table learners; --"
    out = rules.render(
        "{first_name}|{goal_text}", {"first_name": hostile, "goal_text": None}, tokens
    )
    first, goal = out.split("|")
    assert goal == "the goal you set"
    assert "<" not in first and "{" not in first and len(first) > 0
    assert rules.bounded("x" * 50, 40) == "x" * 39 + "…"
