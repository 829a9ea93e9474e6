"""Domain records passed from collectors to screens: frozen, slotted dataclasses.

A probe that could not run is not an exception but an :class:`Unavailable` record, so the
panels can say why and how to fix it. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


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
        return {"critical": 0, "warning": 1, "info": 2}[self.value]


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
    """How many sessions were not shipped (counts above remain complete)."""
    hidden: int = 0
    """Sessions of other roles whose details this role may not read (needs pg_read_all_stats)."""

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
        from .db import quote_ident  # local: keeps model import-light

        return f"{quote_ident(self.schema)}.{quote_ident(self.table)}"


@dataclass(frozen=True, slots=True)
class RlsStatus:
    schemas: tuple[str, ...]
    tables: tuple[TableRls, ...]

    @property
    def disabled(self) -> tuple[TableRls, ...]:
        return tuple(t for t in self.tables if not t.rls_enabled)


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
    duration_ms: float = 0.0
    """Wall time the collector spent on this snapshot."""
