"""Host metrics (CPU, memory, disk) from a Prometheus exposition: node_exporter, or the metrics
endpoint managed PostgreSQL providers expose in the same format. Parsed with the well-kept
prometheus-client parser, off the event loop, after a cheap pass that keeps only the five
``node_*`` series the console reads and refuses an exposition of more than MAX_SERIES series.
A figure that comes out impossible (NaN, infinite, below 0 or above 100 %, duplicated series) is
unknown, never a value. Never raises: failures are Unavailable. No Textual."""

from __future__ import annotations

import asyncio
import io
import math
import os
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ..config import TargetConfig
from ..httpbounded import Answer, new_client, one_line, request
from ..model import HostMetrics, Unavailable

MAX_ANSWER = 16 * 1024 * 1024
"""A scrape reads at most this much (node_exporter sends 100-300 KB)."""
MAX_SERIES = 100_000
"""An exposition with more series than this is not read (node_exporter has a few thousand)."""
NARROW_FIX = (
    "point metrics_url at node_exporter itself, or narrow it: "
    "?collect[]=cpu&collect[]=meminfo&collect[]=filesystem"
)

CPU = "node_cpu_seconds_total"
MEM_TOTAL = "node_memory_MemTotal_bytes"
MEM_AVAILABLE = "node_memory_MemAvailable_bytes"
FS_SIZE = "node_filesystem_size_bytes"
FS_AVAIL = "node_filesystem_avail_bytes"
_WANTED = frozenset((CPU, MEM_TOTAL, MEM_AVAILABLE, FS_SIZE, FS_AVAIL))


class TooManySeries(ValueError):
    """The exposition holds more than MAX_SERIES series."""


@dataclass(frozen=True, slots=True)
class _Parsed:
    cpu_total: float | None
    cpu_idle: float | None
    mem_total: float | None
    mem_available: float | None
    fs_size: float | None
    fs_avail: float | None
    duplicated: tuple[str, ...] = ()
    """Single-valued series found more than once (two hosts in one exposition)."""


def _wanted_lines(text: str, max_series: int) -> str:
    """The lines of the five series the console reads (and their HELP / TYPE): the parser then
    handles a few dozen lines, whatever the exposition's size. TooManySeries past max_series."""
    kept = []
    series = 0
    for raw in io.StringIO(text):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            words = line.split(None, 3)
            if len(words) >= 3 and words[1] in ("HELP", "TYPE") and words[2] in _WANTED:
                kept.append(line)
            continue
        series += 1
        if series > max_series:
            raise TooManySeries(f"more than {max_series:,} series")
        if line.split("{", 1)[0].split(None, 1)[0] in _WANTED:
            kept.append(line)
    return "\n".join(kept) + "\n"


def parse_exposition(data: bytes | str, mountpoint: str, max_series: int = MAX_SERIES) -> _Parsed:
    """The figures of one scrape. ValueError when it is not an exposition, TooManySeries when
    it is too large to read. CPU-bound: the scraper runs it in a thread."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    cpu_total = cpu_idle = mem_total = mem_available = fs_size = fs_avail = None
    seen: dict[str, int] = {}
    for family in text_string_to_metric_families(_wanted_lines(text, max_series)):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == CPU:
                cpu_total = (cpu_total or 0.0) + value
                if labels.get("mode") in ("idle", "iowait"):
                    cpu_idle = (cpu_idle or 0.0) + value
                continue
            if name in (FS_SIZE, FS_AVAIL) and labels.get("mountpoint") != mountpoint:
                continue
            seen[name] = seen.get(name, 0) + 1
            if name == MEM_TOTAL:
                mem_total = value
            elif name == MEM_AVAILABLE:
                mem_available = value
            elif name == FS_SIZE:
                fs_size = value
            elif name == FS_AVAIL:
                fs_avail = value
    duplicated = tuple(sorted(f"{n} ×{count}" for n, count in seen.items() if count > 1))
    return _Parsed(cpu_total, cpu_idle, mem_total, mem_available, fs_size, fs_avail, duplicated)


def _percent(value: float) -> float | None:
    """A percentage, or None when it cannot be one (float noise at the ends is rounded in)."""
    if not math.isfinite(value) or not -1e-6 <= value <= 100 + 1e-6:
        return None
    return min(max(value, 0.0), 100.0)


def _used(
    label: str, available: float | None, total: float | None, dup: bool
) -> tuple[float | None, str | None]:
    """(% used, why it is unknown)."""
    if available is None or not total:
        return None, None
    if dup:
        return None, f"{label} unknown (duplicated series)"
    sane = math.isfinite(available) and math.isfinite(total) and available >= 0 and total > 0
    pct = _percent(100.0 * (1 - available / total)) if sane else None
    if pct is None:
        return None, f"{label} unknown (available {available:g} of {total:g})"
    return pct, None


def compute(previous: _Parsed | None, current: _Parsed, mountpoint: str) -> HostMetrics:
    notes = []
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
        if d_total > 0 and math.isfinite(d_total):
            cpu = _percent(100.0 * (1 - d_idle / d_total))
            if cpu is None:
                notes.append("cpu unknown (counters out of step)")
    dup = " ".join(current.duplicated)
    memory, why = _used("mem", current.mem_available, current.mem_total, "node_memory" in dup)
    notes += [why] if why else []
    disk, why = _used("disk", current.fs_avail, current.fs_size, "node_filesystem" in dup)
    notes += [why] if why else []
    return HostMetrics(cpu, memory, disk, mountpoint, "; ".join(notes) or None)


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
            self._client = new_client(self.timeout, auth=auth)
        answer = await request(
            self._client,
            "GET",
            self.target.metrics_url,
            deadline=self.timeout,
            max_bytes=MAX_ANSWER,
        )
        if not isinstance(answer, Answer):
            if answer.kind == "timeout":
                return Unavailable(f"metrics endpoint did not answer within {self.timeout:g}s")
            return Unavailable(f"metrics endpoint unreachable: {answer.detail}")
        if answer.cut is not None:
            fix = NARROW_FIX if answer.cut == "too_large" else None
            return Unavailable(f"metrics endpoint: {answer.cut_detail}", fix)
        if answer.status != 200:
            fix = (
                "check metrics_user / metrics_password_env" if answer.status in (401, 403) else None
            )
            return Unavailable(f"metrics endpoint answered HTTP {answer.status}", fix)
        try:
            current = await asyncio.to_thread(
                parse_exposition, answer.body, self.target.metrics_mountpoint
            )
        except TooManySeries as exc:
            return Unavailable(f"metrics endpoint: {exc}, not read", NARROW_FIX)
        except Exception as exc:  # noqa: BLE001 - whatever the parser meets is a state
            return Unavailable(
                "metrics endpoint returned something that is not a Prometheus exposition: "
                + (one_line(str(exc)) or type(exc).__name__)
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
