"""The PostgreSQL collector: one monitoring connection per target, one Snapshot per refresh.

Probes are grouped by cadence: activity every refresh (one round trip), pg_stat_statements,
the RLS catalogue scan and the database size on slower cadences. ``collect()`` never raises:
a lost connection is a ``down`` state that reconnects with backoff, a timed-out probe makes the
state ``degraded``, a missing privilege or extension is an :class:`Unavailable` with its fix.
Must not import Textual.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import db, own_sessions
from ..authority import LOCK_CLASSID, LOCK_KEY, LOCK_OBJID
from ..config import Config, TargetConfig
from ..errors import DatabaseError
from ..model import (
    Authority,
    ConnectionStats,
    DbState,
    Health,
    ReplicationLag,
    RlsStatus,
    SessionRow,
    SlowQueries,
    SlowQuery,
    Snapshot,
    StatementTotal,
    TableActivity,
    TableRls,
    TableSize,
    Unavailable,
)
from ..redact import redact_optional, redact_query

PGSS_MISSING_FIX = (
    "run CREATE EXTENSION pg_stat_statements; in this database (if the server does not preload it "
    "yet: add pg_stat_statements to shared_preload_libraries and restart first)"
)
PGSS_NOT_LOADED_FIX = (
    "the extension exists but the library is not loaded: add pg_stat_statements to "
    "shared_preload_libraries and restart the server"
)
PRIVILEGE_FIX = "GRANT pg_monitor TO <monitoring role>;  (or at least pg_read_all_stats)"

MAX_BACKOFF = 30.0


def _now() -> datetime:
    return datetime.now(UTC)


LOCK_WAIT = 0.2
"""Seconds a monitoring query may wait for a lock before it gives up (55P03)."""


@dataclass(slots=True)
class _Cadence:
    """When a slow probe last ran, and its last result."""

    interval: float
    last_run: float = float("-inf")
    value: Any = None
    timed_out: bool = False
    """The last run hit statement_timeout: the state stays degraded until a run succeeds."""
    quiet_on_lock: bool = False
    """A lock wait (a migration holding a table) keeps the last value without degrading the
    state: for probes that are not about the database's health (the history's table sizes)."""

    follows_changes: bool = False
    """The probe's answer changes only when ``seen`` (a change counter read every refresh)
    moves: it runs then, at most every interval / 3 (the counter may move all the time), and
    every 4 x interval regardless. Without a counter (None): every interval."""
    seen: int | None = None
    """The change counter of this refresh."""
    scanned: int | None = None
    """The change counter when the probe last succeeded."""

    def due(self, now: float) -> bool:
        since = now - self.last_run
        if not self.follows_changes or self.seen is None or self.timed_out or since == float("inf"):
            return since >= self.interval
        if since >= 4 * self.interval:
            return True
        return self.seen != self.scanned and since >= self.interval / 3


class PostgresCollector:
    """Collects snapshots of one target. Create and use it inside the running event loop."""

    def __init__(
        self,
        target: TargetConfig,
        config: Config,
        *,
        statement_timeout: float | None = None,
        include_slow_queries: bool = True,
        light_first_cycle: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        claim_authority: bool = False,
        application_name: str = db.APPLICATION_NAME,
    ) -> None:
        self.target = target
        self.claim_authority = claim_authority
        """A watcher's collector: it takes the alerting lock (engflow_tui/authority.py) on its
        connection as soon as it can, and keeps trying while another session holds it."""
        self.application_name = application_name
        self._holding = False
        self.config = config
        self._monotonic = monotonic
        self.include_slow_queries = include_slow_queries
        self.light_first_cycle = light_first_cycle
        """After each (re)connect, the first snapshot reads activity only (the dashboard polls
        again right after: first data on screen sooner); diagnose wants everything at once."""
        self._light_cycle = False
        interval = config.console.refresh_interval
        # Below the refresh interval so a stuck probe never makes polls pile up.
        self.statement_timeout = statement_timeout or min(max(interval * 0.75, 0.15), 10.0)
        self._conn: Any = None
        self._version_num: int | None = None
        self._next_connect_at = float("-inf")
        self._backoff = 1.0
        self._last_error: str | None = None
        self._down_since: datetime | None = None
        self._pgss: tuple[str, str] | Unavailable | None = None  # (quoted schema, version)
        self._texts: dict[int, str] = {}
        self._own_queryids: set[int] = set()
        self._prev_blocks: tuple[int, int] | None = None
        self._cache_pct: float | None = None
        self._slow = _Cadence(config.console.slow_queries_interval)
        # The RLS scan reads every table (5 ms at 2,000) and its answer changes only with DDL:
        # it follows the catalogue write counter the activity probe reads (PostgreSQL 15+).
        self._rls = _Cadence(config.console.catalog_interval, follows_changes=True)
        self._size = _Cadence(config.console.size_interval)
        self._activity = _Cadence(
            max(config.console.catalog_interval, config.console.size_interval)
        )
        self._archiver = _Cadence(config.console.size_interval)
        self._users = _Cadence(config.console.size_interval)
        self._replication = _Cadence(config.console.size_interval)
        # Who sends the alerts (a watcher's lock): read at every (re)connect, then this often.
        self._authority = _Cadence(config.watch.check_interval)
        # Table sizes feed the history store's growth trends only (issue 9).
        # The history's own probes are the costliest (table sizes: ~220 ms at 2,000 tables):
        # their first run waits one interval, so start-up stays light; `r` runs them at once.
        started = monotonic()
        self._table_sizes = _Cadence(
            config.history.size_interval, last_run=started, quiet_on_lock=True
        )
        self._statement_totals = _Cadence(config.history.size_interval, last_run=started)
        self._lock = asyncio.Lock()
        self.session_filter = ""
        """Text the shipped sessions must contain (the connections panel's filter): the server
        filters before the max_sessions cap, so a session past the cap can still be found."""

    def set_session_filter(self, text: str) -> None:
        self.session_filter = text.strip()

    # ------------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=2.0)
            except asyncio.CancelledError:
                conn.terminate()
                raise
            except Exception:  # noqa: BLE001 - closing a broken connection
                conn.terminate()

    def force_refresh(self) -> None:
        """Make every slow-cadence probe due at the next collect, and retry a down target now."""
        for cadence in (
            self._slow,
            self._rls,
            self._size,
            self._activity,
            self._archiver,
            self._users,
            self._replication,
            self._authority,
            self._table_sizes,
            self._statement_totals,
        ):
            cadence.last_run = float("-inf")
        self._next_connect_at = float("-inf")
        self._pgss = None  # the operator may just have run CREATE EXTENSION

    async def _ensure_connected(self) -> None:
        if self.connected:
            return
        now = self._monotonic()
        if now < self._next_connect_at:
            raise DatabaseError(self._last_error or "not connected", sqlstate="backoff")
        try:
            self._conn = await db.connect(
                self.target.dsn,
                password=self.target.password(),
                timeout=self.config.console.connect_timeout,
                statement_timeout=self.statement_timeout,
                # A probe that needs a table lock (the history's table sizes) never queues
                # behind a migration's ACCESS EXCLUSIVE: it gives up and keeps its last value.
                lock_timeout=LOCK_WAIT,
                application_name=self.application_name,
            )
        except DatabaseError:
            self._next_connect_at = now + self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            raise
        self._backoff = 1.0
        self._next_connect_at = float("-inf")
        # First data on screen first: the costly probes wait for the next cycle.
        self._light_cycle = self.light_first_cycle
        version = self._conn.get_server_version()
        self._version_num = version.major * 10000 + version.minor
        self._pgss = None
        self._prev_blocks = None
        self._holding = False
        self._authority.last_run = float("-inf")  # a new session: who alerts, read at once

    # ------------------------------------------------------------------ collect

    async def collect(self) -> Snapshot:
        """One snapshot. Never raises (except cancellation)."""
        async with self._lock:
            return await self._collect()

    async def _collect(self) -> Snapshot:
        started = self._monotonic()
        taken_at = _now()
        try:
            await self._ensure_connected()
        except DatabaseError as exc:
            return self._down_snapshot(taken_at, started, exc)

        degraded: list[str] = []
        connections_unavailable: Unavailable | None = None
        try:
            t0 = self._monotonic()
            row = await self._conn.fetchrow(
                db.load_sql("activity", self._version_num or 0),
                self.config.console.max_sessions,
                # Folded by the server's lower() like the text it is compared with (Python's
                # lower() folds non-ASCII letters a C-locale server leaves as they are).
                self.session_filter or None,
                float(self.config.thresholds.idle_in_transaction),
                float(self.config.diagnose.long_running_query),
            )
            latency_ms = (self._monotonic() - t0) * 1000.0
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, asyncio.CancelledError):
                raise
            error = db.translate_error(exc)
            if db.is_connection_lost(exc):
                await self.close()
                return self._down_snapshot(taken_at, started, error)
            if error.sqlstate in {"57014", "timeout"}:
                return self._degraded_snapshot(taken_at, started, error)
            # Reachable but the activity probe is refused (e.g. no SELECT on pg_stat_activity):
            # the state is degraded, the panel says why, the other probes still run.
            row = None
            latency_ms = None
            fix = PRIVILEGE_FIX if error.sqlstate == "42501" else error.fix
            connections_unavailable = Unavailable(f"activity probe failed: {error}", fix)
            degraded.append(f"activity probe failed: {error}")

        self._down_since = None
        self._last_error = None
        connections = self._connections(row) if row is not None else connections_unavailable
        self._rls.seen = row["catalog_changes"] if row is not None else None
        now = self._monotonic()

        light, self._light_cycle = self._light_cycle, False
        slow = size = activity = archiver = users = table_sizes = statement_totals = rls = None
        replication = authority = None
        # Cheap, and a watcher takes the lock with it: in the light first cycle too.
        if self._authority.due(now):
            authority = await self._run_cadence(
                self._authority, now, self._probe_authority, degraded
            )
        if not light:
            rls = await self._run_cadence(self._rls, now, self._probe_rls, degraded)
            if self.include_slow_queries:
                slow = await self._run_cadence(self._slow, now, self._probe_slow_queries, degraded)
            size = await self._run_cadence(self._size, now, self._probe_size, degraded)
            activity = await self._run_cadence(
                self._activity, now, self._probe_table_activity, degraded
            )
            archiver = await self._run_cadence(self._archiver, now, self._probe_archiver, degraded)
            users = await self._run_cadence(self._users, now, self._probe_active_users, degraded)
            # The last reading between its runs, like the other slow probes (a figure of each
            # snapshot, not of the polls that read it).
            replication = await self._run_cadence(
                self._replication, now, self._probe_replication, degraded
            )
            if self.config.history.enabled and self._table_sizes.due(now):
                table_sizes = await self._run_cadence(
                    self._table_sizes, now, self._probe_table_sizes, degraded
                )
            if self.config.history.enabled and self._statement_totals.due(now):
                statement_totals = await self._run_cadence(
                    self._statement_totals, now, self._probe_statement_totals, degraded
                )
        if not self.connected:
            return self._down_snapshot(
                taken_at, started, DatabaseError(self._last_error or "connection lost")
            )

        health = Health(
            state=DbState.DEGRADED if degraded else DbState.CONNECTED,
            latency_ms=latency_ms,
            server_version=row["server_version"] if row else self._server_version_text(),
            server_version_num=self._version_num,
            uptime_seconds=row["uptime_seconds"] if row else None,
            database=row["database"] if row else None,
            database_size_bytes=size if isinstance(size, int) else None,
            cache_hit_pct=self._cache_hit(row["blks_hit"], row["blks_read"]) if row else None,
            xact_commit=row["xact_commit"] if row else None,
            xact_rollback=row["xact_rollback"] if row else None,
            blks_hit=row["blks_hit"] if row else None,
            blks_read=row["blks_read"] if row else None,
            error="; ".join(degraded) or None,
        )
        return Snapshot(
            target=self.target.name,
            taken_at=taken_at,
            health=health,
            connections=connections,
            slow_queries=slow if slow is not None else Unavailable("reading pg_stat_statements…"),
            rls=rls if rls is not None else Unavailable("not collected yet"),
            table_activity=activity if isinstance(activity, tuple) else None,
            archiver=archiver if isinstance(archiver, dict) else None,
            active_users=users,
            duration_ms=(self._monotonic() - started) * 1000.0,
            table_sizes=table_sizes if isinstance(table_sizes, tuple) else None,
            statement_totals=statement_totals if isinstance(statement_totals, tuple) else None,
            authority=authority,
            replication=replication if isinstance(replication, tuple) else None,
        )

    async def _run_cadence(
        self,
        cadence: _Cadence,
        now: float,
        probe: Callable[[], Any],
        degraded: list[str],
    ) -> Any:
        if not cadence.due(now) or not self.connected:
            if cadence.timed_out:
                degraded.append(f"{probe.__name__.removeprefix('_probe_')} timed out")
            return cadence.value
        cadence.last_run = now
        try:
            cadence.value = await probe()
            cadence.timed_out = False
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, asyncio.CancelledError):
                raise
            error = db.translate_error(exc)
            if db.is_connection_lost(exc):
                self._last_error = str(error)
                await self.close()
                return cadence.value
            if error.sqlstate == "55P03" and cadence.quiet_on_lock:
                return cadence.value  # try again at the next cadence
            if error.sqlstate in {"57014", "timeout", "55P03"}:
                why = "timed out waiting for a lock" if error.sqlstate == "55P03" else "timed out"
                degraded.append(f"{probe.__name__.removeprefix('_probe_')} {why}")
                cadence.timed_out = True
                cadence.last_run = now - cadence.interval + 2 * self.config.console.refresh_interval
                return cadence.value  # keep the last good value
            cadence.timed_out = False
            if error.sqlstate == "55000" and probe == self._probe_slow_queries:
                # "pg_stat_statements must be loaded via shared_preload_libraries"
                cadence.value = Unavailable(
                    "pg_stat_statements is installed but not loaded", PGSS_NOT_LOADED_FIX
                )
            elif error.sqlstate == "42501":
                text = str(error)
                cadence.value = Unavailable(
                    text if text.startswith("permission denied") else f"permission denied: {text}",
                    self._privilege_fix(probe),
                )
            else:
                cadence.value = Unavailable(str(error), error.fix)
        return cadence.value

    def _server_version_text(self) -> str | None:
        if self._conn is None:
            return None
        version = self._conn.get_server_version()
        return f"{version.major}.{version.minor}"

    def _privilege_fix(self, probe: Callable[[], Any]) -> str:
        if probe == self._probe_slow_queries and isinstance(self._pgss, tuple):
            return (
                f"GRANT EXECUTE ON FUNCTION {self._pgss[0]}.pg_stat_statements(boolean) TO <role>; "
                "and GRANT pg_read_all_stats TO <role>;"
            )
        if probe == self._probe_active_users:
            return (
                "GRANT USAGE ON SCHEMA auth TO <role>; GRANT SELECT (last_sign_in_at) ON auth.users "
                f"TO <role>; (or set targets.{self.target.name}.active_users_sql)"
            )
        return PRIVILEGE_FIX

    # ------------------------------------------------------------------ probes

    def _connections(self, row: Any) -> ConnectionStats:
        sessions = tuple(
            SessionRow(
                pid=s[0],
                user=s[1],
                application=s[2],
                client_addr=s[3],
                state=s[4],
                backend_start=s[5],
                state_age_seconds=s[6],
                xact_age_seconds=s[7],
                query_age_seconds=s[8],
                wait_event=s[9],
                # Other sessions' text may carry their credentials: never held here.
                query=redact_optional(s[10]),
            )
            for s in row["sessions"] or ()
        )
        total = row["total"]
        return ConnectionStats(
            total=total,
            max_connections=row["max_connections"],
            reserved=row["reserved"],
            by_state=json.loads(row["by_state"] or "{}"),
            oldest_idle_in_transaction_seconds=row["oldest_idle_in_transaction"],
            sessions=sessions,
            sessions_truncated=max(row["matched"] - len(sessions), 0),
            hidden=row["hidden"],
            session_filter=self.session_filter,
            matched=row["matched"],
            idle_in_transaction_over=row["idle_in_transaction_over"],
            idle_in_transaction_pids=tuple(row["idle_in_transaction_pids"] or ()),
            idle_threshold=float(self.config.thresholds.idle_in_transaction),
            long_running=row["long_running"],
            long_running_threshold=float(self.config.diagnose.long_running_query),
        )

    def _cache_hit(self, hit: int | None, read: int | None) -> float | None:
        """Hit rate over the last interval when there was traffic, else since the stats reset."""
        if hit is None or read is None:
            return None
        prev, self._prev_blocks = self._prev_blocks, (hit, read)
        if prev is not None:
            d_hit, d_read = hit - prev[0], read - prev[1]
            if d_hit >= 0 and d_read >= 0 and d_hit + d_read > 0:
                self._cache_pct = 100.0 * d_hit / (d_hit + d_read)
                return self._cache_pct
            if self._cache_pct is not None and d_hit >= 0 and d_read >= 0:
                return self._cache_pct
        return 100.0 * hit / (hit + read) if hit + read else None

    async def _probe_table_activity(self) -> tuple[TableActivity, ...]:
        rows = await self._conn.fetch(
            db.load_sql("table_activity"), list(self.target.exposed_schemas)
        )
        return tuple(
            TableActivity(r["schema"], r["table"], r["inserted"], r["updated"], r["deleted"])
            for r in rows
        )

    async def _probe_authority(self) -> Authority:
        """Take the alerting lock (a watcher's collector, while it does not hold it), then read
        who holds it. A watcher that finds the lock held by a session of its own process that
        is no longer one of its connections (left on the server by a network break, until its
        keepalives expire) ends that session: it would otherwise stand by for itself."""
        if self.claim_authority and not self._holding:
            claim = db.load_sql("authority_claim")
            self._holding = bool(await self._conn.fetchval(claim, LOCK_KEY))
        row = await self._conn.fetchrow(db.load_sql("authority"), LOCK_CLASSID, LOCK_OBJID)
        if row is None:
            return Authority()
        note = None
        if (
            self.claim_authority
            and not row["mine"]
            and row["application_name"] == self.application_name
            and not own_sessions.is_own(row["pid"], row["backend_start"])
        ):
            ended = await self._conn.fetchval(db.load_sql("authority_end_ghost"), row["pid"])
            note = (
                f"ended this watcher's own session {row['pid']} from before a network break, "
                "which still held the alerting lock" + ("" if ended else " (could not)")
            )
            self._authority.last_run = float("-inf")  # take the lock at the next poll
        return Authority(
            holder_pid=row["pid"],
            mine=row["mine"],
            application=row["application_name"],
            since=row["backend_start"],
            client_addr=row["client_addr"],
            role=row["role"],
            trusted=row["trusted"],
            note=note,
        )

    async def _probe_replication(self) -> tuple[ReplicationLag, ...]:
        rows = await self._conn.fetch(db.load_sql("replication"))
        return tuple(ReplicationLag(r["name"], r["lag_seconds"]) for r in rows)

    async def _probe_archiver(self) -> dict[str, Any] | None:
        row = await self._conn.fetchrow(db.load_sql("archiver"))
        return dict(row) if row is not None else None

    async def _probe_active_users(self) -> int | Unavailable:
        """The configured count of active users (default: auth.users signed in within 24 h)."""
        try:
            value = await self._conn.fetchval(self.target.active_users_sql)
        except Exception as exc:  # noqa: BLE001 - a missing auth schema is common outside Supabase
            if getattr(exc, "sqlstate", None) != "42P01":
                raise
            return Unavailable(
                f"active users: {exc}", f"set targets.{self.target.name}.active_users_sql"
            )
        if not isinstance(value, int):
            return Unavailable(
                "active_users_sql must return one whole number",
                f"fix targets.{self.target.name}.active_users_sql",
            )
        return value

    async def _probe_table_sizes(self) -> tuple[TableSize, ...]:
        rows = await self._conn.fetch(db.load_sql("table_sizes"), 500)
        return tuple(TableSize(r["schema"], r["table"], r["size_bytes"]) for r in rows)

    async def _probe_statement_totals(self) -> tuple[StatementTotal, ...] | Unavailable:
        """The 100 statements with the most total time (history: which ones got slower)."""
        location = await self._pgss_location()
        if isinstance(location, Unavailable):
            return location
        schema, version = location
        major, _, minor = version.partition(".")
        legacy = (int(major), int(minor or 0)) < (1, 8)
        sql = db.load_sql("statement_totals_legacy" if legacy else "statement_totals")
        rows = await self._conn.fetch(sql.replace("{pgss}", schema), 100)
        missing = [r["queryid"] for r in rows if r["queryid"] not in self._texts]
        if missing:
            text_sql = db.load_sql("slow_query_texts").replace("{pgss}", schema)
            for text_row in await self._conn.fetch(text_sql, missing, db.QUERY_MARKER):
                self._texts[text_row["queryid"]] = redact_query(text_row["query"] or "")
                if text_row["own"]:  # this role's, with the console's marker: never a name
                    self._own_queryids.add(text_row["queryid"])
        return tuple(
            StatementTotal(
                r["queryid"], r["calls"], r["total_ms"] or 0.0, self._texts.get(r["queryid"], "")
            )
            for r in rows
            if r["queryid"] not in self._own_queryids
        )

    async def _probe_size(self) -> int:
        return int(await self._conn.fetchval(db.load_sql("database_size")))

    async def _probe_rls(self) -> RlsStatus:
        seen = self._rls.seen
        rows = await self._conn.fetch(db.load_sql("rls_status"), list(self.target.exposed_schemas))
        self._rls.scanned = seen
        # Tables without RLS first, then by name (sorted here: the server's sort cost a third).
        rows.sort(key=lambda r: (r["rls_enabled"], r["schema"], r["table"]))
        return RlsStatus(
            schemas=self.target.exposed_schemas,
            tables=tuple(
                TableRls(
                    schema=r["schema"],
                    table=r["table"],
                    rls_enabled=r["rls_enabled"],
                    rls_forced=r["rls_forced"],
                    policy_count=r["policy_count"],
                    owner=r["owner"],
                )
                for r in rows
            ),
        )

    async def _pgss_location(self) -> tuple[str, str] | Unavailable:
        # Re-checked on every slow-cadence run while unavailable (one cheap catalogue read):
        # an operator who runs CREATE EXTENSION sees the panel come alive.
        if self._pgss is None or isinstance(self._pgss, Unavailable):
            row = await self._conn.fetchrow(db.load_sql("pgss_extension"))
            if row is None:
                self._pgss = Unavailable(
                    "pg_stat_statements is not installed in this database", PGSS_MISSING_FIX
                )
            else:
                self._pgss = (db.quote_ident(row["schema"]), row["version"])
        return self._pgss

    async def _probe_slow_queries(self) -> SlowQueries | Unavailable:
        location = await self._pgss_location()
        if isinstance(location, Unavailable):
            return location
        schema, version = location
        major, _, minor = version.partition(".")
        legacy = (int(major), int(minor or 0)) < (1, 8)
        # {pgss} is an identifier quoted by db.quote_ident, never a value.
        sql = db.load_sql("slow_queries_legacy" if legacy else "slow_queries").replace(
            "{pgss}", schema
        )
        limit = self.config.console.slow_queries_limit
        threshold = self.config.thresholds.slow_query_ms
        rows = await self._conn.fetch(sql, threshold, limit + len(self._own_queryids) + 5)
        # Without pg_read_all_stats, other roles' statements come back with queryid NULL: they
        # cannot be told apart, so they are counted for the note, not merged into a fake row.
        hidden_rows = [r for r in rows if r["queryid"] is None]
        rows = sorted(
            (r for r in rows if r["queryid"] is not None), key=lambda r: -(r["mean_ms"] or 0.0)
        )
        missing = [
            r["queryid"]
            for r in rows
            if r["queryid"] is not None and r["queryid"] not in self._texts
        ]
        if missing:
            text_sql = db.load_sql("slow_query_texts").replace("{pgss}", schema)
            for text_row in await self._conn.fetch(text_sql, missing, db.QUERY_MARKER):
                self._texts[text_row["queryid"]] = redact_query(text_row["query"] or "")
                if text_row["own"]:  # this role's, with the console's marker: never a name
                    self._own_queryids.add(text_row["queryid"])
            if len(self._texts) > 5000:  # bounded cache: keep what this result shows
                shown = {r["queryid"] for r in rows}
                self._texts = {k: v for k, v in self._texts.items() if k in shown}
        queries: list[SlowQuery] = []
        hidden = 0
        for r in rows:
            if r["queryid"] in self._own_queryids:
                continue
            text = self._texts.get(r["queryid"], "")
            if text == "<insufficient privilege>":
                hidden += 1
            queries.append(
                SlowQuery(
                    queryid=r["queryid"],
                    query=text,
                    calls=r["calls"],
                    mean_ms=r["mean_ms"] or 0.0,
                    total_ms=r["total_ms"] or 0.0,
                    rows=r["rows"] or 0,
                )
            )
            if len(queries) >= limit:
                break
        note = None
        if hidden or hidden_rows:
            note = (
                "other roles' statements are hidden: GRANT pg_read_all_stats TO <monitoring role>;"
            )
        return SlowQueries(
            threshold_ms=threshold, queries=tuple(queries), extension_version=version, note=note
        )

    # ------------------------------------------------------------------ down / degraded

    def _down_snapshot(self, taken_at: datetime, started: float, error: DatabaseError) -> Snapshot:
        self._last_error = str(error)
        if self._down_since is None:
            self._down_since = taken_at
        reason = f"database down: {error}"
        return Snapshot(
            target=self.target.name,
            taken_at=taken_at,
            health=Health(
                state=DbState.DOWN,
                server_version_num=self._version_num,
                error=str(error),
                down_since=self._down_since,
            ),
            connections=Unavailable(reason),
            slow_queries=Unavailable(reason),
            rls=Unavailable(reason),
            duration_ms=(self._monotonic() - started) * 1000.0,
        )

    def _degraded_snapshot(
        self, taken_at: datetime, started: float, error: DatabaseError
    ) -> Snapshot:
        reason = f"activity probe: {error}"
        slow, rls = self._slow.value, self._rls.value
        return Snapshot(
            target=self.target.name,
            taken_at=taken_at,
            health=Health(
                state=DbState.DEGRADED, server_version_num=self._version_num, error=reason
            ),
            connections=Unavailable(reason),
            slow_queries=slow if slow is not None else Unavailable(reason),
            rls=rls if rls is not None else Unavailable(reason),
            duration_ms=(self._monotonic() - started) * 1000.0,
        )
