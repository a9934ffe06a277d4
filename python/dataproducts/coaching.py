"""The coaching product, engineering side: read the queue, and reference implementations
of the rules the dbt models apply, which the tests check the SQL against.

The warehouse tables are built by dbt (``models/*/coaching``); this module reads them
and re-derives, independently, what the SQL computes:

>>> render("Hi {first_name}!", {"first_name": "<b>Bo</b>"}, TOKENS)
'Hi &lt;b&gt;Bo&lt;/b&gt;!'
>>> render("Hi {first_name}!", {"first_name": None}, TOKENS)
'Hi friend!'
>>> is_holdout(42)  # bucket("coaching-holdout-v1", 42) = 9061 >= 1000
False
>>> round(hash_unit(7, "2026-11-01", 1, "m1", "uniform"), 5)
0.10617
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from .allocation import BUCKETS, bucket
from .errors import ConfigurationError, WarehouseError
from .paths import SEEDS_DIR, default_duckdb_path

#: Defaults of the dbt vars (dbt_project.yml, block "coaching").
HOLDOUT_SALT = "coaching-holdout-v1"
HOLDOUT_SHARE = 0.10
THOMPSON_SEED = 7
EXPLORATION_RATE = 0.10
QUANTILE_LEVELS = 1000


@dataclass(frozen=True)
class Token:
    """A personalization token of seed ``coaching_tokens``."""

    name: str
    fallback: str
    max_length: int


def load_tokens(seeds_dir: Path | None = None) -> dict[str, Token]:
    """The tokens of ``seeds/coaching/coaching_tokens.csv``, by name."""
    path = Path(seeds_dir or SEEDS_DIR) / "coaching" / "coaching_tokens.csv"
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"coaching token seed not found: {path}. Run from a checkout of the repository "
            "or pass seeds_dir=."
        ) from exc
    return {r["token"]: Token(r["token"], r["fallback"], int(r["max_length"])) for r in rows}


TOKENS: dict[str, Token] = load_tokens()

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "{": "&#123;",
    "}": "&#125;",
}


def escape(text: str) -> str:
    """HTML-escape ``& < > " '`` and the template braces ``{ }``."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def bounded(text: str, max_length: int) -> str:
    """Trimmed text of at most ``max_length`` characters; a cut ends with "…"."""
    text = text.strip()
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def token_value(raw: object, token: Token) -> str:
    """What replaces ``{token}``: the bounded, escaped value, or the escaped fallback."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return escape(token.fallback)
    value = escape(bounded(str(raw), token.max_length))
    return value or escape(token.fallback)


def render(template: str, values: Mapping[str, object], tokens: Mapping[str, Token]) -> str:
    """Fill a template: every known token gets its bounded, escaped value or fallback.

    Values are escaped (braces included) before they are inserted, so a value can never
    spell a token: the result does not depend on the order of replacement.
    """
    out = template
    for name, token in tokens.items():
        out = out.replace("{" + name + "}", token_value(values.get(name), token))
    return out


def is_holdout(
    learner_id: int | str, salt: str = HOLDOUT_SALT, share: float = HOLDOUT_SHARE
) -> bool:
    """Whether a learner is in the coaching holdout (never coached)."""
    return bucket(salt, learner_id) < round(share * BUCKETS)


def hash_unit(*parts: object) -> float:
    """The deterministic uniform number of the SQL macro ``coaching_hash_unit``."""
    digest = hashlib.md5("|".join(str(p) for p in parts).encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def thompson_choice(
    variants: Sequence[tuple[str, int, int]],
    learner_id: int,
    message_id: str,
    day: str,
    seed: int = THOMPSON_SEED,
    exploration_rate: float = EXPLORATION_RATE,
) -> tuple[str, str]:
    """The variant and selection method of ``int_coaching_variants_drawn``.

    ``variants``: (variant, posterior_alpha, posterior_beta) of the eligible variants.
    Draws use the exact Beta quantile (scipy) at the model's level (k + 0.5) / 1000.
    """
    from scipy.stats import beta

    ordered = sorted(variants)
    if len(ordered) == 1:
        return ordered[0][0], "only_variant"
    key = (seed, day, learner_id, message_id)
    if hash_unit(*key, "explore") < exploration_rate:
        return ordered[math.floor(hash_unit(*key, "uniform") * len(ordered))][0], "exploration"
    draws = []
    for name, a, b in ordered:
        level = (math.floor(hash_unit(*key, name) * QUANTILE_LEVELS) + 0.5) / QUANTILE_LEVELS
        draws.append((-float(beta.ppf(level, a, b)), name))
    return min(draws)[1], "thompson"


@dataclass(frozen=True)
class QueuedMessage:
    """One row of the public table ``marts.coaching_queue``."""

    learner_id: int
    course_id: int
    message_id: str
    variant: str
    message_type: str
    segment_id: str
    rendered_text: str
    priority: int
    send_after: datetime
    reason: str
    generated_at: datetime


def _read(sql: str, params: list[object], duckdb_path: str | Path | None) -> pd.DataFrame:
    import duckdb

    path = Path(duckdb_path) if duckdb_path else default_duckdb_path()
    if not path.exists():
        raise WarehouseError(
            f"no DuckDB warehouse at {path}: run `dataproducts generate` then `dbt build`, "
            "or point $DATAPRODUCTS_DUCKDB at a built warehouse."
        )
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        try:
            return con.execute(sql, params).df()
        except duckdb.CatalogException as exc:
            raise WarehouseError(
                f"a coaching table is missing in {path}: run `dbt build` first ({exc})."
            ) from exc


def queue(duckdb_path: str | Path | None = None) -> pd.DataFrame:
    """The whole coaching queue, by send_after then learner."""
    return _read(
        "select * from marts.coaching_queue order by send_after, learner_id, course_id, message_id",
        [],
        duckdb_path,
    )


def queue_for(learner_id: int, duckdb_path: str | Path | None = None) -> list[QueuedMessage]:
    """The messages queued for one learner (empty for an unknown or holdout learner)."""
    rows = _read(
        "select * from marts.coaching_queue where learner_id = ? order by send_after, course_id",
        [learner_id],
        duckdb_path,
    )
    return [
        QueuedMessage(
            learner_id=int(r.learner_id),
            course_id=int(r.course_id),
            message_id=str(r.message_id),
            variant=str(r.variant),
            message_type=str(r.message_type),
            segment_id=str(r.segment_id),
            rendered_text=str(r.rendered_text),
            priority=int(r.priority),
            send_after=r.send_after.to_pydatetime(),
            reason=str(r.reason),
            generated_at=r.generated_at.to_pydatetime(),
        )
        for r in rows.itertuples(index=False)
    ]


def message_performance(duckdb_path: str | Path | None = None) -> pd.DataFrame:
    """``marts.coaching_message_performance``: feedback, posterior and suppression."""
    return _read(
        "select * from marts.coaching_message_performance order by message_id, grain, variant",
        [],
        duckdb_path,
    )
