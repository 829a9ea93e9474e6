"""The redaction corpus: secrets that must not survive redact_query, look-alikes that must."""

from __future__ import annotations

import pytest

from engflow_tui.redact import redact_query

SECRETS = [
    # (query text, the secret that must be gone)
    ("SELECT 1 /* apikey=abc123def456 */", "abc123def456"),
    ("SELECT 1 -- password=Tr0ub4dor&3", "Tr0ub4dor"),
    ("SELECT 1 /* api_key: 'k-123456789' */", "k-123456789"),
    ("SELECT '{\"password\": \"pa ss word\"}'::jsonb", "pa ss word"),
    ("SELECT * FROM s WHERE client_secret = 'c5e9b1d2'", "c5e9b1d2"),
    ("SELECT * FROM s WHERE data->>'token' = 'tok_998877'", "tok_998877"),
    (
        "SELECT set_config('request.jwt.claims', "
        "'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlX2hlcmU', true)",
        "eyJzdWIiOiIxMjM0NSJ9",
    ),
    ("SELECT set_config('app.secret_key', 'plain-value-42', false)", "plain-value-42"),
    ("SELECT dblink('postgresql://app:s3cr3t@db.internal/x', 'select 1')", "s3cr3t"),
    ("SELECT dblink_connect('host=db user=app password=hunter22 dbname=x')", "hunter22"),
    ("ALTER ROLE app PASSWORD 'hunter2'", "hunter2"),
    ("CREATE ROLE x LOGIN ENCRYPTED PASSWORD 'it''s secret'", "s secret"),
    ("SELECT http_get('u', 'Authorization: Bearer abcdefghijklmnop123')", "abcdefghijklmnop123"),
    ("SELECT 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA"),
    ("INSERT INTO k VALUES ('sk_live_4eC39HqLyjWDarjtT1zdp7dc')", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("INSERT INTO k VALUES ('AKIAIOSFODNN7EXAMPLE')", "AKIAIOSFODNN7EXAMPLE"),
    ("INSERT INTO k VALUES ('sbp_0123456789abcdef0123456789abcdef01234567')", "0123456789abcdef"),
    ("INSERT INTO k VALUES ('ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789')", "aBcDeFgHiJkLmNoP"),
    ("INSERT INTO k VALUES ('xoxb-1234567890-abcdefghij')", "1234567890-abcdefghij"),
    ("SELECT 'AIzaSyA-1234567890abcdefghijklmnopqrstu'", "AIzaSyA-1234567890"),
    ("SELECT 1 /* access_token=ya29.a0Af_secret */", "ya29.a0Af_secret"),
]

LOOK_ALIKES = [
    "SELECT password_hash, token_count FROM users WHERE max_tokens = 100",
    "SELECT * FROM users WHERE password = $1",
    "ALTER ROLE app PASSWORD NULL",
    "SELECT auth.uid() = user_id",
    "SELECT token::text FROM sessions",
    "SELECT * FROM clientes WHERE nome = 'Ana' AND status = 'active'",
    "SELECT secret_santa_id FROM events",
    "UPDATE orcamentos SET valor = 10 WHERE id = 42",
    "SELECT 'postgresql://db.internal:5432/app'",
    "SELECT count(*) FROM auth.users WHERE last_sign_in_at > now() - interval '24 hours'",
]


@pytest.mark.parametrize(("query", "secret"), SECRETS)
def test_a_secret_does_not_survive(query: str, secret: str) -> None:
    redacted = redact_query(query)
    assert secret not in redacted
    assert "***" in redacted


@pytest.mark.parametrize("query", LOOK_ALIKES)
def test_a_look_alike_survives(query: str) -> None:
    assert redact_query(query) == query


def test_what_the_secret_was_stays_readable() -> None:
    assert redact_query("ALTER ROLE app PASSWORD 'x1'") == "ALTER ROLE app PASSWORD '***'"
    assert (
        redact_query("SELECT dblink('postgresql://app:pw@db/x')")
        == "SELECT dblink('postgresql://app:***@db/x')"
    )
    assert redact_query("-- apikey=abcdef") == "-- apikey=***"


def test_none_and_empty() -> None:
    assert redact_query(None) == ""
    assert redact_query("") == ""
