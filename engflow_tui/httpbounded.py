"""Bounded HTTP requests: the one way the console talks HTTP (the REST and /health probes, the
metrics scrape, the emergency fallback, alert webhooks, incident message posts).

Every request has an overall deadline — connecting, the headers and the whole body, not each
read (an endpoint that drips a byte every few seconds is cut at the deadline) — and a cap on the
body, read as a stream and abandoned past the cap, so memory never grows with what a server sends.
:func:`request` never raises: it returns an :class:`Answer` (with ``cut`` set when the body was
abandoned) or a :class:`Failure` whose one-line detail is fit to show.

Imports httpx (so it is imported only where HTTP is configured: start-up time). Must not import
Textual.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

SNIPPET = 200
"""Longest piece of an answer quoted in a message (one line)."""
RETRY_AFTER_MAX = 300.0
"""A Retry-After longer than this (5 min) is waited for only this long."""
POST_ANSWER_MAX = 64 * 1024
"""The default cap: the answer to a POST (webhook, fallback) is only quoted, never parsed."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server answered; the body as far as it was read."""

    status: int
    reason: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes
    seconds: float
    """From sending the request until the body was read (or cut)."""
    cut: Literal["too_large", "timeout"] | None = None
    """Why the body was not read to its end: larger than the cap, or still arriving at the
    deadline. None when it is complete."""
    limit: int = 0
    deadline: float = 0.0

    @property
    def ms(self) -> float:
        return self.seconds * 1000

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def snippet(self, length: int = SNIPPET) -> str:
        """The body on one line, at most ``length`` characters (for messages)."""
        return one_line(self.body[: length * 4].decode("utf-8", "replace"), length)

    @property
    def cut_detail(self) -> str:
        """What happened to the body, for a message ("" when it is complete)."""
        if self.cut == "too_large":
            return too_large(self.limit)
        if self.cut == "timeout":
            return f"no answer in time (deadline {self.deadline:g} s): the body was still arriving"
        return ""


FailureKind = Literal["timeout", "tls_error", "connect_error", "invalid_url", "request_error"]


@dataclass(frozen=True, slots=True)
class Failure:
    """No answer: why, in one line."""

    kind: FailureKind
    detail: str
    seconds: float = 0.0


def too_large(limit: int) -> str:
    return f"answer too large (> {limit:,} bytes)"


def one_line(text: str, length: int = SNIPPET) -> str:
    """Whitespace (newlines included) collapsed, at most ``length`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be requested ("InvalidURL: …", one line), or None when it can. Catches
    what httpx would otherwise only find while connecting (a port out of range surfaces there as
    "ExceptionGroup: unhandled errors in a TaskGroup")."""
    try:
        parsed = httpx.URL(url)
    except Exception as exc:  # noqa: BLE001 - httpx.InvalidURL, and TypeError for odd input
        return f"InvalidURL: {one_line(str(exc), 120) or type(exc).__name__}"
    if parsed.scheme not in ("http", "https"):
        shown = f"'{parsed.scheme}'" if parsed.scheme else "none"
        return f"InvalidURL: the scheme must be http or https (got {shown})"
    if not parsed.host:
        return "InvalidURL: no host"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"InvalidURL: port {parsed.port} is out of range (1-65535)"
    return None


def mask_url(message: str, url: str) -> str:
    """``message`` with ``url`` and its longer pieces (where tokens live) masked: for URLs that
    embed a secret (webhooks)."""
    message = message.replace(url, "<URL>")
    for piece in sorted(set(re.split(r"[/?#&=@:\[\]]+", url)), key=len, reverse=True):
        if len(piece) >= 6:
            message = message.replace(piece, "…")
    return message


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside exception groups (anyio's connect raises them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe(exc: BaseException) -> tuple[FailureKind, str]:
    """(kind, one-line detail) of a request's exception."""
    exc = _leaf(exc)
    text = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timeout", f"no answer in time ({type(exc).__name__})"
    cause: BaseException | None = exc
    while cause is not None:
        if (
            isinstance(cause, ssl.SSLError)
            or "SSL" in type(cause).__name__
            or "CERTIFICATE" in str(cause).upper()
        ):
            return "tls_error", f"TLS error: {one_line(str(cause)) or type(cause).__name__}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return "invalid_url", f"InvalidURL: {text}"
    if isinstance(exc, (httpx.ConnectError, OSError)):
        return "connect_error", f"cannot connect ({type(exc).__name__}): {text}"
    return "request_error", f"request failed: {type(exc).__name__}: {text}"


def new_client(deadline: float, **options: Any) -> httpx.AsyncClient:
    """A client for :func:`request`: no redirects followed (a 3xx is an answer to show), and
    httpx's own timeouts no longer than the deadline. TLS trusts certifi's bundle, or
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set (httpx reads them as the client is made)."""
    return httpx.AsyncClient(
        timeout=deadline,
        follow_redirects=False,
        # Compressed answers are decoded chunk by chunk (one chunk can expand a lot): ask for
        # none. The cap below counts decoded bytes either way.
        headers={"Accept-Encoding": "identity"},
        **options,
    )


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline: float,
    max_bytes: int = POST_ANSWER_MAX,
    headers: dict[str, str] | None = None,
    json: Any = None,
) -> Answer | Failure:
    """One request, all of it (connect, headers, body) within ``deadline`` seconds, its body read
    up to ``max_bytes``. Never raises (cancellation excepted)."""
    problem = check_url(url)
    if problem is not None:
        return Failure("invalid_url", problem)
    started = time.perf_counter()
    status, reason = 0, ""
    got: dict[str, str] = {}
    body = bytearray()

    def answer(cut: Literal["too_large", "timeout"] | None = None) -> Answer:
        seconds = time.perf_counter() - started
        return Answer(status, reason, got, bytes(body), seconds, cut, max_bytes, deadline)

    try:
        async with (
            asyncio.timeout(deadline),
            client.stream(method, url, headers=headers, json=json) as response,
        ):
            status, reason = response.status_code, response.reason_phrase
            got = {k.lower(): v for k, v in response.headers.items()}
            length = got.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                return answer("too_large")  # said in advance: not a byte read
            async for chunk in response.aiter_bytes():
                if len(body) + len(chunk) > max_bytes:
                    # Leaving the block closes the connection: the rest is never read.
                    return answer("too_large")
                body += chunk
        return answer()
    except (TimeoutError, httpx.TimeoutException):
        # The deadline (or httpx's own timeout, never longer): headers may have come already.
        if status:
            return answer("timeout")
        seconds = time.perf_counter() - started
        return Failure("timeout", f"no answer in time (deadline {deadline:g} s)", seconds)
    except Exception as exc:  # noqa: BLE001 - every failure is a state, never an exception
        kind, detail = describe(exc)
        return Failure(kind, detail, time.perf_counter() - started)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds, or an HTTP date), at most
    :data:`RETRY_AFTER_MAX`; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_MAX)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)
