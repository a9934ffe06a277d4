"""The simulated world in numpy: catalog, learners, engagements, exposures, coaching, goals.

Everything here is vectorized over rows; Python loops only run over small fixed sets
(domains, languages, experiments, funnel rounds, learner chunks). Times are float64
seconds since the start of the world (``start``); the writer converts them.

The world does not depend on where the data ends. Sign-ups, launches and organic course
views happen in the *span* ``[0, days)``; everything they lead to (revisits, enrollments,
progress, completions, the next course of a specialization, coaching, goals) is
simulated up to the *horizon* ``span + HORIZON_DAYS``. The writer keeps the rows loaded
before the data's end, so the data ending at D+1 is the data ending at D plus the rows
loaded in [D, D+1): what ``generate --append`` adds.

Learners are independent of each other, so the activity is simulated per chunk of
``CHUNK`` learners with a random generator seeded by ``(seed, stage, chunk)``: memory is
bounded at any scale and the output does not depend on the machine.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from dataproducts.allocation import Experiment
from dataproducts.errors import ConfigurationError

from .config import Planted, Sizes
from .vocab import (
    COURSE_SUFFIXES,
    DOMAINS,
    FIRST_NAMES,
    GOAL_TEXTS,
    ITEM_LABELS,
    ITEM_PHRASES,
    LANGUAGES,
    SPEC_FIRST,
    SPEC_LAST,
    SPEC_MIDDLE,
    TIMEZONES,
)

DAY = 86_400.0
HOUR = 3_600.0
CHUNK = 50_000  # learners per simulation chunk (fixed: the output depends on it)
MAX_MODULES = 6
DIFFICULTIES = np.array(["beginner", "intermediate", "advanced"], dtype=object)
ITEM_TYPES = np.array(["lecture", "reading", "assignment", "quiz"], dtype=object)

Allocator = Callable[[Experiment, np.ndarray], Sequence[str]]


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """An independent generator per (seed, stage, ...): stages never share a stream."""
    key = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(n).encode()) for n in names]
    return np.random.default_rng(key)


def _pick(r: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(options), dtype=object)
    p = np.array(list(options.values()), dtype=float)
    return keys[r.choice(len(keys), size=n, p=p / p.sum())]


# ----------------------------------------------------------------------------------------
# Catalog: courses and items
# ----------------------------------------------------------------------------------------
@dataclass
class Catalog:
    n: int
    domain: np.ndarray  # int index into DOMAINS
    language: np.ndarray  # int index into LANGUAGES
    difficulty: np.ndarray  # int 0..2
    popularity: np.ndarray  # weight ∝ 1 / rank^1.1
    published: np.ndarray  # bool
    spec_id: np.ndarray  # int, -1 when none
    spec_pos: np.ndarray  # int, 0 when none
    next_course: np.ndarray  # index of the next course of the specialization, -1 when none
    launched: np.ndarray  # seconds since the world's start
    title: np.ndarray  # object
    n_modules: np.ndarray
    module_sizes: np.ndarray  # (n, MAX_MODULES), 0 beyond n_modules
    n_items: np.ndarray
    ord_module: np.ndarray  # (n, max items + 1): module (1-based) of item ordinal o
    ord_position: np.ndarray  # (n, max items + 1): position in module of ordinal o
    items: dict[str, np.ndarray] = field(default_factory=dict)


def make_catalog(sizes: Sizes, seed: int, span: float) -> Catalog:
    """The catalog; ``span``: the seconds over which courses launch."""
    r = rng_for(seed, "courses")
    c = sizes.courses
    n_dom = len(DOMAINS)
    dom_w = np.array([d[1] for d in DOMAINS])
    domain = r.choice(n_dom, size=c, p=dom_w / dom_w.sum())
    if c >= n_dom:  # every domain has at least one course
        domain[r.permutation(c)[:n_dom]] = np.arange(n_dom)
    lang_w = np.array([lang[2] for lang in LANGUAGES])
    language = r.choice(len(LANGUAGES), size=c, p=lang_w / lang_w.sum())
    difficulty = r.choice(3, size=c, p=[0.45, 0.35, 0.20])
    rank = r.permutation(c) + 1
    popularity = rank.astype(float) ** -1.1
    published = np.ones(c, dtype=bool)
    published[r.permutation(c)[: round(0.05 * c)]] = False

    n_topics = np.array([len(d[2]) for d in DOMAINS])
    topics = np.full((n_dom, n_topics.max()), "", dtype=object)
    for i, d in enumerate(DOMAINS):
        topics[i, : len(d[2])] = d[2]
    topic = topics[domain, (r.random(c) * n_topics[domain]).astype(int)]
    suffix = np.array(COURSE_SUFFIXES, dtype=object)[r.integers(0, len(COURSE_SUFFIXES), c)]

    # Specializations: about half the courses of each domain, in runs of 3-5 (in a
    # small catalog, every course of a domain with 3-5 courses).
    spec_id = np.full(c, -1)
    spec_pos = np.zeros(c, dtype=int)
    spec_len = np.zeros(c, dtype=int)
    next_spec = 1
    for d in range(n_dom):
        members = np.flatnonzero(domain == d)
        members = members[r.permutation(len(members))]
        budget = -(-len(members) // 2) if len(members) >= 6 else len(members)
        lengths = r.integers(3, 6, size=max(budget, 1))
        lengths = lengths[np.cumsum(lengths) <= budget]
        rest = budget - int(lengths.sum())
        if rest >= 3:  # the remainder forms one more (short) specialization
            lengths = np.append(lengths, min(rest, 5))
        if len(lengths) == 0:
            continue
        n_in = int(lengths.sum())
        starts = np.cumsum(lengths) - lengths
        group = np.repeat(np.arange(len(lengths)), lengths)
        chosen = members[:n_in]
        spec_id[chosen] = next_spec + group
        spec_pos[chosen] = np.arange(n_in) - np.repeat(starts, lengths) + 1
        spec_len[chosen] = np.repeat(lengths, lengths)
        # a specialization shares the language and topic of its first course
        first = chosen[starts]
        language[chosen] = np.repeat(language[first], lengths)
        topic[chosen] = np.repeat(topic[first], lengths)
        next_spec += len(lengths)
    in_spec = spec_id > 0
    difficulty[in_spec] = np.where(
        spec_pos[in_spec] == 1, 0, np.where(spec_pos[in_spec] == spec_len[in_spec], 2, 1)
    )
    middle = np.array(SPEC_MIDDLE, dtype=object)
    part = np.where(
        spec_pos == 1,
        SPEC_FIRST,
        np.where(spec_pos == spec_len, SPEC_LAST, middle[np.clip(spec_pos - 2, 0, 2)]),
    )
    suffix = np.where(in_spec, part, suffix)
    lang_name = np.array([lang[3] for lang in LANGUAGES], dtype=object)
    title = topic + " " + suffix
    title = np.where(language == 0, title, title + " (" + lang_name[language] + ")")
    # next course of the same specialization
    order = np.lexsort((spec_pos, spec_id))
    next_course = np.full(c, -1)
    same = (spec_id[order][1:] == spec_id[order][:-1]) & (spec_id[order][1:] > 0)
    next_course[order[:-1][same]] = order[1:][same]

    # Most of the catalog exists at the start of the span; 10% launches during it.
    launched = r.random(c) * min(0.03 * span, 7 * DAY)
    new = r.random(c) < 0.10
    launched[new] = r.random(int(new.sum())) * 0.9 * span

    # Items: 3-6 modules of 3-5 items; every module ends with a quiz.
    ri = rng_for(seed, "items")
    n_modules = ri.integers(3, MAX_MODULES + 1, size=c)
    module_sizes = ri.integers(3, 6, size=(c, MAX_MODULES))
    module_sizes[np.arange(MAX_MODULES)[None, :] >= n_modules[:, None]] = 0
    n_items = module_sizes.sum(axis=1)
    total = int(n_items.sum())
    item_course = np.repeat(np.arange(c), n_items)
    flat_sizes = module_sizes.ravel()
    item_module = np.repeat(np.tile(np.arange(1, MAX_MODULES + 1), c), flat_sizes)
    module_start = np.cumsum(flat_sizes) - flat_sizes
    item_position = np.arange(total) - np.repeat(module_start, flat_sizes) + 1
    course_start = np.cumsum(n_items) - n_items
    item_ordinal = np.arange(total) - np.repeat(course_start, n_items) + 1
    last_in_module = item_position == np.repeat(flat_sizes, flat_sizes)
    kind = np.where(last_in_module, 3, ri.choice(3, size=total, p=[0.6, 0.3, 0.1]))
    item_type = ITEM_TYPES[kind]
    graded = kind >= 2
    passing = np.where(graded, ri.integers(60, 81, size=total).astype(float), np.nan)
    phrase = np.array(ITEM_PHRASES, dtype=object)[ri.integers(0, len(ITEM_PHRASES), total)]
    label = np.array([ITEM_LABELS[t] for t in ITEM_TYPES], dtype=object)[kind]
    item_title = (
        label
        + " "
        + item_module.astype(str).astype(object)
        + "."
        + item_position.astype(str).astype(object)
        + ": "
        + phrase
    )
    ord_module = np.zeros((c, int(n_items.max()) + 1), dtype=np.int64)
    ord_position = np.zeros_like(ord_module)
    ord_module[item_course, item_ordinal] = item_module
    ord_position[item_course, item_ordinal] = item_position

    cat = Catalog(
        n=c,
        domain=domain,
        language=language,
        difficulty=difficulty,
        popularity=popularity,
        published=published,
        spec_id=spec_id,
        spec_pos=spec_pos,
        next_course=next_course,
        launched=launched,
        title=title,
        n_modules=n_modules,
        module_sizes=module_sizes,
        n_items=n_items,
        ord_module=ord_module,
        ord_position=ord_position,
    )
    cat.items = {
        "item_id": np.arange(1, total + 1, dtype=np.int64),
        "course": item_course,
        "module_number": item_module,
        "position": item_position,
        "ordinal": item_ordinal,
        "item_type": item_type,
        "title": item_title,
        "passing_score": passing,
        "loaded": launched[item_course],
    }
    return cat


class CourseSampler:
    """Weighted course choice per (domain or global, learner language), vectorized.

    Each distribution ``g`` owns the interval ``[g, g + 1)`` of one concatenated array of
    cumulative weights; a draw ``g + u`` is located with one ``searchsorted`` call."""

    def __init__(self, cat: Catalog):
        n_dom, n_lang = len(DOMAINS), len(LANGUAGES)
        self.n_lang = n_lang
        self.global_key = n_dom
        cums, idx = [], []
        self.has_courses = np.zeros(n_dom + 1, dtype=bool)
        pub = np.where(cat.published, 1.0, 0.3)  # retired courses still get some traffic
        for g in range(n_dom + 1):
            sel = np.flatnonzero(cat.domain == g) if g < n_dom else np.arange(cat.n)
            self.has_courses[g] = len(sel) > 0
            for ll in range(n_lang):
                key = g * n_lang + ll
                if len(sel) == 0:
                    cums.append(np.array([key + 1.0]))
                    idx.append(np.array([0]))
                    continue
                lang = cat.language[sel]
                factor = np.where(lang == ll, 3.0, np.where(lang == 0, 1.0, 0.05))
                w = cat.popularity[sel] * factor * pub[sel]
                cum = key + np.cumsum(w) / w.sum()
                cum[-1] = key + 1.0
                cums.append(cum)
                idx.append(sel)
        self.cum = np.concatenate(cums)
        self.idx = np.concatenate(idx)

    def draw(self, group: np.ndarray, lang: np.ndarray, u: np.ndarray) -> np.ndarray:
        group = np.where(self.has_courses[group], group, self.global_key)
        key = group * self.n_lang + lang
        pos = np.searchsorted(self.cum, key + u, side="right")
        return self.idx[pos]


# ----------------------------------------------------------------------------------------
# Learners
# ----------------------------------------------------------------------------------------
@dataclass
class Learners:
    ids: np.ndarray
    language: np.ndarray  # int index into LANGUAGES
    country: np.ndarray
    timezone: np.ndarray
    first_name: np.ndarray
    signed_up: np.ndarray
    interests: np.ndarray  # (n, 3) domain indexes, -1 unused; ordered (interest drift)
    n_interests: np.ndarray
    views: np.ndarray  # number of organic course views
    grit: np.ndarray  # multiplier of the drop-out hazard


def make_learners(
    first_id: int, n: int, sizes: Sizes, seed: int, chunk: int, span: float, planted: Planted
) -> Learners:
    r = rng_for(seed, "learners", chunk)
    lang_w = np.array([lang[1] for lang in LANGUAGES])
    language = r.choice(len(LANGUAGES), size=n, p=lang_w / lang_w.sum())
    country = np.empty(n, dtype=object)
    first_name = np.empty(n, dtype=object)
    for li, (code, _, _, _, countries) in enumerate(LANGUAGES):
        m = language == li
        k = int(m.sum())
        country[m] = _pick(r, countries, k)
        names = np.array(FIRST_NAMES[code], dtype=object)
        first_name[m] = names[r.integers(0, len(names), k)]
    timezone = np.empty(n, dtype=object)
    for cc, zones in TIMEZONES.items():
        m = country == cc
        timezone[m] = _pick(r, zones, int(m.sum()))
    signed_up = r.random(n) * span
    n_interests = r.choice([1, 2, 3], size=n, p=[0.35, 0.45, 0.20])
    dom_w = np.array([d[1] for d in DOMAINS])
    keys = np.log(dom_w)[None, :] + r.gumbel(size=(n, len(DOMAINS)))
    interests = np.argsort(-keys, axis=1)[:, :3]
    interests[np.arange(3)[None, :] >= n_interests[:, None]] = -1
    active = r.random(n) >= planted.cold_start_share
    mu = np.log(max(sizes.mean_views - 0.5, 0.6)) - 0.5
    views = 1 + np.floor(r.lognormal(mu, 1.0, size=n)).astype(np.int64)
    views = np.minimum(views, max(1, min(sizes.courses, 300)))
    views[~active] = 0
    grit = r.lognormal(0.0, 0.35, size=n)
    return Learners(
        ids=np.arange(first_id, first_id + n, dtype=np.int64),
        language=language,
        country=country,
        timezone=timezone,
        first_name=first_name,
        signed_up=signed_up,
        interests=interests,
        n_interests=n_interests,
        views=views,
        grit=grit,
    )


# ----------------------------------------------------------------------------------------
# Activity of one chunk of learners
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Times:
    """Seconds since the world's start: the span of sign-ups and organic views, the
    horizon the world is simulated to, and the end of the data being written."""

    span: float
    horizon: float
    end: float


@dataclass
class ExperimentWindow:
    experiment: Experiment
    start: float  # seconds since the world's start (clipped to [0, horizon))
    end: float
    treatment: np.ndarray  # bool per variant index: planted effect applies (non-control)


@dataclass
class ChunkResult:
    learners: Learners
    engagements: dict[str, np.ndarray]
    exposures: dict[str, np.ndarray]
    deliveries: dict[str, np.ndarray]
    responses: dict[str, np.ndarray]
    goals: dict[str, np.ndarray]
    facts: dict[str, float]
    #: The nudge's potential outcomes, per engagement (see ``simulate_chunk``) and the
    #: learner's first exposure to it (``nudge_exposed_at``, inf when never): the writer
    #: turns them into each metric's true effect. Empty without a nudge experiment.
    counterfactual: dict[str, np.ndarray] = field(default_factory=dict)


def _variant_codes(experiment: Experiment, names: np.ndarray) -> np.ndarray:
    """Variant names from the allocator → indexes into the experiment's variants."""
    known = [v.name for v in experiment.variants]
    uniq, inverse = np.unique(names.astype(str), return_inverse=True)
    unknown = sorted(set(uniq) - set(known))
    if len(names) and unknown:
        raise ConfigurationError(
            f"the allocator returned unknown variant(s) {unknown} for experiment "
            f"{experiment.experiment_id!r}; it must return one of {known}."
        )
    return np.array([known.index(u) for u in uniq], dtype=np.int64)[inverse]


def _k_items(u: np.ndarray, h: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Items completed before dropping out with per-item hazard h (geometric), capped at n."""
    k = np.floor(np.log(u) / np.log1p(-np.clip(h, 1e-4, 0.9)))
    return np.minimum(k, n).astype(np.int64)


def _progress(
    k: np.ndarray,
    *,
    enrolled: np.ndarray,
    n_items: np.ndarray,
    u_next: np.ndarray,
    course: np.ndarray,
    module: np.ndarray,
    position: np.ndarray,
    starts: np.ndarray,
    block: np.ndarray,
    t_enroll: np.ndarray,
    pace: np.ndarray,
    u_unenroll: np.ndarray,
    u_gap: np.ndarray,
    horizon: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What k items completed lead to, with one round's random numbers: the items touched,
    the time of the last activity and of the unenrollment (nan when none). The realized
    world and both potential outcomes of the nudge use it."""
    rows = np.arange(len(k))
    touched = np.where(k < n_items, k + (u_next < 0.6), n_items)
    touched[~enrolled] = 0
    mod_t = module[course, touched]
    pos_t = position[course, touched]
    last = np.where(touched > 0, starts[rows, np.maximum(mod_t - 1, 0)] + pos_t * block, t_enroll)
    unenroll_at = last + HOUR + pace * u_gap
    gone = enrolled & (k < n_items) & (u_unenroll < 0.2) & (unenroll_at < horizon)
    return touched, last, np.where(gone, unenroll_at, np.nan)


def simulate_chunk(
    people: Learners,
    cat: Catalog,
    sampler: CourseSampler,
    experiments: list[ExperimentWindow],
    allocator: Allocator,
    holdout: np.ndarray,
    coaching_catalog: dict[str, np.ndarray],
    seed: int,
    chunk: int,
    times: Times,
    planted: Planted,
    day_offset: float = 0.0,
) -> ChunkResult:
    """Simulates the activity of one chunk of learners (see the module docstring of
    ``dataproducts_pipeline.generate`` for the planted structure).

    The rows do not depend on ``times.end``; only the planted facts (what tests can
    recover from the data) count what happened before it. The nudge's potential outcomes
    per engagement go to ``ChunkResult.counterfactual`` (the writer computes each
    metric's true effect from them); ``_nudge_truth`` counts the completions."""
    span, horizon, end = times.span, times.horizon, times.end
    r = rng_for(seed, "activity", chunk)
    n = len(people.ids)
    hazard0 = np.array([planted.hazard[d] for d in DIFFICULTIES])

    # --- round 0: organic course views --------------------------------------------------
    learner = np.repeat(np.arange(n), people.views)
    e = len(learner)
    f = r.random(e)  # position in the learner's active span (drives interest drift)
    t_view = people.signed_up[learner] + (span - people.signed_up[learner]) * f
    in_domain = r.random(e) < planted.in_domain_share
    k = people.n_interests[learner]
    idx = np.clip(np.floor(f * k + (r.random(e) - 0.5) * 0.8), 0, k - 1).astype(int)
    group = np.where(in_domain, people.interests[learner, idx], len(DOMAINS))
    course = sampler.draw(group, people.language[learner], r.random(e))
    ok = t_view >= cat.launched[course]
    learner, course, t_view = learner[ok], course[ok], t_view[ok]
    order = np.lexsort((t_view, course, learner))
    learner, course, t_view = learner[order], course[order], t_view[order]
    first = np.ones(len(learner), dtype=bool)
    first[1:] = (learner[1:] != learner[:-1]) | (course[1:] != course[:-1])
    learner, course, t_view = learner[first], course[first], t_view[first]
    order = np.lexsort((course, t_view, learner))
    learner, course, t_view = learner[order], course[order], t_view[order]
    followup = np.zeros(len(learner), dtype=bool)

    n_exp = len(experiments)
    exp_time = np.full((n_exp, n), np.inf)
    variant = np.full((n_exp, n), -1)
    nudge = next(
        (
            i
            for i, x in enumerate(experiments)
            if x.experiment.experiment_id == planted.nudge_experiment
        ),
        None,
    )

    rounds: list[dict[str, np.ndarray]] = []
    seen_pairs = np.sort(learner.astype(np.int64) * cat.n + course)
    for _round in range(8):  # specializations have at most 5 courses: 5 rounds suffice
        e = len(learner)
        if e == 0:
            break
        c = course
        # extra visits of the course page
        uv = r.random(e)
        gap1 = r.exponential(4 * DAY, e)
        gap2 = gap1 + r.exponential(6 * DAY, e)
        t_view2 = np.where(uv < 0.25, t_view + gap1, np.nan)
        t_view3 = np.where(uv < 0.08, t_view + gap2, np.nan)
        t_view2[t_view2 >= horizon] = np.nan
        t_view3[t_view3 >= horizon] = np.nan
        # enrollment
        match = (people.interests[learner] == cat.domain[c][:, None]).any(axis=1)
        lang_match = people.language[learner] == cat.language[c]
        p_enroll = (
            planted.enroll_base
            + planted.enroll_interest_bonus * match
            + planted.enroll_language_bonus * lang_match
        )
        p_enroll = np.where(followup, planted.enroll_next_in_specialization, p_enroll)
        t_enroll = t_view + np.clip(60 * r.lognormal(3.0, 1.0, e), 60, 3 * DAY)
        enrolled = (r.random(e) < p_enroll) & (t_enroll < horizon)
        # pace: gap between modules (hours to weeks) and time per item block (minutes)
        pace = np.clip(DAY * r.lognormal(np.log(2.5), 0.9, e), 4 * HOUR, 30 * DAY)
        block = 1500 * r.lognormal(0.0, 0.35, e)
        jitter = r.random((e, MAX_MODULES))
        m = np.arange(MAX_MODULES)[None, :]
        starts = (
            t_enroll[:, None]
            + 600
            + m * (5 * block + pace)[:, None]
            + np.where(m > 0, pace[:, None] * 0.8 * (jitter - 0.5), 0.0)
        )
        hazard = (
            hazard0[cat.difficulty[c]]
            * people.grit[learner]
            * np.where(match, planted.interest_hazard_multiplier, 1.0)
        )
        u_drop = 1.0 - r.random(e)
        u_next = r.random(e)
        u_unenroll = r.random(e)
        u_unenroll_gap = r.random(e)
        u_complete = r.random(e)
        u_follow = r.random(e)
        follow_gap = r.exponential(3 * DAY, e)

        # exposures: the first course view inside each experiment's window
        for xi, x in enumerate(experiments):
            tmin = np.full(n, np.inf)
            for tv in (t_view, t_view2, t_view3):
                inside = (tv >= x.start) & (tv < x.end)
                np.minimum.at(tmin, learner[inside], tv[inside])
            new = np.isfinite(tmin) & ~np.isfinite(exp_time[xi])
            if new.any():
                exp_time[xi, new] = tmin[new]
                names = np.asarray(allocator(x.experiment, people.ids[new]), dtype=object)
                variant[xi, new] = _variant_codes(x.experiment, names)

        n_items = cat.n_items[c]
        k_control = _k_items(u_drop, hazard, n_items)
        k_treated = _k_items(u_drop, hazard * planted.nudge_hazard_multiplier, n_items)
        post = np.zeros(e, dtype=bool)
        treated = np.zeros(e, dtype=bool)
        if nudge is not None:
            x = experiments[nudge]
            post = enrolled & (t_enroll > exp_time[nudge, learner]) & (t_enroll < x.end)
            v = variant[nudge, learner]
            treated = post & (v >= 0) & x.treatment[np.maximum(v, 0)]
        k_done = np.where(treated, k_treated, k_control)
        k_done[~enrolled] = 0

        rows = np.arange(e)
        last_module = cat.n_modules[c]
        complete_at = (
            starts[rows, last_module - 1]
            + cat.module_sizes[c, last_module - 1] * block
            + 60
            + 600 * u_complete
        )
        completed = enrolled & (k_done == n_items) & (complete_at < horizon)
        complete_control = enrolled & (k_control == n_items) & (complete_at < horizon)
        complete_treated = enrolled & (k_treated == n_items) & (complete_at < horizon)

        progress = partial(
            _progress, enrolled=enrolled, n_items=n_items, u_next=u_next,
            course=c, module=cat.ord_module, position=cat.ord_position, starts=starts,
            block=block, t_enroll=t_enroll, pace=pace, u_unenroll=u_unenroll,
            u_gap=u_unenroll_gap, horizon=horizon,
        )  # fmt: skip
        touched, last_activity, t_unenroll = progress(k_done)
        cf: dict[str, np.ndarray] = {}
        if nudge is not None:
            # potential outcomes: nobody (cf0) or every enrollment after the exposure
            # (cf1) nudged, with the same random numbers as the realized world
            for world, k_world, done in (
                ("cf0", k_control, complete_control),
                (
                    "cf1",
                    np.where(post, k_treated, k_control),
                    np.where(post, complete_treated, complete_control),
                ),
            ):
                k_world = np.where(enrolled, k_world, 0)
                cf[f"{world}_k"] = k_world
                cf[f"{world}_touched"], _, cf[f"{world}_t_unenroll"] = progress(k_world)
                cf[f"{world}_t_complete"] = np.where(done, complete_at, np.nan)

        rounds.append(
            {
                "learner": learner,
                "course": c,
                "t_view": t_view,
                "t_view2": t_view2,
                "t_view3": t_view3,
                "enrolled": enrolled,
                "t_enroll": np.where(enrolled, t_enroll, np.nan),
                "k": k_done,
                "touched": touched,
                "block": block,
                "starts": np.where(
                    np.arange(MAX_MODULES)[None, :] < last_module[:, None], starts, np.nan
                ),
                "t_complete": np.where(completed, complete_at, np.nan),
                "t_unenroll": t_unenroll,
                "last_activity": np.where(
                    completed, complete_at, np.minimum(last_activity, horizon)
                ),
                # potential outcomes of the nudge (for the true lift in the report)
                "complete_at": complete_at,
                "complete_control": complete_control,
                "complete_treated": complete_treated,
                "post_nudge": post,
                **cf,
            }
        )

        # --- next round: the next course of a specialization after finishing one ----------
        nxt = cat.next_course[c]
        go = completed & (nxt >= 0) & (u_follow < planted.next_in_specialization)
        t_next = complete_at + follow_gap
        go &= t_next < horizon
        go &= t_next >= cat.launched[np.maximum(nxt, 0)]
        pairs = learner[go].astype(np.int64) * cat.n + nxt[go]
        at = np.minimum(np.searchsorted(seen_pairs, pairs), len(seen_pairs) - 1)
        fresh = seen_pairs[at] != pairs
        learner = learner[go][fresh]
        course = nxt[go][fresh]
        t_view = t_next[go][fresh]
        followup = np.ones(len(learner), dtype=bool)
        seen_pairs = np.sort(np.concatenate([seen_pairs, pairs[fresh]]))

    eng = {key: np.concatenate([rd[key] for rd in rounds]) for key in rounds[0]} if rounds else {}
    if not eng:
        eng = _empty_engagements()
    facts = _nudge_truth(eng, exp_time[nudge] if nudge is not None else None, end)
    exposures = _exposures(people, eng, experiments, exp_time, variant, seed, chunk, planted, end)
    facts.update(exposures.pop("_facts"))  # type: ignore[arg-type]
    deliveries, responses = _coaching(eng, holdout, coaching_catalog, seed, chunk, horizon, planted)
    goals = _goals(people, eng, seed, chunk, horizon, planted, day_offset)
    seen = goals["t"] < end
    facts["goals"] = float(seen.sum())
    facts["goals_achieved"] = float(
        (seen & (np.nan_to_num(eng["t_complete"][goals["eng"]], nan=np.inf) < end)
         & goals["achieved"]).sum()
    )  # fmt: skip
    for key in ("complete_at", "complete_control", "complete_treated", "post_nudge"):
        eng.pop(key)
    counterfactual = {key: eng.pop(key) for key in list(eng) if key.startswith("cf")}
    if nudge is not None:
        counterfactual["nudge_exposed_at"] = exp_time[nudge]
    return ChunkResult(people, eng, exposures, deliveries, responses, goals, facts, counterfactual)


def _empty_engagements() -> dict[str, np.ndarray]:
    f = np.zeros(0)
    i = np.zeros(0, dtype=np.int64)
    b = np.zeros(0, dtype=bool)
    return {
        "learner": i, "course": i, "t_view": f, "t_view2": f, "t_view3": f, "enrolled": b,
        "t_enroll": f, "k": i, "touched": i, "block": f, "starts": np.zeros((0, MAX_MODULES)),
        "t_complete": f, "t_unenroll": f, "last_activity": f, "complete_at": f,
        "complete_control": b, "complete_treated": b, "post_nudge": b,
    }  # fmt: skip


def _nudge_truth(
    eng: dict[str, np.ndarray], exposed_at: np.ndarray | None, end: float
) -> dict[str, float]:
    """Potential outcomes of the nudge for every exposed learner of this chunk, counted
    here in numpy (the writer counts them again, per metric, from the events of both
    worlds; the two must agree on completion to date).

    Outcome: the learner has a course_complete at or after their exposure (and before
    ``end``). Enrollments started before the exposure complete identically in both
    worlds; enrollments started after it (inside the experiment) complete under the
    control or the treated hazard, drawn with the same uniform (common random numbers).
    Counted as the data ending at ``end`` shows them: exposures and completions before
    it. Keys: ``nudge_exposed``, ``nudge_y_control``, ``nudge_y_treatment``."""
    if exposed_at is None:
        return {}
    learner = eng["learner"]
    exposed = exposed_at < end
    realized_pre = eng["complete_control"] & ~eng["post_nudge"]
    control = realized_pre | (eng["post_nudge"] & eng["complete_control"])
    treated = realized_pre | (eng["post_nudge"] & eng["complete_treated"])
    after = (eng["complete_at"] >= exposed_at[learner]) & (eng["complete_at"] < end)
    y0 = np.zeros(len(exposed_at), dtype=bool)
    y1 = np.zeros(len(exposed_at), dtype=bool)
    y0[learner[after & control]] = True
    y1[learner[after & treated]] = True
    return {
        "nudge_exposed": float(exposed.sum()),
        "nudge_y_control": float((y0 & exposed).sum()),
        "nudge_y_treatment": float((y1 & exposed).sum()),
    }


def _exposures(
    people: Learners,
    eng: dict[str, np.ndarray],
    experiments: list[ExperimentWindow],
    exp_time: np.ndarray,
    variant: np.ndarray,
    seed: int,
    chunk: int,
    planted: Planted,
    end: float = np.inf,
) -> dict[str, np.ndarray]:
    """Exposure rows (all of the world's); the facts count those before ``end``."""
    r = rng_for(seed, "exposures", chunk)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("exp", "learner", "variant", "t", "kind")}
    facts: dict[str, float] = {}
    views_l = np.concatenate([eng["learner"]] * 3)
    views_t = np.concatenate([eng["t_view"], eng["t_view2"], eng["t_view3"]])
    for xi, x in enumerate(experiments):
        eid = x.experiment.experiment_id
        exposed = np.flatnonzero(np.isfinite(exp_time[xi]))
        n_var = len(x.experiment.variants)
        # first exposure
        ls, ts, vs, kinds = [exposed], [exp_time[xi, exposed]], [variant[xi, exposed]], [0]
        # repeat exposures (same variant) at later views inside the window
        later = (
            np.isfinite(views_t)
            & (views_t < x.end)
            & (views_t > exp_time[xi, views_l])
            & (r.random(len(views_t)) < planted.repeat_exposure_prob)
        )
        ls.append(views_l[later])
        ts.append(views_t[later])
        vs.append(variant[xi, views_l[later]])
        kinds.append(1)
        # multiple-exposure noise: another variant, later in the window
        cross = exposed[r.random(len(exposed)) < planted.cross_variant_share]
        if n_var > 1 and len(cross):
            t0 = exp_time[xi, cross]
            ls.append(cross)
            ts.append(t0 + (x.end - t0) * r.uniform(0.05, 1.0, len(cross)))
            vs.append((variant[xi, cross] + r.integers(1, n_var, len(cross))) % n_var)
            kinds.append(2)
        kind = np.concatenate([np.full(len(a), k) for a, k in zip(ls, kinds, strict=True)])
        lrn = np.concatenate(ls)
        tt = np.concatenate(ts)
        var = np.concatenate(vs)
        keep = tt < x.end
        # sample-ratio mismatch: the log loses every exposure of some non-control learners
        lost = np.zeros(len(people.ids), dtype=bool)
        if eid == planted.srm_experiment:
            first_variant = variant[xi]
            lost = (
                (first_variant >= 0)
                & x.treatment[np.maximum(first_variant, 0)]
                & (r.random(len(people.ids)) < planted.srm_loss)
            )
            keep &= ~lost[lrn]
        lrn, tt, var, kind = lrn[keep], tt[keep], var[keep], kind[keep]
        parts["exp"].append(np.full(len(lrn), xi))
        parts["learner"].append(lrn)
        parts["variant"].append(var)
        parts["t"].append(tt)
        parts["kind"].append(kind)
        seen, first_seen = tt < end, exposed[exp_time[xi, exposed] < end]
        facts[f"{eid}:exposed"] = float(len(first_seen))
        facts[f"{eid}:logged_learners"] = float(len(np.unique(lrn[seen])))
        facts[f"{eid}:cross_variant_learners"] = float(len(np.unique(lrn[seen & (kind == 2)])))
        facts[f"{eid}:cross_variant_rows"] = float((seen & (kind == 2)).sum())
        facts[f"{eid}:srm_lost_learners"] = float(lost[first_seen].sum())
        for j, v in enumerate(x.experiment.variants):
            facts[f"{eid}:first:{v.name}"] = float((variant[xi, first_seen] == j).sum())
    out = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in parts.items()}
    order = np.lexsort((out["kind"], out["t"], out["learner"], out["exp"]))
    out = {k: v[order] for k, v in out.items()}
    out["_facts"] = facts  # type: ignore[assignment]
    return out


def _coaching(
    eng: dict[str, np.ndarray],
    holdout: np.ndarray,
    msgs: dict[str, np.ndarray],
    seed: int,
    chunk: int,
    horizon: float,
    planted: Planted,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r = rng_for(seed, "coaching", chunk)
    target = np.flatnonzero(eng["enrolled"] & ~holdout[eng["learner"]])
    count = r.poisson(planted.deliveries_per_enrollment, len(target))
    src = np.repeat(target, count)
    lo = eng["t_enroll"][src] + HOUR
    hi = np.maximum(eng["last_activity"][src] + 3 * DAY, lo + HOUR)
    t = lo + (hi - lo) * r.random(len(src))
    n_msg = len(msgs["first_row"])
    if n_msg == 0:
        src, t = src[:0], t[:0]
    pick = r.integers(0, max(n_msg, 1), len(src))
    row = msgs["first_row"][pick] + np.floor(r.random(len(src)) * msgs["n_variants"][pick]).astype(
        int
    )
    keep = t < horizon
    src, t, row = src[keep], t[keep], row[keep]
    order = np.lexsort((row, t, eng["learner"][src]))
    src, t, row = src[order], t[order], row[order]
    deliveries = {"eng": src, "t": t, "msg_row": row}

    rr = rng_for(seed, "responses", chunk)
    d = len(src)
    clicked = rr.random(d) < planted.click_prob
    t_click = t + rr.exponential(2 * HOUR, d) + 5
    feedback = rr.random(d) < planted.feedback_prob
    t_feedback = np.where(clicked, t_click, t) + rr.exponential(4 * HOUR, d) + 5
    dismissed = rr.random(d) < planted.dismiss_share
    helpful = rr.random(d) < msgs["helpful"][row]
    fb_kind = np.where(dismissed, 3, np.where(helpful, 1, 2))  # helpful / not_helpful / dismissed
    rid = np.concatenate([np.flatnonzero(clicked), np.flatnonzero(feedback)])
    rkind = np.concatenate([np.zeros(int(clicked.sum()), dtype=int), fb_kind[feedback]])
    rt = np.concatenate([t_click[clicked], t_feedback[feedback]])
    keep = rt < horizon
    rid, rkind, rt = rid[keep], rkind[keep], rt[keep]
    order = np.lexsort((rt, rid))
    responses = {"delivery": rid[order], "kind": rkind[order], "t": rt[order]}
    return deliveries, responses


def _goals(
    people: Learners,
    eng: dict[str, np.ndarray],
    seed: int,
    chunk: int,
    horizon: float,
    planted: Planted,
    day_offset: float,
) -> dict[str, np.ndarray]:
    r = rng_for(seed, "goals", chunk)
    enrolled = np.flatnonzero(eng["enrolled"])
    # the learner's first enrollment
    order = enrolled[np.lexsort((eng["t_enroll"][enrolled], eng["learner"][enrolled]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = eng["learner"][order][1:] != eng["learner"][order][:-1]
    cand = order[first]
    share = planted.goal_share * len(people.ids) / max(len(cand), 1)
    chosen = cand[r.random(len(cand)) < min(share, 1.0)]
    created = eng["t_enroll"][chosen] + np.minimum(r.exponential(DAY, len(chosen)), 10 * DAY)
    # calendar days since the midnight that starts the world
    target_day = np.floor((created + day_offset) / DAY) + r.integers(30, 121, len(chosen))
    text = r.integers(0, len(GOAL_TEXTS), len(chosen))
    keep = created < horizon
    chosen, created, target_day, text = chosen[keep], created[keep], target_day[keep], text[keep]
    achieved = np.nan_to_num(eng["t_complete"][chosen], nan=np.inf) < target_day * DAY - day_offset
    return {
        "eng": chosen,
        "learner": eng["learner"][chosen],
        "t": created,
        "target_day": target_day,
        "text": text,
        "achieved": achieved,
    }
