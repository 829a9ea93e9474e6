"""Removing credentials from query text before it is shown, persisted or exported.

Other sessions' query texts carry whatever their clients put there: a password in a comment, a
JWT passed to ``set_config``, a connection URI in a literal. The console reads them from
``pg_stat_activity`` and ``pg_stat_statements`` and would otherwise keep them in the audit log,
the incident file, reports, recordings and ``diagnose`` output. :func:`redact_query` is applied
where query text enters the console (the collectors, the action plans, the diagnose checks), so
nothing downstream ever holds the secret, and again by the writers of persisted records.

The patterns (each replaces the secret with ``***``, keeping what says what it was):

1. ``PASSWORD '…'`` (``CREATE/ALTER ROLE … [ENCRYPTED] PASSWORD '…'``, ``E'…'`` too);
2. key = value and key: value pairs whose key names a credential — ``password``, ``passwd``,
   ``pwd``, ``secret``, ``token``, ``apikey`` / ``api_key``, ``access_key``, ``private_key``,
   ``credential(s)``, ``auth``, ``authorization`` — alone or as the end of a longer key
   (``client_secret``, ``db_password``, ``access_token``); quoted (``'…'``, ``"…"``) or bare
   values; placeholders (``$1``, ``?``, ``NULL``) are left alone;
3. URI credentials: ``scheme://user:SECRET@host`` -> ``scheme://user:***@host``;
4. bearer tokens and basic credentials: ``Bearer SECRET``, ``Basic SECRET``;
5. JWT-shaped strings: three base64url parts, the first starting ``eyJ``;
6. well-known API-key prefixes: ``sk_live_``/``sk_test_``/``rk_live_`` (Stripe), ``sk-``
   (OpenAI-style), ``sbp_`` (Supabase access tokens), ``ghp_``/``gho_``/``ghs_``/
   ``github_pat_`` (GitHub), ``glpat-`` (GitLab), ``xoxb-``/``xoxp-``/``xapp-`` (Slack),
   ``AKIA…`` (AWS access key ids), ``AIza…`` (Google API keys);
7. the value of ``set_config('…secret…|…token…|…password…|…key…|…jwt…', 'VALUE', …)``.

Look-alikes survive: ``password_hash``, ``token_count``, ``max_tokens``, ``WHERE password =
$1``. Pure: no Textual, no I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache

MASK = "***"

_KEY = (
    r"(?:password|passwd|pwd|secret|token|apikey|api_key|access_key|private_key|credentials?"
    r"|auth|authorization)"
)
_PLACEHOLDER = re.compile(r"(?i)^(?:\$\d+|\?|null|:\w+|%s|\*\*\*)$")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 1. PASSWORD 'secret' (SQL role statements), with '' escapes and E'' strings.
    (re.compile(r"(?i)\b(password\s+E?)'(?:[^']|'')*'"), rf"\1'{MASK}'"),
    # 3. URI credentials.
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@'\"]*):([^\s@/'\"]+)@"),
        rf"\1:{MASK}@",
    ),
    # 4. Bearer (and Basic) credentials.
    (re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
    # 5. JWT-shaped strings.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # 6. Well-known API-key prefixes.
    (
        re.compile(
            r"\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{20,}|sbp_[A-Za-z0-9]{20,}"
            r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}"
            r"|xox[abpr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}"
            r"|AIza[0-9A-Za-z_-]{35})"
        ),
        MASK,
    ),
    # 7. set_config('...secret...', 'value', ...).
    (
        re.compile(
            r"(?i)(set_config\s*\(\s*'[^']*(?:secret|token|password|key|jwt|auth)[^']*'\s*,\s*)"
            r"'(?:[^']|'')*'"
        ),
        rf"\1'{MASK}'",
    ),
)

# 2. key=value / key: value, the key a whole word or the end of a longer one (client_secret).
_PAIR = re.compile(
    rf"""(?ix)
    (?<![A-Za-z0-9])                      # the key starts a word (or follows _ in a longer key)
    ((?:[A-Za-z0-9]{{1,32}}_){{0,4}}{_KEY})  # key, possibly db_password / access_token
    (?![A-Za-z0-9_])                      # ... and ends there: password_hash is no key
    (["']?\s*(?::|=|=>)\s*)               # separator, after an optional closing quote (JSON)
    ('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^\s,;&)'"]+)   # the value
    """
)


def _pair(match: re.Match[str]) -> str:
    key, separator, value = match.group(1), match.group(2), match.group(3)
    bare = value.strip("'\"")
    if not bare or _PLACEHOLDER.match(bare) or bare.lower() in ("bearer", "basic"):
        return match.group(0)
    quote = value[0] if value[0] in "'\"" else ""
    return f"{key}{separator}{quote}{MASK}{quote}"


@lru_cache(maxsize=4096)
def _redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _PAIR.sub(_pair, text)


def redact_query(text: str | None) -> str:
    """``text`` with every credential the patterns above recognise replaced by ``***``."""
    if not text:
        return text or ""
    return _redact(text)


def redact_optional(text: str | None) -> str | None:
    """:func:`redact_query` that keeps None as None (for optional fields)."""
    return None if text is None else _redact(text)
