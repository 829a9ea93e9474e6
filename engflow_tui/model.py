"""Domain records passed from collectors to screens: frozen, slotted dataclasses.

A probe that could not run is not an exception but an :class:`Unavailable` record, so the
panels can say why and how to fix it. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from .sqlident import quote_qualified
from .textsafe import inert

if TYPE_CHECKING:
    from .authority import AlertingState

WATCHER_PREFIX = "engflow-tui watch@"
"""A watcher's application_name: this prefix, then its host (engflow_tui/authority.py)."""


class DbState(str, Enum):
    CONNECTED = "connected"
    DEGRADED = "degraded"
    DOWN = "down"


class Severity(str, Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self.value]


_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A probe that produced no data: why, and what would fix it."""

    reason: str
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class Health:
    state: DbState
    latency_ms: float | None = None
    server_version: str | None = None
    server_version_num: int | None = None
    uptime_seconds: float | None = None
    database: str | None = None
    database_size_bytes: int | None = None
    cache_hit_pct: float | None = None
    """Buffer cache hit rate; over the last interval when known, else since the stats reset."""
    xact_commit: int | None = None
    xact_rollback: int | None = None
    blks_hit: int | None = None
    blks_read: int | None = None
    error: str | None = None
    """Why the state is not ``connected`` (the driver's or server's words)."""
    down_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRow:
    pid: int
    user: str | None
    application: str | None
    client_addr: str | None
    state: str | None
    backend_start: datetime | None
    state_age_seconds: float | None
    """Seconds since the last state change (how long idle in transaction, or running)."""
    xact_age_seconds: float | None
    query_age_seconds: float | None
    wait_event: str | None
    query: str | None

    def one_line_query(self, width: int = 200) -> str:
        text = " ".join((self.query or "").split())
        return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True, slots=True)
class ConnectionStats:
    total: int
    max_connections: int
    reserved: int
    by_state: dict[str, int]
    oldest_idle_in_transaction_seconds: float | None
    sessions: tuple[SessionRow, ...]
    sessions_truncated: int = 0
    """How many sessions matching the filter were not shipped (counts remain complete)."""
    hidden: int = 0
    """Sessions of other roles whose details this role may not read (needs pg_read_all_stats)."""
    session_filter: str = ""
    """The text the shipped sessions were filtered on by the server ("" = none)."""
    matched: int | None = None
    """How many sessions matched ``session_filter`` (None: not known)."""
    idle_in_transaction_over: int | None = None
    """Sessions idle in transaction for longer than ``idle_threshold``, counted by the server
    over every session (never cut by the list's filter or cap; None: not counted)."""
    idle_in_transaction_pids: tuple[int, ...] = ()
    """The pids of the (up to five) oldest of those."""
    idle_threshold: float | None = None
    """The threshold (seconds) ``idle_in_transaction_over`` was counted with."""
    long_running: int | None = None
    """Statements running for longer than ``long_running_threshold``, counted by the server."""
    long_running_threshold: float | None = None

    @property
    def usage_pct(self) -> float:
        return 100.0 * self.total / self.max_connections if self.max_connections else 0.0


@dataclass(frozen=True, slots=True)
class SlowQuery:
    queryid: int | None
    query: str
    calls: int
    mean_ms: float
    total_ms: float
    rows: int


@dataclass(frozen=True, slots=True)
class SlowQueries:
    threshold_ms: float
    queries: tuple[SlowQuery, ...]
    extension_version: str | None = None
    note: str | None = None
    """e.g. query text hidden for lack of pg_read_all_stats."""


@dataclass(frozen=True, slots=True)
class TableRls:
    schema: str
    table: str
    rls_enabled: bool
    rls_forced: bool
    policy_count: int
    owner: str | None = None

    @property
    def qualified(self) -> str:
        return quote_qualified(self.schema, self.table)


@dataclass(frozen=True, slots=True)
class RlsStatus:
    schemas: tuple[str, ...]
    tables: tuple[TableRls, ...]

    @property
    def disabled(self) -> tuple[TableRls, ...]:
        return tuple(t for t in self.tables if not t.rls_enabled)


@dataclass(frozen=True, slots=True)
class HttpProbe:
    """One HTTP probe result: the REST API or the application's /health."""

    name: str
    """"api" or "app"."""
    url: str
    state: str
    """ok | unhealthy | http_error (3xx, 4xx, 5xx) | timeout (no complete answer by the deadline)
    | too_large | tls_error | connect_error | invalid_url | request_error | not_json | bad_fields"""
    detail: str
    latency_ms: float | None = None
    status_code: int | None = None
    version: str | None = None
    """The application's version, from its /health JSON."""

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def is_error(self) -> bool:
        """Counts towards the error rate: 5xx, timeouts and no answer at all."""
        return self.state in ("timeout", "connect_error", "tls_error", "request_error") or (
            self.status_code is not None and self.status_code >= 500
        )


@dataclass(frozen=True, slots=True)
class HostMetrics:
    """From a Prometheus exposition (node_exporter or a provider's metrics endpoint)."""

    cpu_pct: float | None
    """Over the interval since the previous scrape (None on the first one)."""
    memory_pct: float | None
    disk_pct: float | None
    mountpoint: str
    note: str | None = None
    """Why a figure is unknown though its series were there (NaN, out of range, duplicated)."""


@dataclass(frozen=True, slots=True)
class TableActivity:
    """Cumulative row counters of one table (pg_stat_user_tables) for rate baselines."""

    schema: str
    table: str
    inserted: int
    updated: int
    deleted: int

    @property
    def writes(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass(frozen=True, slots=True)
class TableSize:
    """Total size (heap + indexes + TOAST) of one table, for growth trends."""

    schema: str
    table: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class StatementTotal:
    """Cumulative calls and execution time of one statement (pg_stat_statements), for history."""

    queryid: int
    calls: int
    total_ms: float
    query: str = ""


@dataclass(frozen=True, slots=True)
class ReplicationLag:
    """How far one standby's replay is behind (seconds; None: not known yet)."""

    name: str
    """The standby's application_name on a primary, "self" on a standby."""
    lag_seconds: float | None


@dataclass(frozen=True, slots=True)
class Sparklines:
    """The last hour of the history store's samples, for the dashboard's sparklines (oldest
    first, one value per sample)."""

    connections: tuple[float, ...] = ()
    cache_hit_pct: tuple[float, ...] = ()
    tps: tuple[float, ...] = ()
    errors_per_min: tuple[float, ...] = ()
    """Rolled-back transactions plus failed HTTP probes, per minute."""


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    """Stable identity: rule id plus subject (e.g. ``rls.disabled:public.orcamentos``)."""
    rule: str
    severity: Severity
    title: str
    message: str
    value: float | None = None
    threshold: float | None = None
    since: datetime | None = None
    state: str = "firing"
    """pending (condition holds, not yet for its duration) | firing"""
    acknowledged: bool = False
    peak: float | None = None
    runbook: str | None = None
    """The runbook section it links to (alerts/runbook.toml)."""
    subject: str = ""
    unit: str = ""
    """The unit of value, threshold and peak (units.format_figure)."""


@dataclass(frozen=True, slots=True)
class Authority:
    """One reading of the alerting lock (engflow_tui/authority.py): who holds it (holder_pid
    None: nobody), as the target says."""

    holder_pid: int | None = None
    mine: bool = False
    """The holder is this process's own monitoring connection (a watcher that took it)."""
    application: str | None = None
    """The holder's application_name (None when this role may not read it)."""
    since: datetime | None = None
    """When the holder connected (it takes the lock right after)."""
    client_addr: str | None = None
    role: str | None = None
    trusted: bool = True
    """The holder's role is a superuser or a member of pg_monitor: any session may take an
    advisory lock and call itself a watcher, and an untrusted one never silences a console."""
    note: str | None = None
    """What the reading did besides reading (a watcher ending its own session from before a
    network break, which still held the lock): said once by the monitor."""

    @property
    def held(self) -> bool:
        return self.holder_pid is not None

    @property
    def host(self) -> str:
        """The holder's host as its application_name says it, else its address, else its pid."""
        app = self.application or ""
        if app.startswith(WATCHER_PREFIX) and len(app) > len(WATCHER_PREFIX):
            host, _, pid = app[len(WATCHER_PREFIX) :].rpartition("#")
            if not (host and pid.isdigit()):  # no "#pid" (an older watcher): all of it
                host = app[len(WATCHER_PREFIX) :]
            return inert(host, one_line=True)
        if app:
            return f"{inert(app, one_line=True)} (pid {self.holder_pid})"
        if self.client_addr:
            return f"{self.client_addr} (pid {self.holder_pid})"
        return f"pid {self.holder_pid}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one refresh cycle learned about one target."""

    target: str
    taken_at: datetime
    health: Health
    connections: ConnectionStats | Unavailable
    slow_queries: SlowQueries | Unavailable
    rls: RlsStatus | Unavailable
    alerts: tuple[Alert, ...] = field(default=())
    http: tuple[HttpProbe, ...] = field(default=())
    host: HostMetrics | Unavailable | None = None
    table_activity: tuple[TableActivity, ...] | None = None
    active_users: int | Unavailable | None = None
    archiver: dict[str, object] | None = None
    """pg_stat_archiver figures when archiving is on (archived/failed counts, ages)."""
    duration_ms: float = 0.0
    """Wall time the collector spent on this snapshot."""
    table_sizes: tuple[TableSize, ...] | None = None
    """Sizes of the largest tables, on the history's size cadence (None between reads)."""
    sparklines: Sparklines | None = None
    """The last hour from the history store (set by the Monitor)."""
    statement_totals: tuple[StatementTotal, ...] | None = None
    """The statements with the most total time, on the history's size cadence (None between)."""
    authority: Authority | Unavailable | None = None
    """Who holds the alerting lock, when it was read this cycle (None between readings)."""
    replication: tuple[ReplicationLag, ...] | None = None
    """Replay lag of each standby (on a primary) or of this server (on a standby), on the size
    cadence; None between reads, () when there is no replication."""


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert fired, resolved, or is announced again (nobody acknowledged it)."""

    kind: str
    """fired | resolved | repeat"""
    alert: Alert
    at: datetime


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of a target gives every front end (the dashboard, the console's flows,
    headless commands): the snapshot with its alerts, the alert events of this poll, the
    one-line notices to show once, and the recent alert history. Front ends read this; they
    never reach into the monitor's alert engine."""

    snapshot: Snapshot
    events: tuple[AlertEvent, ...] = ()
    notices: tuple[str, ...] = ()
    recent: tuple[dict[str, Any], ...] = ()
    """The alert history (fired / resolved / acknowledged), newest first."""
    alerting: AlertingState | None = None
    """Who sends this target's notifications (this console, or a watcher): authority.py."""

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Active alerts, firing first, worst first, then pending ones."""
        return self.snapshot.alerts
