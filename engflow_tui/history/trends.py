"""Trends and capacity: per-metric series over hours / days / weeks, table growth (GB/month), and
when the database reaches its storage limit or the connections reach max_connections at the
current trend. The arithmetic is pure (lists in, numbers out); the ``*_from_store`` functions
read a HistoryStore. Must not import Textual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .store import DAILY, HOURLY, RAW, HistoryStore, Point

MONTH = 30 * 86400.0
MIN_TREND = timedelta(hours=6)
"""Projections need at least this much history: minutes of data give absurd slopes."""


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    span: timedelta
    tier: int
    bucket: str
    label: str = ""


WINDOWS = {
    "hours": Window("hours", timedelta(hours=6), RAW, "minute", "6 hours"),
    "days": Window("days", timedelta(days=7), HOURLY, "hour", "7 days"),
    "weeks": Window("weeks", timedelta(weeks=12), DAILY, "day", "12 weeks"),
}

METRICS = {
    "connections": "connections in use",
    "cache": "cache hit rate %",
    "tps": "transactions / s",
    "errors": "rollbacks / min",
    "db_size": "database size",
    "users": "active users",
}


# ---------------------------------------------------------------------------------------------
# Pure arithmetic


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of y over x; None with fewer than two distinct x."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def _xy(points: list[tuple[datetime, float]]) -> list[tuple[float, float]]:
    return [(t.timestamp(), v) for t, v in points]


def growth_per_month(points: list[tuple[datetime, float]]) -> float | None:
    """The trend of a size series in units per 30 days (bytes/month for sizes)."""
    fit = linear_fit(_xy(points))
    return None if fit is None else fit[0] * MONTH


def time_to_reach(
    points: list[tuple[datetime, float]], limit: float, now: datetime
) -> datetime | None:
    """When the fitted trend reaches ``limit`` (``now`` when already there); None when the trend
    is flat or falling, or there is too little data to say."""
    fit = linear_fit(_xy(points))
    if fit is None:
        return None
    slope, intercept = fit
    current = slope * now.timestamp() + intercept
    last = points[-1][1]
    if max(current, last) >= limit:
        return now
    if slope <= 0:
        return None
    seconds = (limit - current) / slope
    if not math.isfinite(seconds) or seconds > 100 * 365 * 86400:
        return None
    return now + timedelta(seconds=seconds)


def hit_rate(hits: float, reads: float) -> float | None:
    return 100.0 * hits / (hits + reads) if hits + reads > 0 else None


# ---------------------------------------------------------------------------------------------
# From the store


def _points(
    store: HistoryStore,
    metric: str,
    subject: str,
    start: datetime,
    end: datetime,
    tier: int | None,
    even: bool = True,
) -> list[Point]:
    """Points up to and including ``end``; tier None mixes tiers (see HistoryStore.series)."""
    return store.series(metric, subject, start, end + timedelta(seconds=1), tier=tier, even=even)


def metric_series(
    store: HistoryStore, metric: str, window: Window, now: datetime
) -> list[tuple[datetime, float]]:
    """One chart's points: (bucket start, value), oldest first."""
    start = now - window.span
    tier: int | None = None if window.tier != RAW else RAW

    def gauge(name: str) -> list[tuple[datetime, float]]:
        return [(p.t, p.mean) for p in _points(store, name, "", start, now, tier)]

    if metric == "connections":
        return gauge("conn.total")
    if metric == "users":
        return gauge("users.active")
    if metric == "db_size":
        return gauge("db.size")
    if metric == "cache":
        hits = {p.t: p.total for p in _points(store, "blocks.hit", "", start, now, tier)}
        reads = {p.t: p.total for p in _points(store, "blocks.read", "", start, now, tier)}
        out = []
        for t in sorted(hits):
            rate = hit_rate(hits[t], reads.get(t, 0.0))
            if rate is not None:
                out.append((t, rate))
        return out
    commits = {p.t: p for p in _points(store, "xact.commit", "", start, now, tier)}
    rollbacks = {p.t: p for p in _points(store, "xact.rollback", "", start, now, tier)}
    if metric == "tps":
        return [
            (t, (commits[t].total + (rollbacks[t].total if t in rollbacks else 0)) / p.span)
            for t, p in sorted(commits.items())
            if p.span > 0
        ]
    if metric == "errors":
        return [(t, p.total * 60 / p.span) for t, p in sorted(rollbacks.items()) if p.span > 0]
    raise ValueError(f"unknown metric {metric!r} (known: {', '.join(METRICS)})")


@dataclass(frozen=True, slots=True)
class TableGrowth:
    table: str
    size_bytes: float
    per_month: float
    """Bytes per 30 days at the trend of the window."""


def table_growth(
    store: HistoryStore,
    now: datetime,
    span: timedelta = timedelta(days=30),
    top: int = 10,
    min_span: timedelta = MIN_TREND,
) -> list[TableGrowth]:
    """The tables that grow fastest over ``span`` (bytes/month), fastest first; a table with
    less than ``min_span`` of size samples is not projected."""
    start = now - span
    tier = None
    out = []
    for table in store.subjects("table.size"):
        points = [
            (p.t, p.mean) for p in _points(store, "table.size", table, start, now, tier, False)
        ]
        if not points or points[-1][0] - points[0][0] < min_span:
            continue  # minutes of data make absurd monthly slopes: no projection yet
        rate = growth_per_month(points)
        if rate is not None:
            out.append(TableGrowth(table, points[-1][1], rate))
    out.sort(key=lambda g: (-g.per_month, g.table))
    return out[:top]


@dataclass(frozen=True, slots=True)
class Capacity:
    db_size: float | None
    db_per_month: float | None
    storage_limit: float | None
    storage_full_at: datetime | None
    connections: float | None
    max_connections: float | None
    connections_per_day: float | None
    connections_full_at: datetime | None
    note: str | None = None
    """Why there is no projection yet (too little history)."""


def capacity(
    store: HistoryStore,
    now: datetime,
    storage_limit: float | None,
    span: timedelta = timedelta(days=30),
) -> Capacity:
    """Size and connection trends over ``span`` and when each reaches its limit."""
    start = now - span
    tier = None
    sizes = [(p.t, p.mean) for p in _points(store, "db.size", "", start, now, tier, False)]
    # Connections: the daily peak matters for the limit, so fit the bucket maxima.
    conns = [(p.t, p.vmax) for p in _points(store, "conn.total", "", start, now, tier, False)]
    maxes = _points(store, "conn.max", "", start, now, tier)
    max_conn = maxes[-1].mean if maxes else None
    covered = max(
        (points[-1][0] - points[0][0] for points in (sizes, conns) if points),
        default=timedelta(0),
    )
    if covered < MIN_TREND:
        hours = MIN_TREND.total_seconds() / 3600
        return Capacity(
            db_size=sizes[-1][1] if sizes else None,
            db_per_month=None,
            storage_limit=storage_limit,
            storage_full_at=None,
            connections=max((v for _, v in conns), default=None),
            max_connections=max_conn,
            connections_per_day=None,
            connections_full_at=None,
            note=f"trends and projections need {hours:.0f} h of history "
            f"({covered.total_seconds() / 3600:.1f} h so far)",
        )
    per_month = growth_per_month(sizes)
    fit = linear_fit(_xy(conns))
    return Capacity(
        db_size=sizes[-1][1] if sizes else None,
        db_per_month=per_month,
        storage_limit=storage_limit,
        storage_full_at=time_to_reach(sizes, storage_limit, now)
        if storage_limit and sizes
        else None,
        connections=conns[-1][1] if conns else None,
        max_connections=max_conn,
        connections_per_day=None if fit is None else fit[0] * 86400,
        connections_full_at=time_to_reach(conns, max_conn, now) if max_conn and conns else None,
    )


@dataclass(frozen=True, slots=True)
class Chart:
    metric: str
    label: str
    points: tuple[tuple[datetime, float], ...]

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(v for _, v in self.points)


@dataclass(frozen=True, slots=True)
class TrendsReport:
    """Everything the Trends screen shows, read in one go from the store."""

    window: str
    now: datetime
    charts: tuple[Chart, ...]
    growth: tuple[TableGrowth, ...]
    capacity: Capacity
    first_sample: datetime | None


def trends_report(
    store: HistoryStore, now: datetime, window: str, storage_limit: float | None
) -> TrendsReport:
    """The Trends screen's data for one window (hours | days | weeks)."""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r} (hours, days or weeks)")
    w = WINDOWS[window]
    charts = tuple(
        Chart(name, label, tuple(metric_series(store, name, w, now)))
        for name, label in METRICS.items()
    )
    span = max(w.span, timedelta(days=7))
    return TrendsReport(
        window=window,
        now=now,
        charts=charts,
        growth=tuple(table_growth(store, now, span)),
        capacity=capacity(store, now, storage_limit, span),
        first_sample=store.first_sample(),
    )


async def load_trends(
    store_thread: object, window: str, storage_limit: float | None
) -> TrendsReport:
    """Read a TrendsReport on the store's thread (the UI awaits it, never the disk)."""
    import asyncio

    def read(store: HistoryStore) -> TrendsReport:
        return trends_report(store, store.clock(), window, storage_limit)

    return await asyncio.wrap_future(store_thread.submit(read))  # type: ignore[attr-defined]
