"""HTTP probes: the REST API (runbook "Teste de latência") and the application's /health.

Each failure mode is its own state with a clear detail; probes never raise. Every request goes
through :mod:`engflow_tui.httpbounded`: an overall deadline and a cap on the answer. No Textual.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx

from ..config import TargetConfig
from ..httpbounded import Answer, new_client, one_line, request
from ..model import HttpProbe

EXPECTED_HEALTH_FIELDS = ("status", "database", "version", "timestamp")
MAX_ANSWER = 1024 * 1024
"""A probe reads at most this much of an answer (a /health JSON is a few hundred bytes)."""


async def _get(
    client: httpx.AsyncClient,
    name: str,
    url: str,
    deadline: float,
    headers: dict[str, str] | None = None,
) -> Answer | HttpProbe:
    """The complete 2xx answer, or the probe's failure state (no answer, cut, 3xx, 4xx/5xx)."""
    answer = await request(
        client, "GET", url, deadline=deadline, max_bytes=MAX_ANSWER, headers=headers
    )
    if not isinstance(answer, Answer):
        return HttpProbe(name, url, answer.kind, answer.detail)
    code = answer.status
    if answer.cut is not None:
        state = "too_large" if answer.cut == "too_large" else "timeout"
        return HttpProbe(name, url, state, answer.cut_detail, None, code)
    if 300 <= code < 400:
        # Never followed: a probe that lands on a login page or another host is not OK.
        where = one_line(answer.headers.get("location", ""), 120) or "nowhere (no Location)"
        detail = f"HTTP {code} redirect to {where}"
        return HttpProbe(name, url, "http_error", detail, answer.ms, code)
    if code >= 400 or code < 200:
        detail = f"HTTP {code} {answer.reason}"
        return HttpProbe(name, url, "http_error", detail, answer.ms, code)
    return answer


async def probe_rest(
    client: httpx.AsyncClient, target: TargetConfig, apikey: str | None, deadline: float
) -> HttpProbe:
    """GET {rest_url}/{rest_probe_table}?select=count with the apikey header (target < 500 ms)."""
    assert target.rest_url is not None
    url = f"{target.rest_url.rstrip('/')}/{target.rest_probe_path.lstrip('/')}"
    headers = {"apikey": apikey, "Authorization": f"Bearer {apikey}"} if apikey else {}
    answer = await _get(client, "api", url, deadline, headers)
    if isinstance(answer, HttpProbe):
        return answer
    code = answer.status
    return HttpProbe("api", url, "ok", f"HTTP {code} in {answer.ms:.0f} ms", answer.ms, code)


def _short(value: Any, length: int = 60) -> str:
    return one_line(str(value), length)


def _health_state(body: Any) -> tuple[str, str, str | None]:
    """(state, detail, version) of a parsed /health answer."""
    if not isinstance(body, dict) or any(f not in body for f in EXPECTED_HEALTH_FIELDS):
        present = _short(sorted(body) if isinstance(body, dict) else type(body).__name__, 120)
        expected = ", ".join(EXPECTED_HEALTH_FIELDS)
        return "bad_fields", f"JSON without the expected fields {expected} (got {present})", None
    version = _short(body.get("version"), 40)
    status, database = body.get("status"), body.get("database")
    if status != "healthy" or database != "connected":
        return (
            "unhealthy",
            f"status={_short(repr(status))} database={_short(repr(database))}",
            version,
        )
    if body.get("fallback"):
        # The emergency fallback is on: healthy, but users are on localStorage.
        return "ok", "FALLBACK MODE ON (localStorage)", version
    return "ok", "healthy, database connected", version


async def probe_app_health(
    client: httpx.AsyncClient, target: TargetConfig, deadline: float
) -> HttpProbe:
    """GET {app_health_url}, expecting {"status", "database", "version", "timestamp"}."""
    assert target.app_health_url is not None
    url = target.app_health_url
    answer = await _get(client, "app", url, deadline)
    if isinstance(answer, HttpProbe):
        return answer
    code, latency = answer.status, answer.ms
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        # Not JSON, not UTF-8, or nested too deep to parse (100,000 brackets).
        detail = f"HTTP {code} but the body is not JSON: {answer.snippet(60)!r}"
        return HttpProbe("app", url, "not_json", detail, latency, code)
    try:
        state, detail, version = _health_state(body)
    except (RecursionError, ValueError, TypeError):
        # Whatever the JSON holds (a version nested thousands deep…), it is a state.
        state, detail, version = (
            "bad_fields",
            "JSON the console cannot read as a health answer",
            None,
        )
    if state == "ok" and "FALLBACK" not in detail:
        detail = f"{detail}, {latency:.0f} ms"
    return HttpProbe("app", url, state, detail, latency, code, version)


class HttpProber:
    """Runs the configured probes of a target; one client, each probe within ``timeout``."""

    def __init__(self, target: TargetConfig, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def configured(self) -> bool:
        return bool(self.target.rest_url or self.target.app_health_url)

    async def probe(self) -> tuple[HttpProbe, ...]:
        if not self.configured:
            return ()
        if self._client is None:
            self._client = new_client(self.timeout)
        tasks = []
        if self.target.rest_url:
            apikey = os.environ.get(self.target.rest_apikey_env or "") or None
            tasks.append(probe_rest(self._client, self.target, apikey, self.timeout))
        if self.target.app_health_url:
            tasks.append(probe_app_health(self._client, self.target, self.timeout))
        return tuple(await asyncio.gather(*tasks))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
