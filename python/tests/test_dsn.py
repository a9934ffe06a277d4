"""No character run of a PostgreSQL password reaches a message, whatever it holds.

Each hostile password (quotes, blanks, ``@``, ``:``, ``/``, backslashes, ``=``, ``&``,
percent-encoding) is written into a URL and a libpq ``key=value`` string the ways a
user would; the mask, and every error a failed connection raises (``connect``,
``publish.pg_connect``, the CLI), must hold none of its distinctive pieces. The pieces are
marked with a token (``Zq``) no message contains by chance, so the check cannot pass by
luck nor fail on ordinary words.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import quote

import pytest

import dataproducts
from dataproducts.dsn import mask_dsn, scrub
from dataproducts.errors import DataProductsError
from dataproducts.snapshots import pg_connect

#: Passwords a hostile tester would try; every piece between separators holds "Zq".
PASSWORDS = [
    "Zqsecret",
    "my Zqsecret",
    "Zq se@cret@",
    "u:Zqse@cret@",
    "Zq'quote",
    'Zq"dq"Zq',
    "Zq\\back\\slashZq",
    "Zqa=b=Zqc",
    "Zq/slash/Zq",
    "Zq:colon:Zq",
    "Zq&amp=Zq",
    "Zq?q#frag",
    "Zq%41pct",
    "  Zqpadded  ",
    "Zq\ttab",
]


def pieces(password: str) -> list[str]:
    """Every run of the password that holds the marker: none may appear."""
    return [p for p in re.split(r"[\s'\"\\@:/=&?#%]+", password) if "Zq" in p] + ["Zq"]


def libpq_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()  # nothing listens: every connection attempt fails, quickly


def targets(password: str) -> list[str]:
    """The ways a password is written into a connection string (all valid for libpq)."""
    return [
        f"postgresql://alice:{quote(password, safe='')}@127.0.0.1:{PORT}/db",
        f"postgresql://alice@127.0.0.1:{PORT}/db?password={quote(password, safe='')}",
        f"host=127.0.0.1 port={PORT} dbname=db user=alice password={libpq_quote(password)}",
        f"host=127.0.0.1 port={PORT} password = {libpq_quote(password)} dbname=db",
        f"password={libpq_quote(password)} host=127.0.0.1 port={PORT} dbname=db",
    ]


def raw_targets(password: str) -> list[str]:
    """Written carelessly, as the issue found them: unencoded, unquoted (libpq may not
    even parse these; the password must not leak either way)."""
    return [
        f"postgresql://alice:{password}@127.0.0.1:{PORT}/db",
        f"host=127.0.0.1 port={PORT} dbname=db password={password}",
        f"host=127.0.0.1 port={PORT} dbname=db password={password} user=alice",
    ]


def assert_hidden(text: str, password: str) -> None:
    for piece in pieces(password):
        assert piece not in text, f"{piece!r} of the password shows in: {text}"


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_mask_hides_the_whole_password(password: str) -> None:
    for target in targets(password) + raw_targets(password):
        masked = mask_dsn(target)
        assert_hidden(masked, password)
        assert "***" in masked
        assert "127.0.0.1" in masked or target.startswith("postgresql://alice:")


def test_the_mask_keeps_what_is_not_secret() -> None:
    assert mask_dsn("postgresql://alice@db:5432/app") == "postgresql://alice@db:5432/app"
    assert mask_dsn("host=db dbname=app user=alice") == "host=db dbname=app user=alice"
    assert (
        mask_dsn("postgresql://alice:pw@db:5432/app?sslmode=require")
        == "postgresql://alice:***@db:5432/app?sslmode=require"
    )
    assert (
        mask_dsn("host=db password='a b' sslpassword=c dbname=app")
        == "host=db password=*** sslpassword=*** dbname=app"
    )


def test_issue_examples() -> None:
    """The two leaks the issue reported: `***@ secret'` and `u:se@cret@`."""
    assert mask_dsn("host=h password='my secret' dbname=d") == "host=h password=*** dbname=d"
    masked = mask_dsn("postgresql://u:se@cret@h:5432/d")
    assert "se" not in masked.split("@")[0].split(":")[-1] and "cret" not in masked


@pytest.mark.parametrize("password", PASSWORDS)
def test_no_error_of_a_failed_connection_shows_the_password(password: str) -> None:
    for target in targets(password) + raw_targets(password):
        for call in (pg_connect, dataproducts.connect):
            with pytest.raises(DataProductsError) as info:
                call(target)
            assert_hidden(str(info.value), password)
            assert_hidden(repr(info.value), password)
            assert info.value.__cause__ is None  # the driver's exception is not chained
            assert info.value.__suppress_context__


def test_the_cli_shows_no_password(monkeypatch, capsys) -> None:
    from dataproducts.cli import run

    password = "my Zqsecret@x"
    for target in targets(password) + raw_targets(password):
        code = run(["recommend", "1", "--source", target])
        assert code in (2, 3), target
        captured = capsys.readouterr()
        assert_hidden(captured.out + captured.err, password)
        assert "Traceback" not in captured.err


def test_an_unparsable_connection_string_is_a_configuration_error() -> None:
    """`connect('postgresql://[::1')` raised psycopg2's ProgrammingError."""
    from dataproducts.errors import ConfigurationError

    for target in ["postgresql://[::1", "postgresql://u:Zqpw@[::1/db", "host=h dbname='x"]:
        with pytest.raises(ConfigurationError, match="connection string") as info:
            dataproducts.connect(target)
        assert "Zqpw" not in str(info.value)


def test_scrub_hides_passwords_a_driver_message_quotes() -> None:
    dsn = "host=h password=my Zqsecret dbname=d"
    message = 'invalid connection option "Zqsecret" in "host=h password=my Zqsecret dbname=d"'
    assert_hidden(scrub(message, dsn), "my Zqsecret")


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_validation_gate_describes_a_target_without_its_password(password: str) -> None:
    from dataproducts_pipeline.validation import _describe_source

    for target in targets(password) + raw_targets(password):
        if target.startswith("postgresql://") or "dbname=" in target:
            assert_hidden(_describe_source(target), password)
