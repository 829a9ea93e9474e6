"""HTTP probes: the REST API (runbook "Teste de latência") and the application's /health.

Each failure mode is its own state with a clear detail; probes never raise. No Textual.
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

from ..config import TargetConfig
from ..model import HttpProbe

EXPECTED_HEALTH_FIELDS = ("status", "database", "version", "timestamp")


def _classify_exception(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"no answer in time ({type(exc).__name__})"
    text = str(exc) or type(exc).__name__
    cause: Any = exc
    while cause is not None:
        if (
            isinstance(cause, ssl.SSLError)
            or "SSL" in type(cause).__name__
            or "CERTIFICATE" in str(cause).upper()
        ):
            return "tls_error", f"TLS error: {cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return "connect_error", f"cannot connect: {text}"
    return "connect_error", f"request failed: {text}"


async def probe_rest(
    client: httpx.AsyncClient, target: TargetConfig, apikey: str | None
) -> HttpProbe:
    """GET {rest_url}/{rest_probe_table}?select=count with the apikey header (target < 500 ms)."""
    assert target.rest_url is not None
    url = f"{target.rest_url.rstrip('/')}/{target.rest_probe_path.lstrip('/')}"
    headers = {"apikey": apikey, "Authorization": f"Bearer {apikey}"} if apikey else {}
    answer = await _get(client, "api", url, headers)
    if isinstance(answer, HttpProbe):
        return answer
    response, latency = answer
    code = response.status_code
    return HttpProbe("api", url, "ok", f"HTTP {code} in {latency:.0f} ms", latency, code)


async def _get(
    client: httpx.AsyncClient, name: str, url: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, float] | HttpProbe:
    """The response and its latency (ms), or the probe's failure state (no answer, 4xx/5xx)."""
    started = time.perf_counter()
    try:
        response = await client.get(url, headers=headers or {})
    except Exception as exc:  # noqa: BLE001 - every failure is a state
        state, detail = _classify_exception(exc)
        return HttpProbe(name, url, state, detail)
    latency = (time.perf_counter() - started) * 1000
    code = response.status_code
    if code >= 400:
        return HttpProbe(
            name, url, "http_error", f"HTTP {code} {response.reason_phrase}", latency, code
        )
    return response, latency


async def probe_app_health(client: httpx.AsyncClient, target: TargetConfig) -> HttpProbe:
    """GET {app_health_url}, expecting {"status", "database", "version", "timestamp"}."""
    assert target.app_health_url is not None
    url = target.app_health_url
    answer = await _get(client, "app", url)
    if isinstance(answer, HttpProbe):
        return answer
    response, latency = answer
    code = response.status_code
    try:
        body = response.json()
    except ValueError:
        snippet = " ".join(response.text.split())[:60]
        return HttpProbe(
            "app",
            url,
            "not_json",
            f"HTTP {code} but the body is not JSON: {snippet!r}",
            latency,
            code,
        )
    if not isinstance(body, dict) or any(f not in body for f in EXPECTED_HEALTH_FIELDS):
        present = sorted(body) if isinstance(body, dict) else type(body).__name__
        return HttpProbe(
            "app",
            url,
            "bad_fields",
            f"JSON without the expected fields {', '.join(EXPECTED_HEALTH_FIELDS)} (got {present})",
            latency,
            code,
        )
    version = str(body.get("version"))
    if body.get("status") != "healthy" or body.get("database") != "connected":
        return HttpProbe(
            "app",
            url,
            "unhealthy",
            f"status={body.get('status')!r} database={body.get('database')!r}",
            latency,
            code,
            version,
        )
    if body.get("fallback"):
        # The emergency fallback is on: healthy, but users are on localStorage.
        return HttpProbe(
            "app", url, "ok", "FALLBACK MODE ON (localStorage)", latency, code, version
        )
    return HttpProbe(
        "app", url, "ok", f"healthy, database connected, {latency:.0f} ms", latency, code, version
    )


class HttpProber:
    """Runs the configured probes of a target; one client, bounded by a timeout."""

    def __init__(self, target: TargetConfig, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def configured(self) -> bool:
        return bool(self.target.rest_url or self.target.app_health_url)

    async def probe(self) -> tuple[HttpProbe, ...]:
        import asyncio
        import os

        if not self.configured:
            return ()
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        tasks = []
        if self.target.rest_url:
            apikey = os.environ.get(self.target.rest_apikey_env or "") or None
            tasks.append(probe_rest(self._client, self.target, apikey))
        if self.target.app_health_url:
            tasks.append(probe_app_health(self._client, self.target))
        return tuple(await asyncio.gather(*tasks))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
