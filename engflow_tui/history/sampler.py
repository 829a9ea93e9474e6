"""Snapshots -> history samples, at the store's coarse cadence. Pure: no I/O, no Textual.

Cumulative server counters (transactions, blocks, table writes, statement calls) become deltas
between two samples; a counter that went down (stats reset, failover) gives no delta for that
sample instead of a negative one. HTTP probe results are counted as they arrive (each probe once).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..model import (
    ConnectionStats,
    DbState,
    Snapshot,
    Sparklines,
    StatementTotal,
    TableSize,
)
from .store import HistorySample, Point

SPARK_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SparkPoint:
    t: datetime
    connections: float | None
    cache_hit_pct: float | None
    tps: float | None
    errors_per_min: float | None


def spark_point(sample: HistorySample) -> SparkPoint:
    v = sample.values
    span = sample.span or 0.0
    conns = v.get(("conn.total", ""))
    hit, read = v.get(("blocks.hit", "")), v.get(("blocks.read", ""))
    cache = (
        100.0 * hit / (hit + read) if hit is not None and read is not None and hit + read else None
    )
    commit, rollback = v.get(("xact.commit", "")), v.get(("xact.rollback", ""))
    tps = (
        (commit + rollback) / span if commit is not None and rollback is not None and span else None
    )
    errors = None
    if rollback is not None and span:
        http = sum(value for (m, _), value in v.items() if m == "http.errors")
        errors = (rollback + http) * 60.0 / span
    return SparkPoint(sample.t, conns, cache, tps, errors)


def spark_points_from_store(series: dict[str, list[Point]]) -> list[SparkPoint]:
    """Rebuild the last hour's spark points from raw store series (at start-up)."""
    by_t: dict[datetime, dict[tuple[str, str], float]] = {}
    spans: dict[datetime, float] = {}
    for key, points in series.items():
        metric, _, subject = key.partition("|")
        for p in points:
            by_t.setdefault(p.t, {})[(metric, subject)] = p.total
            if metric == "xact.commit":
                spans[p.t] = p.span
    return [
        spark_point(HistorySample(t, spans.get(t, 0.0), values))
        for t, values in sorted(by_t.items())
    ]


SPARK_SERIES = ("conn.total", "blocks.hit", "blocks.read", "xact.commit", "xact.rollback")


def sparklines(points: deque[SparkPoint] | list[SparkPoint]) -> Sparklines:
    def col(name: str) -> tuple[float, ...]:
        return tuple(v for p in points if (v := getattr(p, name)) is not None)

    return Sparklines(
        connections=col("connections"),
        cache_hit_pct=col("cache_hit_pct"),
        tps=col("tps"),
        errors_per_min=col("errors_per_min"),
    )


@dataclass
class Sampler:
    sample_interval: float = 60.0
    size_interval: float = 600.0
    table_interval: float = 0.0
    """Per-table write counters are stored this often (their deltas then cover the interval):
    with hundreds of busy tables they are most of the store, and CRUD per hour needs no more."""
    _prev_counters: dict[tuple[str, str], float] = field(default_factory=dict)
    _prev_t: datetime | None = None
    _last_size_t: datetime | None = None
    _http: dict[tuple[str, str], float] = field(default_factory=dict)
    _pending_sizes: tuple[TableSize, ...] | None = None
    _last_table_t: datetime | None = None
    _pending_statements: tuple[StatementTotal, ...] | None = None
    _pending_statements_t: datetime | None = None
    _prev_statements: dict[int, tuple[float, float, datetime]] = field(default_factory=dict)
    recent: deque[SparkPoint] = field(default_factory=deque)
    """The last hour of spark points (seeded from the store at start-up)."""

    def seed(self, points: list[SparkPoint]) -> None:
        known = {p.t for p in self.recent}
        for p in points:
            if p.t not in known:
                self.recent.append(p)
        self.recent = deque(sorted(self.recent, key=lambda p: p.t))

    def sparklines(self) -> Sparklines:
        return sparklines(self.recent)

    def _statement_deltas(
        self, values: dict[tuple[str, str], float]
    ) -> tuple[dict[int, str], dict[tuple[str, str], float]]:
        """stmt.calls / stmt.total_ms deltas since the previous statements read (their own
        cadence; a statement absent from one read keeps its last values, so it gives a true
        delta when it is back), the texts of those stored, and the seconds the deltas cover."""
        pending, at = self._pending_statements, self._pending_statements_t
        if pending is None or at is None:
            return {}, {}
        self._pending_statements = None
        texts: dict[int, str] = {}
        spans: dict[tuple[str, str], float] = {}
        for s in pending:
            before = self._prev_statements.get(s.queryid)
            if before is not None and s.calls > before[0] and s.total_ms >= before[1]:
                key = str(s.queryid)
                values[("stmt.calls", key)] = float(s.calls - before[0])
                values[("stmt.total_ms", key)] = s.total_ms - before[1]
                span = (at - before[2]).total_seconds()
                spans[("stmt.calls", key)] = spans[("stmt.total_ms", key)] = span
                texts[s.queryid] = s.query
        for s in pending:
            self._prev_statements[s.queryid] = (s.calls, s.total_ms, at)
        return texts, spans

    def feed(self, snapshot: Snapshot, fresh_http: bool = True) -> HistorySample | None:
        """The sample to store for this snapshot, or None when none is due yet."""
        if fresh_http:
            for probe in snapshot.http:
                key = ("http.checks", probe.name)
                self._http[key] = self._http.get(key, 0.0) + 1
                err = ("http.errors", probe.name)
                self._http[err] = self._http.get(err, 0.0) + (1.0 if probe.is_error else 0.0)
        if snapshot.table_sizes is not None:
            # Read on their own cadence: kept until the next sample stores them.
            self._pending_sizes = snapshot.table_sizes
        if snapshot.statement_totals is not None:
            self._pending_statements = snapshot.statement_totals
            self._pending_statements_t = snapshot.taken_at
        t = snapshot.taken_at
        if snapshot.health.state is DbState.DOWN:
            return None
        if self._prev_t is not None and (t - self._prev_t).total_seconds() < self.sample_interval:
            return None
        values: dict[tuple[str, str], float] = {}
        # Slow cadences allow half a sample of jitter: polls do not land on exact minutes.
        counters = _counters(snapshot)
        table_span = (t - self._last_table_t).total_seconds() if self._last_table_t else 0.0
        if self._last_table_t is not None and (
            (t - self._last_table_t).total_seconds()
            < self.table_interval - self.sample_interval / 2
        ):
            counters = {k: v for k, v in counters.items() if not k[0].startswith("table.")}
        elif snapshot.table_activity is not None:
            self._last_table_t = t
        span = (t - self._prev_t).total_seconds() if self._prev_t is not None else 0.0
        if self._prev_t is not None:
            for key, value in counters.items():
                before = self._prev_counters.get(key)
                if before is None or value < before:
                    continue  # new series, or a stats reset: no delta this time
                delta = value - before
                if delta or key[0] in ("xact.commit", "xact.rollback", "blocks.hit", "blocks.read"):
                    values[key] = delta
            values.update(self._http)
        self._prev_counters.update(counters)
        self._prev_t = t
        self._http = {}
        values.update(_gauges(snapshot))
        if snapshot.health.database_size_bytes is not None and (
            self._last_size_t is None
            or (t - self._last_size_t).total_seconds()
            >= self.size_interval - self.sample_interval / 2
        ):
            self._last_size_t = t
            values[("db.size", "")] = float(snapshot.health.database_size_bytes)
        # Table sizes come on the collector's size cadence: stored with the first sample after.
        for ts in self._pending_sizes or ():
            values[("table.size", f"{ts.schema}.{ts.table}")] = float(ts.size_bytes)
        self._pending_sizes = None
        statements, statement_spans = self._statement_deltas(values)
        spans = {
            k: table_span for k in values if k[0].startswith("table.") and k[0] != "table.size"
        }
        spans.update(statement_spans)
        sample = HistorySample(t, span, values, statements, spans)
        if span:
            self.recent.append(spark_point(sample))
            while self.recent and t - self.recent[0].t > SPARK_WINDOW:
                self.recent.popleft()
        return sample


def _counters(snapshot: Snapshot) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    h = snapshot.health
    for key, value in (
        ("xact.commit", h.xact_commit),
        ("xact.rollback", h.xact_rollback),
        ("blocks.hit", h.blks_hit),
        ("blocks.read", h.blks_read),
    ):
        if value is not None:
            out[(key, "")] = float(value)
    for t in snapshot.table_activity or ():
        name = f"{t.schema}.{t.table}"
        out[("table.ins", name)] = float(t.inserted)
        out[("table.upd", name)] = float(t.updated)
        out[("table.del", name)] = float(t.deleted)
    return out


def _gauges(snapshot: Snapshot) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    conns = snapshot.connections
    if isinstance(conns, ConnectionStats):
        out[("conn.total", "")] = float(conns.total)
        out[("conn.max", "")] = float(conns.max_connections)
        for state, count in conns.by_state.items():
            out[("conn.state", state)] = float(count)
    if isinstance(snapshot.active_users, int):
        out[("users.active", "")] = float(snapshot.active_users)
    return out
