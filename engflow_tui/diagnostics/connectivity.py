"""Connectivity (runbook troubleshooting 1): the REST API and the application's health endpoint,
from the monitor's HTTP probes (the alert engine's), when the target configures them. The
database's own reachability and latency is ``database.reachable``. Must not import Textual.
"""

from __future__ import annotations

from ..diagnose import Check
from .base import Context, Probe

_IDS = {"api": "connectivity.rest_api", "app": "connectivity.app_health"}


async def check_http(ctx: Context) -> list[Check]:
    checks = []
    for probe in ctx.snapshot.http:
        check_id = _IDS.get(probe.name, f"connectivity.{probe.name}")
        latency = f" in {probe.latency_ms:.0f} ms" if probe.latency_ms is not None else ""
        slow = probe.ok and (probe.latency_ms or 0) > 500  # runbook: API < 500 ms
        checks.append(
            Check(
                check_id,
                "critical" if not probe.ok else "warning" if slow else "ok",
                f"{probe.url}: {probe.state}{latency} — {probe.detail}"
                + (" (runbook target < 500 ms)" if slow else ""),
                None if probe.latency_ms is None else round(probe.latency_ms, 1),
                "ms",
                details={
                    "url": probe.url,
                    "state": probe.state,
                    "status_code": probe.status_code,
                    "version": probe.version,
                },
                fix=None
                if probe.ok
                else "runbook SEV1: check the provider status page; Emergency fallback if it stays down",
                action=None if probe.ok else "Emergency fallback",
            )
        )
    return checks


PROBES = (Probe(("connectivity.rest_api",), check_http, quick=True),)
