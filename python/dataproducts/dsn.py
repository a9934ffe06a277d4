"""PostgreSQL connection strings in messages: never a character of the password.

A target is a URL (``postgresql://user:password@host:5432/db?sslpassword=...``) or a libpq
``key=value`` string (``host=h password='my secret'``). :func:`mask_dsn` replaces every
password (``password``, ``sslpassword``, any key that names one) with ``***`` whatever it
holds: quotes, blanks, ``@``, ``:``, ``/``, ``\\``, ``=``, percent-encoding. It errs on the
side of hiding: in a URL everything between ``//`` and the *last* ``@`` that follows a
``:`` is hidden (libpq stops at the first ``@``, a password may hold more), and in a
``key=value`` string the words after a password that are not ``key=value`` pairs (an
unquoted password with a blank) are hidden too. :func:`scrub` removes the passwords
from any text, such as the driver's error message.

>>> mask_dsn("postgresql://u:se@cret@db.example:5432/app")
'postgresql://u:***@db.example:5432/app'
>>> mask_dsn("host=db password='my secret' dbname=app")
'host=db password=*** dbname=app'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import unquote

MASK = "***"
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.DOTALL)
_SECRET_KEY = re.compile(r"pass(word)?|secret|token", re.IGNORECASE)
_PAIR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[ \t\r\n\f\v]*=")


def _is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(unquote(key)))


def _secret_spans(text: str) -> list[tuple[int, int]]:
    """Where the passwords are in ``text`` (start, end), URL or ``key=value``."""
    m = _URL.match(text)
    if m:
        return _url_spans(text, len(m.group(1)))
    return _keyvalue_spans(text)


def _url_spans(text: str, start: int) -> list[tuple[int, int]]:
    spans = []
    rest = text[start:]
    at = rest.rfind("@")
    if at >= 0:
        userinfo = rest[:at]
        colon = userinfo.find(":")
        # user[:password]@ : hide from the first ':' (or the whole userinfo when the
        # user part is not a plain name) up to the last '@'
        if colon >= 0 and not re.search(r"[/?#]", userinfo[:colon]):
            spans.append((start + colon + 1, start + at))
        elif colon >= 0 or re.search(r"[/?#]", userinfo):
            spans.append((start, start + at))
        # else: a user name alone, no password
    query = text.find("?", start + max(at, 0))
    if query >= 0:
        pos = query + 1
        for part in re.finditer(r"[^&#]*", text[pos:]):
            piece = part.group(0)
            if "=" in piece:
                key = piece.split("=", 1)[0]
                if _is_secret_key(key):
                    eq = pos + part.start() + len(key) + 1
                    spans.append((eq, pos + part.end()))
    return spans


def _keyvalue_spans(text: str) -> list[tuple[int, int]]:
    """libpq's conninfo grammar: ``key = value``, a value bare (backslash escapes) or in
    single quotes (``\\'`` and ``\\\\`` escapes); whatever does not parse after a password
    is hidden with it."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    hiding = False  # inside the words after a password, until the next key=value
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        m = _PAIR_KEY.match(text, i)
        if m is None:  # not key=value: a stray word (maybe half of a password)
            j = _value_end(text, i)
            if hiding or "=" not in text[i:j]:
                if hiding:
                    spans.append((i, j))
                i = j
                continue
            key_end = text.index("=", i)
            key = text[i:key_end]
            value_start = key_end + 1
        else:
            key = text[i : m.end() - 1].strip()
            value_start = m.end()
        while value_start < n and text[value_start] in " \t\r\n\f\v":
            value_start += 1
        value_end = _value_end(text, value_start)
        secret = _is_secret_key(key)
        if secret:
            spans.append((value_start, value_end))
        hiding = secret or (hiding and m is None)
        i = value_end
    return spans


def _value_end(text: str, i: int) -> int:
    n = len(text)
    if i < n and text[i] == "'":
        i += 1
        while i < n and text[i] != "'":
            i += 2 if text[i] == "\\" else 1
        return min(i + 1, n)
    while i < n and not text[i].isspace():
        i += 2 if text[i] == "\\" else 1
    return min(i, n)


def mask_dsn(dsn: object) -> str:
    """``dsn`` (a URL or ``key=value`` string) with every password replaced by ``***``."""
    text = str(dsn)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(_secret_spans(text)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], MASK]
        last = end
    out.append(text[last:])
    return "".join(out)


def secrets_of(dsn: object) -> list[str]:
    """The passwords in ``dsn`` and their pieces (decoded and as written), longest
    first: what :func:`scrub` removes from a message."""
    text = str(dsn)
    found: set[str] = set()
    for start, end in _secret_spans(text):
        raw = text[start:end]
        for value in {raw, unquote(raw), raw.strip("'"), re.sub(r"\\(.)", r"\1", raw.strip("'"))}:
            if value:
                found.add(value)
                found.update(p for p in re.split(r"[\s'\"\\@:/=%&?#]+", value) if len(p) >= 2)
    return sorted(found, key=len, reverse=True)


def scrub(message: object, dsn: object) -> str:
    """``message`` with every password of ``dsn`` (and the connection string itself, masked)
    hidden: for the driver's error text, which may quote a part of the connection string."""
    text = str(message)
    raw = str(dsn)
    if raw and raw in text:
        text = text.replace(raw, mask_dsn(raw))
    secrets = secrets_of(raw)

    def quoted(m: re.Match[str]) -> str:  # libpq quotes the value it could not take
        inner = m.group(2)
        return (
            m.group(1) + MASK + m.group(3)
            if inner and any(inner in x for x in secrets)
            else m.group(0)
        )

    text = re.sub(r"([\"'])([^\"']*)([\"'])", quoted, text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def dsn_from_env(env: Mapping[str, str] | None = None) -> str:
    r"""The libpq connection string of ``DATAPRODUCTS_PG_*`` (the variables profiles.yml
    reads for dbt's ``postgres`` target). Values are single-quoted with ``\`` and ``'``
    escaped, as libpq reads them, so a password may hold blanks and quotes.

    >>> print(dsn_from_env({"DATAPRODUCTS_PG_PORT": "5433", "DATAPRODUCTS_PG_PASSWORD": "it's"}))
    host='127.0.0.1' port='5433' user='postgres' password='it\'s' dbname='dataproducts'
    """
    env = os.environ if env is None else env
    parts = {
        "host": env.get("DATAPRODUCTS_PG_HOST", "127.0.0.1"),
        "port": env.get("DATAPRODUCTS_PG_PORT", "5432"),
        "user": env.get("DATAPRODUCTS_PG_USER", "postgres"),
        "password": env.get("DATAPRODUCTS_PG_PASSWORD", ""),
        "dbname": env.get("DATAPRODUCTS_PG_DATABASE", "dataproducts"),
    }
    return " ".join(
        f"{k}='{_libpq_quote(v)}'" for k, v in parts.items() if v != "" or k != "password"
    )


def _libpq_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
