"""The vocabulary of the consumer-side suites: each rule is a few great-expectations checks.

A :class:`Rule` is what the engineering side relies on, in words (``description``), plus
the great-expectations expectations that check it. Expectations are built fresh for every
run (``Check.build``), so one suite definition serves any number of data contexts.

Some rules need a column computed from the mart first (``derive``): "ranks contiguous"
compares each rank with its position among the ranks of its partition, a compound key is
checked on whether each row's key repeats elsewhere. Both are computed vectorized, on one
packed integer per row, and give row by row what grouping (or great-expectations' own
compound check) gives. Derived columns are named ``<column>__<what>`` so they never
collide with a mart's own columns.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Largest finite double: ``between(-MAX, MAX)`` plus ``not null`` means "finite"
#: (pandas reads NaN as missing, and ±inf falls outside the bounds).
MAX_DOUBLE = sys.float_info.max


@dataclass(frozen=True)
class Check:
    """One great-expectations expectation, by class name and arguments."""

    expectation: str
    kwargs: Mapping[str, Any]
    description: str

    def build(self) -> Any:
        import great_expectations as gx

        cls = getattr(gx.expectations, self.expectation)
        return cls(**dict(self.kwargs), description=self.description)


@dataclass(frozen=True)
class Rule:
    """A consumer-side rule: its checks, the derived columns they need, and the columns it
    groups rows by (a compound key, a partition).

    Text columns in ``groups`` are read as pandas categoricals (the same values, stored
    as codes): a key or a partition then packs into one integer per row (no string is
    hashed), see :func:`_packed`.

    ``derive(frame, memo=None)`` returns the frame with the derived columns; ``memo`` (a
    dict, one per frame, see :meth:`MartSuite.prepare`) lets rules on the same columns
    share one sort.

    ``whole`` names the columns of a rule that holds of the table as a whole, not within
    each group of rows (a single value, a one-column key): when a mart is validated in
    parts (:attr:`MartSuite.part_by`), such a rule is checked once, on these columns of
    every row.
    """

    checks: tuple[Check, ...]
    derive: Callable[..., pd.DataFrame] | None = field(default=None, compare=False)
    groups: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(columns)


def columns_present(*columns: str) -> Rule:
    """The columns the package reads exist (more columns are fine)."""
    return Rule(
        (
            Check(
                "ExpectTableColumnsToMatchSet",
                {"column_set": list(columns), "exact_match": False},
                f"Columns the package reads are present: {_cols(columns)}.",
            ),
        )
    )


def unique(*columns: str, why: str = "") -> Rule:
    """One row per combination of ``columns`` (a single column or a compound key).

    A compound key is checked on the derived boolean column ``<a>__<b>__…__unique``:
    whether no other row holds the same values (:func:`_duplicated`). That is
    great-expectations' own compound check (``ExpectCompoundColumnsToBeUnique``: rows
    where every key value is missing are left out, the others fail when their values
    repeat) row by row, computed by sorting one packed integer per row instead of hashing
    each column, then the rows (0.3 s instead of 0.8 to 1.1 s on ``recommendations`` at
    ``medium``).
    """
    text = f"Key unique: one row per {_cols(columns)}." + (f" {why}" if why else "")
    if len(columns) == 1:
        return Rule(
            (Check("ExpectColumnValuesToBeUnique", {"column": columns[0]}, text),),
            whole=columns,
        )
    derived = "__".join(columns) + "__unique"

    return _derived_flag(
        derived,
        lambda df, memo=None: ~_duplicated(df, columns, memo),
        f"{text} (`{derived}` is whether no other row has the same {_cols(columns)}.)",
        groups=tuple(columns),
    )


def _derived_flag(
    derived: str,
    flag: Callable[..., Any],
    text: str,
    groups: tuple[str, ...] = (),
) -> Rule:
    """A rule checked on a derived boolean column: ``derived`` = ``flag(frame, memo)``
    (one value per row), and every row must be True."""

    def derive(df: pd.DataFrame, memo: dict | None = None) -> pd.DataFrame:
        return df.assign(**{derived: flag(df, memo)})

    return Rule(
        (Check("ExpectColumnValuesToBeInSet", {"column": derived, "value_set": [True]}, text),),
        derive=derive,
        groups=groups,
    )


def not_null(*columns: str) -> Rule:
    """Never null."""
    return Rule(
        tuple(
            Check("ExpectColumnValuesToNotBeNull", {"column": c}, f"`{c}` is never null.")
            for c in columns
        )
    )


def between(
    column: str,
    min_value: float | None = None,
    max_value: float | None = None,
    *,
    strict_min: bool = False,
    what: str = "",
) -> Rule:
    """Within [min, max] (nulls are not checked here: pair with :func:`not_null`)."""
    lo = "-∞" if min_value is None else f"{min_value:g}"
    hi = "+∞" if max_value is None else f"{max_value:g}"
    interval = f"{'(' if strict_min else '['}{lo}, {hi}]"
    kwargs: dict[str, Any] = {"column": column, "min_value": min_value, "max_value": max_value}
    if strict_min:
        kwargs["strict_min"] = True
    text = f"`{column}` in {interval}" + (f": {what}." if what else ".")
    return Rule((Check("ExpectColumnValuesToBeBetween", kwargs, text),))


def probability(*columns: str) -> Rule:
    """A probability or a p-value: in [0, 1] where not null."""
    return Rule(
        tuple(
            Check(
                "ExpectColumnValuesToBeBetween",
                {"column": c, "min_value": 0, "max_value": 1},
                f"`{c}` is a probability: in [0, 1] where not null.",
            )
            for c in columns
        )
    )


def finite(*columns: str) -> Rule:
    """Not null, not NaN, not ±infinity."""
    return Rule(
        tuple(
            check
            for c in columns
            for check in (
                Check(
                    "ExpectColumnValuesToNotBeNull", {"column": c}, f"`{c}` is never null or NaN."
                ),
                Check(
                    "ExpectColumnValuesToBeBetween",
                    {"column": c, "min_value": -MAX_DOUBLE, "max_value": MAX_DOUBLE},
                    f"`{c}` is finite (no ±infinity).",
                ),
            )
        )
    )


def one_of(column: str, values: Sequence[Any]) -> Rule:
    """An enum: only these values (nulls are not checked here)."""
    return Rule(
        (
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": column, "value_set": list(values)},
                f"`{column}` is one of: {_cols([str(v) for v in values])}.",
            ),
        )
    )


def no_tokens(*columns: str) -> Rule:
    """Rendered text: no template token left (no ``{`` or ``}``), not empty."""
    return Rule(
        tuple(
            check
            for c in columns
            for check in (
                Check(
                    "ExpectColumnValuesToNotMatchRegex",
                    {"column": c, "regex": r"[{}]"},
                    f"`{c}` is rendered text: no `{{` or `}}` left (an unrendered "
                    "template token would reach the learner).",
                ),
                Check(
                    "ExpectColumnValueLengthsToBeBetween",
                    {"column": c, "min_value": 1},
                    f"`{c}` is not empty.",
                ),
            )
        )
    )


def differ(column_a: str, column_b: str, why: str) -> Rule:
    """Two columns never hold the same value in a row (two nulls count as the same).

    Checked on the derived boolean column ``<a>__differs_from_<b>``: great-expectations'
    own multi-column check (``ExpectSelectColumnValuesToBeUniqueWithinRecord``) runs a
    Python function per row on pandas, seconds at ``medium``; this is one vectorized
    comparison, with the same outcome row by row.
    """
    derived = f"{column_a}__differs_from_{column_b}"

    def differs(df: pd.DataFrame, memo: dict | None = None) -> pd.Series:
        a, b = _plain_values(df[column_a]), _plain_values(df[column_b])
        return ~((a == b).fillna(False).astype(bool) | (a.isna() & b.isna()))

    return _derived_flag(
        derived,
        differs,
        f"`{column_a}` ≠ `{column_b}`: {why} (`{derived}` is whether they differ).",
    )


def at_least(column_a: str, column_b: str, why: str) -> Rule:
    """``column_a >= column_b`` wherever both are set."""
    return Rule(
        (
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": column_a,
                    "column_B": column_b,
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                f"`{column_a}` ≥ `{column_b}`: {why}.",
            ),
        )
    )


def single_value(column: str, why: str) -> Rule:
    """The whole table holds one value of ``column`` (e.g. one build's "now")."""
    return Rule(
        (
            Check(
                "ExpectColumnUniqueValueCountToBeBetween",
                {"column": column, "min_value": 1, "max_value": 1},
                f"`{column}` holds a single value: {why}.",
            ),
        ),
        whole=(column,),
    )


def ranks_contiguous(column: str, partition_by: Sequence[str]) -> Rule:
    """Within each partition the ranks are exactly 1, 2, …, n: no gap, no repeat, no 0.

    Derivation: sort each partition by rank; the i-th rank must equal i. A gap (1, 2, 4)
    gives 4 ≠ 3, a repeat (1, 1, 2) gives 1 ≠ 2, a start at 0 gives 0 ≠ 1. The derived
    column ``<column>__expected`` holds i.

    i is counted along the rows sorted by (partition, rank), one packed integer per row
    (:func:`_positions`: a stable sort, so repeats take consecutive places in table order;
    rows that already come in that order are not sorted again). Where that is not
    possible (a null, a text column not read as a categorical) it falls back to grouping.
    Both give the same i row by row.
    """
    expected = f"{column}__expected"
    keys = list(partition_by)

    def derive(df: pd.DataFrame, memo: dict | None = None) -> pd.DataFrame:
        position = _positions(df, keys, column, memo)
        if position is None:
            # rank(method="first"): the position of each value in its partition's sorted
            # order, repeats taking consecutive positions in table order; nulls go last.
            position = df.groupby(keys, sort=False, dropna=False)[column].rank(
                method="first", na_option="bottom"
            )
        return df.assign(**{expected: np.asarray(position).astype("int64")})

    return Rule(
        (
            Check(
                "ExpectColumnPairValuesToBeEqual",
                {
                    "column_A": column,
                    "column_B": expected,
                    "ignore_row_if": "both_values_are_missing",
                },
                f"Ranks contiguous: within each {_cols(keys)}, `{column}` runs 1, 2, …, n "
                f"(the i-th smallest rank equals i; `{expected}` is i).",
            ),
        ),
        derive=derive,
        groups=tuple(keys),
    )


def _sortable(column: pd.Series) -> np.ndarray | None:
    """Integers ordered as the column's values, equal where they are equal (None when the
    column has nulls, or no cheap integer form: floats, text not read as categorical)."""
    if column.hasnans:
        return None
    if isinstance(column.dtype, pd.CategoricalDtype):
        # codes follow first appearance; map each to its category's place in sorted order
        order = np.argsort(np.argsort(np.asarray(column.cat.categories, dtype=object)))
        return order[column.cat.codes.to_numpy()]
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype="int64")
    return None


def _packed(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """One int64 per row, ordered as the rows' tuples of ``arrays`` (lexicographically)
    and equal exactly where the tuples are equal; None when it would not fit in 63 bits.

    Each array is shifted to start at 0, then ``key = key * span + value`` column by column
    (``span``: the column's max - min + 1), the mixed-radix number of the tuple.
    """
    bounds = [(int(a.min()), int(a.max())) for a in arrays]
    if math.prod(hi - lo + 1 for lo, hi in bounds) >= 2**63:
        return None
    key = np.zeros(len(arrays[0]), dtype="int64")
    for a, (lo, hi) in zip(arrays, bounds, strict=True):
        key *= hi - lo + 1
        key += a - lo  # shifted first: ids near the int64 limits never overflow
    return key


@dataclass(frozen=True)
class _SortedKey:
    """The packed ``columns`` of a frame (:func:`_packed`), the stable order that sorts
    them (None: already sorted), and the span of the last column (``key // last_span`` is
    the packed value of the others)."""

    key: np.ndarray
    order: np.ndarray | None
    last_span: int

    def in_order(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]

    def in_table_order(self, values: np.ndarray) -> np.ndarray:
        """``values`` given in sorted order, put back in table order."""
        if self.order is None:
            return values
        out = np.empty_like(values)
        out[self.order] = values
        return out


def _sorted_key(
    df: pd.DataFrame, columns: Sequence[str], memo: dict | None = None
) -> _SortedKey | None:
    """The sorted packed key of ``columns`` (None when a column has nulls or no cheap
    integer form, see :func:`_sortable`, or they do not pack in 63 bits); kept in ``memo``
    so that rules on the same columns of the same frame sort once."""
    cache_key = ("sorted_key", tuple(columns))
    if memo is not None and cache_key in memo:
        return memo[cache_key]
    found = None
    arrays = [_sortable(df[c]) for c in columns]
    if len(df) and all(a is not None for a in arrays):
        key = _packed(arrays)
        if key is not None:
            order = None if np.all(key[1:] >= key[:-1]) else np.argsort(key, kind="stable")
            last = arrays[-1]
            found = _SortedKey(key, order, int(last.max()) - int(last.min()) + 1)
    if memo is not None:
        memo[cache_key] = found
    return found


def _positions(
    df: pd.DataFrame, keys: list[str], column: str, memo: dict | None = None
) -> np.ndarray | None:
    """Each row's 1-based position among its partition's rows (the rows equal on ``keys``)
    ordered by ``column``, ties in table order; None when the columns have nulls or no
    cheap integer form (see :func:`_sortable`) or do not pack in 63 bits.

    Rows sorted (stably) by the packed (partition, rank) make each partition one run of
    consecutive rows, ranks ascending within it; a row's position is its offset from its
    run's start, put back in table order.
    """
    n = len(df)
    if n == 0:
        return np.zeros(0, dtype="int64")
    sorted_key = _sorted_key(df, [*keys, column], memo)
    if sorted_key is None:
        return None
    partition = sorted_key.in_order(sorted_key.key) // sorted_key.last_span
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    np.not_equal(partition[1:], partition[:-1], out=new_run[1:])
    index = np.arange(n)
    start = np.maximum.accumulate(np.where(new_run, index, 0))
    return sorted_key.in_table_order(index - start + 1)


def _duplicated(df: pd.DataFrame, columns: Sequence[str], memo: dict | None = None) -> np.ndarray:
    """Whether another row holds the same values of ``columns`` — great-expectations'
    compound-uniqueness condition negated, row by row: rows where every value is missing
    are never duplicates; the others are compared as pandas does (two nulls are equal).

    Cheap path (no nulls, integer or categorical columns that pack in 63 bits): sort the
    packed values (stably; not at all when already sorted), mark each row equal to its
    neighbour, put the marks back in table order. Otherwise pandas' ``duplicated``, the
    very call great-expectations makes.
    """
    n = len(df)
    sorted_key = _sorted_key(df, columns, memo) if n else None
    if sorted_key is None:
        subset = df[list(columns)]
        all_missing = subset.isna().all(axis=1).to_numpy()
        out = np.zeros(n, dtype=bool)
        out[~all_missing] = subset[~all_missing].duplicated(keep=False).to_numpy()
        return out
    ordered = sorted_key.in_order(sorted_key.key)
    same = ordered[1:] == ordered[:-1]
    repeated = np.zeros(n, dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    return sorted_key.in_table_order(repeated)


def _plain_values(column: pd.Series) -> pd.Series:
    """A categorical column as its plain values (two categoricals with different
    categories cannot be compared); any other column as is."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype(column.cat.categories.dtype)
    return column


@dataclass(frozen=True)
class MartSuite:
    """The expectations the package has of one public mart.

    ``key`` is the primary key (checked unique and never null); ``rules`` hold the other
    checks; ``min_rows`` is the fewest rows a healthy build has (0 when
    an empty table is legitimate, e.g. no goals yet); against a previous snapshot the row
    count must stay within ``previous * (1 ± row_count_tolerance)``, widened by
    ``row_count_slack`` rows so that tiny tables do not flap.

    ``part_by`` names a column by whose values the mart can be validated in parts, so that
    a mart too big for memory is never held whole (``recommendations`` at ``large``: 50
    million rows). Every rule that groups rows (a compound key, a rank partition) must
    group by it, so that each group lies in one part and a part's result is that of its
    rows in the whole table; the rules that hold of the table as a whole (the row count,
    :attr:`Rule.whole`) are checked once, on their columns alone (see
    :meth:`part_checks`, :meth:`whole_checks`).
    """

    mart: str
    purpose: str
    key: tuple[str, ...]
    rules: tuple[Rule, ...]
    min_rows: int = 1
    row_count_tolerance: float = 0.5
    row_count_slack: int = 5
    part_by: str | None = None

    def __post_init__(self) -> None:
        if self.part_by is None:
            return
        for rule in self._all_rules():
            if rule.groups and self.part_by not in rule.groups:
                raise ValueError(
                    f"suite {self.mart}: part_by={self.part_by!r}, but a rule groups rows by "
                    f"{_cols(rule.groups)}: its groups could span parts"
                )

    def row_count_bounds(self, previous_rows: int | None) -> tuple[int, int | None]:
        """(min, max) rows accepted: ``min_rows`` alone, or around the previous snapshot."""
        if previous_rows is None:
            return self.min_rows, None
        low = math.floor(previous_rows * (1 - self.row_count_tolerance)) - self.row_count_slack
        high = math.ceil(previous_rows * (1 + self.row_count_tolerance)) + self.row_count_slack
        return max(self.min_rows, low), high

    def row_count_check(self, previous_rows: int | None) -> Check:
        low, high = self.row_count_bounds(previous_rows)
        if previous_rows is None:
            text = f"At least {low} row(s) (no previous snapshot to compare with)."
        else:
            text = (
                f"Row count within ±{self.row_count_tolerance:.0%} (± {self.row_count_slack} "
                f"rows) of the previous snapshot's {previous_rows}: [{low}, {high}]."
            )
        return Check("ExpectTableRowCountToBeBetween", {"min_value": low, "max_value": high}, text)

    def key_rules(self) -> tuple[Rule, ...]:
        """The rules of the key: unique, never null."""
        return (unique(*self.key, why="The package looks rows up by it."), not_null(*self.key))

    def _all_rules(self) -> tuple[Rule, ...]:
        return (*self.key_rules(), *self.rules)

    def checks(self, previous_rows: int | None = None) -> list[Check]:
        """Every check: the row count, the key (unique, never null), then the rules."""
        return [self.row_count_check(previous_rows)] + [
            c for r in self._all_rules() for c in r.checks
        ]

    def part_checks(self) -> list[Check]:
        """The checks run on each part of a mart validated in parts: those of the rules
        that hold within groups of rows, or row by row."""
        return [c for r in self._all_rules() if not r.whole for c in r.checks]

    def whole_checks(self, previous_rows: int | None = None) -> list[Check]:
        """The checks run once on a mart validated in parts: the row count, and those of
        the rules that hold of the table as a whole (on :meth:`whole_columns`)."""
        return [self.row_count_check(previous_rows)] + [
            c for r in self._all_rules() if r.whole for c in r.checks
        ]

    def whole_columns(self) -> tuple[str, ...]:
        """The columns :meth:`whole_checks` read."""
        return tuple(dict.fromkeys(c for r in self._all_rules() for c in r.whole))

    def group_columns(self) -> tuple[str, ...]:
        """Columns some check groups rows by (compound keys, rank partitions): text ones
        are read as categoricals (see :class:`Rule`)."""
        seen = dict.fromkeys(c for r in self._all_rules() for c in r.groups)
        return tuple(seen)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The mart with the derived columns the checks need (rules on the same columns
        share one sort: the key's uniqueness and its ranks, say)."""
        memo: dict = {}
        for rule in self._all_rules():
            if rule.derive is not None:
                frame = rule.derive(frame, memo)
        return frame
