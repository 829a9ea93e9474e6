"""Host metrics (CPU, memory, disk) from a Prometheus exposition: node_exporter, or the metrics
endpoint managed PostgreSQL providers expose in the same format. Parsed with the well-kept
prometheus-client parser. Never raises: failures are Unavailable. No Textual."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ..config import TargetConfig
from ..model import HostMetrics, Unavailable


@dataclass(frozen=True, slots=True)
class _Parsed:
    cpu_total: float | None
    cpu_idle: float | None
    mem_total: float | None
    mem_available: float | None
    fs_size: float | None
    fs_avail: float | None


def parse_exposition(text: str, mountpoint: str) -> _Parsed:
    cpu_total = cpu_idle = mem_total = mem_available = fs_size = fs_avail = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == "node_cpu_seconds_total":
                cpu_total = (cpu_total or 0.0) + value
                if labels.get("mode") in ("idle", "iowait"):
                    cpu_idle = (cpu_idle or 0.0) + value
            elif name == "node_memory_MemTotal_bytes":
                mem_total = value
            elif name == "node_memory_MemAvailable_bytes":
                mem_available = value
            elif name == "node_filesystem_size_bytes" and labels.get("mountpoint") == mountpoint:
                fs_size = value
            elif name == "node_filesystem_avail_bytes" and labels.get("mountpoint") == mountpoint:
                fs_avail = value
    return _Parsed(cpu_total, cpu_idle, mem_total, mem_available, fs_size, fs_avail)


def compute(previous: _Parsed | None, current: _Parsed, mountpoint: str) -> HostMetrics:
    cpu = None
    if (
        previous is not None
        and previous.cpu_total is not None
        and current.cpu_total is not None
        and previous.cpu_idle is not None
        and current.cpu_idle is not None
    ):
        d_total = current.cpu_total - previous.cpu_total
        d_idle = current.cpu_idle - previous.cpu_idle
        if d_total > 0:
            cpu = max(0.0, min(100.0, 100.0 * (1 - d_idle / d_total)))
    memory = None
    if current.mem_total and current.mem_available is not None:
        memory = 100.0 * (1 - current.mem_available / current.mem_total)
    disk = None
    if current.fs_size and current.fs_avail is not None:
        disk = 100.0 * (1 - current.fs_avail / current.fs_size)
    return HostMetrics(cpu_pct=cpu, memory_pct=memory, disk_pct=disk, mountpoint=mountpoint)


class HostScraper:
    def __init__(self, target: TargetConfig, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._previous: _Parsed | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def configured(self) -> bool:
        return bool(self.target.metrics_url)

    async def scrape(self) -> HostMetrics | Unavailable | None:
        if not self.target.metrics_url:
            return None
        if self._client is None:
            auth = None
            if self.target.metrics_user:
                password = os.environ.get(self.target.metrics_password_env or "", "")
                auth = httpx.BasicAuth(self.target.metrics_user, password)
            self._client = httpx.AsyncClient(timeout=self.timeout, auth=auth)
        try:
            response = await self._client.get(self.target.metrics_url)
        except httpx.TimeoutException:
            return Unavailable(f"metrics endpoint did not answer within {self.timeout:g}s")
        except httpx.HTTPError as exc:
            return Unavailable(f"metrics endpoint unreachable: {exc}")
        if response.status_code != 200:
            fix = (
                "check metrics_user / metrics_password_env"
                if response.status_code in (401, 403)
                else None
            )
            return Unavailable(f"metrics endpoint answered HTTP {response.status_code}", fix)
        try:
            current = parse_exposition(response.text, self.target.metrics_mountpoint)
        except ValueError as exc:
            return Unavailable(
                f"metrics endpoint returned something that is not a Prometheus exposition: {exc}"
            )
        if current.cpu_total is None and current.mem_total is None and current.fs_size is None:
            return Unavailable(
                "no node_cpu / node_memory / node_filesystem metrics in the exposition",
                "point metrics_url at a node_exporter (or compatible) endpoint",
            )
        metrics = compute(self._previous, current, self.target.metrics_mountpoint)
        self._previous = current
        return metrics

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
