"""The coaching product, build side: reference implementations of the rules the dbt models
apply, which the tests check the SQL against. The warehouse tables are built by dbt
(``models/*/coaching``); this module re-derives, independently, what the SQL computes:

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

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dataproducts.allocation import BUCKETS, bucket
from dataproducts.paths import SEEDS_DIR, read_seed_rows

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
    rows = read_seed_rows(path, "coaching token")
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


#: Whitespace that :func:`inert` turns into a space, besides the Unicode separators
#: (categories Zs, Zl, Zp): tab, line feed, vertical tab, form feed, carriage return, NEL.
_SPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x85")
#: Invisible code points of other categories than Cc / Cf that :func:`inert` removes:
#: combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian free
#: variation selectors, variation selectors (and their supplement), and the Egyptian
#: hieroglyph format controls added after Unicode 14 (Cf from Unicode 15 on).
_INVISIBLE_EXTRA = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0),
        *range(0xFE00, 0xFE10),
        *range(0x13439, 0x13440),
        *range(0xE0100, 0xE01F0),
    ]
)


def inert(text: str) -> str:
    r"""Text safe to display as plain text (the rule of the SQL macro ``coaching_inert_text``).

    Whitespace (tab, line breaks, NEL and the separators Zs/Zl/Zp) becomes a space;
    control (Cc, NUL included) and format (Cf: bidi overrides and isolates, zero-width
    characters, BOM, soft hyphen, tags...) characters and other invisible characters are
    removed; runs of spaces become one. Trimming is :func:`bounded`'s.

    >>> inert("Bo\u202eb\u200b \t\x00Lee")
    'Bob Lee'
    """
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _SPACE_CONTROLS or category in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif category in ("Cc", "Cf") or ord(ch) in _INVISIBLE_EXTRA:
            continue
        else:
            out.append(ch)
    return re.sub(" {2,}", " ", "".join(out))


def bounded(text: str, max_length: int) -> str:
    """Trimmed text of at most ``max_length`` characters; a cut ends with "…"."""
    text = text.strip()
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def token_value(raw: object, token: Token) -> str:
    """What replaces ``{token}``: the inert, bounded, escaped value, or the escaped
    fallback when there is none or nothing visible is left of it."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return escape(token.fallback)
    value = escape(bounded(inert(str(raw)), token.max_length))
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
