"""Checks of the arguments of the public API: a bad argument is an
:class:`~dataproducts.errors.InvalidArgumentError` that says what is accepted, never an
engine's or Python's own exception.

Ids are integers in the range of the raw contract's ``bigint``. A learner id may also be
written as text (ASCII digits, optional sign, blanks around, leading zeros): the
canonical form is the integer, hashed as SQL writes it (see :mod:`dataproducts.allocation`).

>>> as_id(" 012 ", "learner_id", text=True)
12
>>> as_id(12.0, "learner_id")
Traceback (most recent call last):
    ...
dataproducts.errors.InvalidArgumentError: learner_id must be an integer id, got float 12.0 (pass int(x) if it is a whole number)
"""

from __future__ import annotations

import operator
import re

from .errors import InvalidArgumentError

#: The range of a SQL ``bigint`` (every id column of the raw contract).
ID_MIN, ID_MAX = -(2**63), 2**63 - 1
#: An id written as text: ASCII digits, an optional sign, blanks around.
_ID_TEXT = re.compile(r"[ \t\r\n]*([+-]?[0-9]{1,30})[ \t\r\n]*")
#: Longest text argument (experiment ids, modules, schemas) worth sending to an engine.
MAX_TEXT = 200


def as_id(value: object, name: str, *, text: bool = False) -> int:
    """``value`` as an integer id in the 64-bit range (numpy integers too; digit strings
    when ``text``), or :class:`InvalidArgumentError`."""
    if type(value) is int:  # the common case, first
        number = value
    elif isinstance(value, str) and text:
        match = _ID_TEXT.fullmatch(value)
        if match is None:
            raise InvalidArgumentError(
                f"{name} must be an integer id (digits, e.g. 17), got {value!r}"
            )
        number = int(match.group(1))
    elif isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be an integer id, got the boolean {value!r}")
    else:
        try:
            number = operator.index(value)  # type: ignore[arg-type]  # int subclasses, numpy ints
        except TypeError:
            whole = isinstance(value, float) and value.is_integer()
            hint = " (pass int(x) if it is a whole number)" if whole else ""
            raise InvalidArgumentError(
                f"{name} must be an integer id, got {type(value).__name__} {value!r}{hint}"
            ) from None
    if not ID_MIN <= number <= ID_MAX:
        raise InvalidArgumentError(
            f"{name} {number} is outside the 64-bit range of ids (-2^63 to 2^63-1, a SQL bigint)"
        )
    return int(number)


def as_limit(limit: object) -> int:
    """A positive row limit, or InvalidArgumentError."""
    n = as_id(limit, "limit")
    if n < 1:
        raise InvalidArgumentError(f"limit must be at least 1 (or None for all), got {n}")
    return n


def as_text(value: object, name: str, *, example: str = "") -> str:
    """A non-empty string argument without NUL characters, or InvalidArgumentError."""
    like = f", e.g. {example!r}" if example else ""
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{name} must be a string{like}, got {type(value).__name__} {_short(value)}"
        )
    if not value or "\x00" in value or len(value) > MAX_TEXT:
        raise InvalidArgumentError(
            f"{name} must be a non-empty string of at most {MAX_TEXT} characters without NUL"
            f"{like}, got {_short(value)}"
        )
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
