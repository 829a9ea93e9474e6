"""The metrics store: one SQLite file (WAL) per target, raw samples for a day, hourly aggregates for
90 days, daily ones for two years, and a size cap.

A point is (series, ts, total, n, vmin, vmax, span): a gauge's value is ``total / n`` (its mean
over the bucket), a counter's is ``total`` (the sum of its deltas) and its rate ``total / span``.
Aggregating is then the same SQL for both. Time is passed in (``clock``), so tests age data.

A store is used by one thread (see :mod:`.worker`); a corrupt or persistently locked file is
renamed aside and a fresh one started, with a message in :attr:`HistoryStore.problem`.
Must not import Textual.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config import HistoryConfig

RAW, HOURLY, DAILY = 0, 1, 2
BUCKET = {HOURLY: 3600, DAILY: 86400}
SCHEMA_VERSION = 1

GAUGES = {
    "conn.total",
    "conn.max",
    "conn.state",
    "db.size",
    "table.size",
    "users.active",
}
"""Everything else is a counter (a delta per sample): xact.commit, xact.rollback, blocks.hit,
blocks.read, table.ins / table.upd / table.del, stmt.calls, stmt.total_ms, http.errors and
http.checks."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    subject TEXT NOT NULL,
    UNIQUE (metric, subject)
);
CREATE TABLE IF NOT EXISTS points (
    tier INTEGER NOT NULL,
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    total REAL NOT NULL,
    n INTEGER NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    span REAL NOT NULL,
    PRIMARY KEY (tier, series, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_ts ON points (tier, ts);
CREATE TABLE IF NOT EXISTS statements (
    queryid INTEGER PRIMARY KEY,
    query TEXT NOT NULL,
    last_seen INTEGER NOT NULL
);
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def epoch(t: datetime) -> int:
    return int(t.timestamp())


@dataclass(frozen=True, slots=True)
class HistorySample:
    """What one sample stores: gauges and counter deltas keyed by (metric, subject)."""

    t: datetime
    span: float
    """Seconds since the previous sample (what the counter deltas cover)."""
    values: dict[tuple[str, str], float]
    statements: dict[int, str] = field(default_factory=dict)
    """Query texts of the statements sampled (queryid -> text), stored once."""
    spans: dict[tuple[str, str], float] = field(default_factory=dict)
    """Counters sampled on a slower cadence: the seconds their delta covers (else ``span``)."""


@dataclass(frozen=True, slots=True)
class Point:
    t: datetime
    total: float
    n: int
    vmin: float
    vmax: float
    span: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def rate(self) -> float:
        """Per second, for counters."""
        return self.total / self.span if self.span > 0 else 0.0


def aggregate(points: list[Point], size: int) -> list[Point]:
    """Finer points summed into buckets of ``size`` seconds (as the roll-up does)."""
    buckets: dict[int, list[Point]] = {}
    for p in points:
        buckets.setdefault(epoch(p.t) // size * size, []).append(p)
    return [
        Point(
            datetime.fromtimestamp(ts, UTC),
            sum(p.total for p in group),
            sum(p.n for p in group),
            min(p.vmin for p in group),
            max(p.vmax for p in group),
            sum(p.span for p in group),
        )
        for ts, group in sorted(buckets.items())
    ]


class StoreUnavailable(Exception):
    """The store could not be opened at all (not even a fresh file)."""


def store_path(state_dir: str, target: str) -> Path:
    import re

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", target)
    return Path(state_dir).expanduser() / f"history-{safe}.sqlite"


class HistoryStore:
    """The store of one target. Not thread-safe: one thread uses it (see worker.StoreThread)."""

    def __init__(
        self,
        path: Path,
        settings: HistoryConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        busy_timeout: float = 2.0,
        read_only: bool = False,
    ) -> None:
        self.path = path
        self.settings = settings or HistoryConfig()
        self.clock = clock
        self.busy_timeout = busy_timeout
        self.problem: str | None = None
        """A one-line notice for the UI (set aside, cannot write); read and cleared by the owner."""
        self._ids: dict[tuple[str, str], int] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create {self.path.parent}: {exc.strerror}") from None
        self.writer = False if read_only else self._claim_writer()
        """False when another engflow-tui process (console or `record`) already samples this
        target: two samplers would store every delta twice. Reading still works."""
        # Only the writer may set a damaged or locked file aside: a reader must never move the
        # file another engflow-tui process is writing.
        try:
            self.conn = self._open(may_set_aside=self.writer)
        except StoreUnavailable:
            self._release()
            raise

    # ------------------------------------------------------------------ open / set aside

    def _connect(self) -> sqlite3.Connection:
        with contextlib.suppress(OSError):  # statement texts inside: for its owner only
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            # NORMAL in WAL: a power cut may lose the last transaction, never corrupt the file.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            # At most 1 MiB of page cache (SQLite's default is 2 MiB per connection): the store
            # writes a sample a minute and reads little; a watcher holds one per target.
            conn.execute("PRAGMA cache_size=-1024")
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check[0] if check else '?'}")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {row[0]}, expected {SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self, may_set_aside: bool) -> sqlite3.Connection:
        try:
            return self._connect()
        except (sqlite3.DatabaseError, ValueError) as exc:  # corrupt, not a database, locked
            if not may_set_aside:
                raise StoreUnavailable(f"history store {self.path} is unreadable ({exc})") from None
            aside = self._set_aside()
            what = "locked by another process" if "locked" in str(exc) else f"unreadable ({exc})"
            self.problem = (
                f"history store {self.path} was {what}; set aside as {aside.name}, starting afresh"
                if aside is not None
                else f"history store {self.path} is {what} and cannot be moved"
            )
            if aside is None:
                raise StoreUnavailable(self.problem) from None
        try:
            return self._connect()
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise StoreUnavailable(f"history store {self.path}: {exc}") from None

    def _claim_writer(self) -> bool:
        import fcntl

        lock_path = self.path.with_name(self.path.name + ".writer")
        try:
            self._lock_file = open(lock_path, "a+")  # noqa: SIM115 - held until close()
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            notice = (
                f"history of {self.path.stem.removeprefix('history-')} is already kept by another "
                "engflow-tui process (console or record): this one only reads it"
            )
            self.problem = notice
            return False
        return True

    def _set_aside(self) -> Path | None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{os.getpid()}")
        try:
            self.path.replace(aside)
        except OSError:
            return None
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(OSError):
                side.replace(aside.with_name(aside.name + suffix))
        return aside

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self._release()

    def _release(self) -> None:
        lock = getattr(self, "_lock_file", None)
        if lock is not None:
            lock.close()  # releases the writer lock

    # ------------------------------------------------------------------ writing

    def _series_id(self, metric: str, subject: str) -> int:
        key = (metric, subject)
        found = self._ids.get(key)
        if found is not None:
            return found
        row = self.conn.execute(
            "SELECT id FROM series WHERE metric = ? AND subject = ?", key
        ).fetchone()
        if row is None:
            row = self.conn.execute(
                "INSERT INTO series (metric, subject) VALUES (?, ?) RETURNING id", key
            ).fetchone()
        self._ids[key] = int(row[0])
        return int(row[0])

    def write(self, sample: HistorySample) -> bool:
        """Store one sample in one transaction (a crash loses at most this one). False when the
        file is busy or broken: the sample is dropped and :attr:`problem` says why."""
        if not self.writer:
            return False
        ts = epoch(sample.t)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                rows = [
                    (
                        RAW,
                        self._series_id(m, s),
                        ts,
                        v,
                        1,
                        v,
                        v,
                        sample.spans.get((m, s), sample.span),
                    )
                    for (m, s), v in sample.values.items()
                ]
                self.conn.executemany(
                    "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                if sample.statements:
                    self.conn.executemany(
                        "INSERT INTO statements (queryid, query, last_seen) VALUES (?, ?, ?) "
                        "ON CONFLICT (queryid) DO UPDATE SET last_seen = excluded.last_seen",
                        [(q, text, ts) for q, text in sample.statements.items()],
                    )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._ids.clear()  # ids inserted in the rolled-back transaction are gone
                raise
        except sqlite3.Error as exc:
            self.problem = f"history store {self.path}: sample not written ({exc})"
            return False
        return True

    # ------------------------------------------------------------------ retention

    def _meta(self, key: str, default: int) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def _set_meta(self, key: str, value: int) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )

    def _roll(self, source: int, target: int, until: int) -> None:
        """Aggregate complete buckets of ``source`` before ``until`` into ``target``."""
        size = BUCKET[target]
        key = f"rolled_{target}"
        since = self._meta(key, 0)
        if until <= since:
            return
        self.conn.execute(
            f"""
            INSERT OR REPLACE INTO points
            SELECT {target}, series, (ts / {size}) * {size}, sum(total), sum(n), min(vmin),
                   max(vmax), sum(span)
              FROM points
             WHERE tier = ? AND ts >= ? AND ts < ?
             GROUP BY series, ts / {size}
            """,  # ok-sql: tiers and bucket sizes are constants of this module
            (source, (since // size) * size, until),
        )
        self._set_meta(key, until)

    def maintain(self) -> None:
        """Roll raw samples up into hours and hours into days, drop what is past its retention,
        and keep the file under its size cap (oldest first)."""
        if not self.writer:
            return
        now = epoch(self.clock())
        settings = self.settings
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self._roll(RAW, HOURLY, (now // 3600) * 3600)
                self._roll(HOURLY, DAILY, (now // 86400) * 86400)
                for tier, keep in (
                    (RAW, settings.raw_retention),
                    (HOURLY, settings.hourly_retention),
                    (DAILY, settings.daily_retention),
                ):
                    self.conn.execute(
                        "DELETE FROM points WHERE tier = ? AND ts < ?", (tier, now - int(keep))
                    )
                self.conn.execute(
                    "DELETE FROM statements WHERE last_seen < ?",
                    (now - int(settings.hourly_retention),),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self._enforce_cap()
        except sqlite3.Error as exc:
            self.problem = f"history store {self.path}: maintenance failed ({exc})"

    def size_bytes(self) -> int:
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        page = self.conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * page)

    def _enforce_cap(self) -> None:
        cap = self.settings.max_size_mb * 1024 * 1024
        for _ in range(50):
            if self.size_bytes() <= cap:
                break
            # The oldest tenth of the finest tier that still has rows goes first.
            for tier in (RAW, HOURLY, DAILY):
                row = self.conn.execute(
                    "SELECT count(*), min(ts), max(ts) FROM points WHERE tier = ?", (tier,)
                ).fetchone()
                if row[0]:
                    cut = row[1] + max((row[2] - row[1]) // 10, 1)
                    self.conn.execute("DELETE FROM points WHERE tier = ? AND ts < ?", (tier, cut))
                    break
            else:
                break
        self.conn.execute("PRAGMA incremental_vacuum")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ------------------------------------------------------------------ reading

    def tier_for(self, start: datetime) -> int:
        """The finest tier that still holds data from ``start``."""
        age = (self.clock() - start).total_seconds()
        if age <= self.settings.raw_retention:
            return RAW
        if age <= self.settings.hourly_retention:
            return HOURLY
        return DAILY

    def series(
        self,
        metric: str,
        subject: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
        tier: int | None = None,
        even: bool = True,
    ) -> list[Point]:
        """Points of one series in [start, end), oldest first. Without ``tier``: the finest tier
        that covers ``start``, completed by finer tiers for what is not rolled up yet; ``even``
        aggregates that tail to the same bucket size (charts), else it stays fine (trend fits)."""
        start = start or datetime.fromtimestamp(0, UTC)
        end = end or self.clock()
        if tier is not None:
            return self._series(metric, subject, start, end, tier)
        tier = self.tier_for(start)
        if tier == RAW:
            return self._series(metric, subject, start, end, RAW)
        out: list[Point] = []
        cursor = start
        for level in range(tier, RAW - 1, -1):
            until = end if level == RAW else min(self.rolled_until(level), end)
            if until <= cursor:
                continue
            points = self._series(metric, subject, cursor, until, level)
            out += points if level == tier or not even else aggregate(points, BUCKET[tier])
            cursor = until
        return out

    def _series(
        self, metric: str, subject: str, start: datetime, end: datetime, tier: int
    ) -> list[Point]:
        rows = self.conn.execute(
            """
            SELECT p.ts, p.total, p.n, p.vmin, p.vmax, p.span
              FROM points p JOIN series s ON s.id = p.series
             WHERE s.metric = ? AND s.subject = ? AND p.tier = ? AND p.ts >= ? AND p.ts < ?
             ORDER BY p.ts
            """,
            (metric, subject, tier, epoch(start), epoch(end)),
        ).fetchall()
        return [Point(datetime.fromtimestamp(r[0], UTC), *r[1:]) for r in rows]

    def subjects(self, metric: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT subject FROM series WHERE metric = ? ORDER BY subject", (metric,)
        ).fetchall()
        return [r[0] for r in rows]

    def totals(
        self, metric: str, start: datetime, end: datetime, tier: int | None = None
    ) -> dict[str, tuple[float, int, float]]:
        """Per subject: (sum of totals, sum of n, sum of spans) over [start, end). Without
        ``tier``: coarse tiers for what is rolled up, finer ones for the rest."""
        if tier is not None:
            return self._totals(metric, start, end, tier)
        top = self.tier_for(start)
        out: dict[str, tuple[float, int, float]] = {}
        cursor = start
        for level in range(top, RAW - 1, -1):
            until = end if level == RAW else min(self.rolled_until(level), end)
            if until <= cursor:
                continue
            for subject, (total, n, span) in self._totals(metric, cursor, until, level).items():
                t0, n0, s0 = out.get(subject, (0.0, 0, 0.0))
                out[subject] = (t0 + total, n0 + n, s0 + span)
            cursor = until
        return out

    def _totals(
        self, metric: str, start: datetime, end: datetime, tier: int
    ) -> dict[str, tuple[float, int, float]]:
        rows = self.conn.execute(
            """
            SELECT s.subject, sum(p.total), sum(p.n), sum(p.span)
              FROM points p JOIN series s ON s.id = p.series
             WHERE s.metric = ? AND p.tier = ? AND p.ts >= ? AND p.ts < ?
             GROUP BY s.subject
            """,
            (metric, tier, epoch(start), epoch(end)),
        ).fetchall()
        return {r[0]: (float(r[1]), int(r[2]), float(r[3])) for r in rows}

    def statement_texts(self, queryids: Iterable[int]) -> dict[int, str]:
        ids = list(queryids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT queryid, query FROM statements WHERE queryid IN ({marks})",  # ok-sql: marks
            ids,
        ).fetchall()
        return {int(r[0]): r[1] for r in rows}

    def rolled_until(self, tier: int = HOURLY) -> datetime:
        """Raw samples before this instant are aggregated into ``tier`` (HOURLY or DAILY)."""
        return datetime.fromtimestamp(self._meta(f"rolled_{tier}", 0), UTC)

    def covered_since(self) -> datetime | None:
        """The earliest instant the stored data speaks for (a counter's first delta covers the
        span before its sample)."""
        row = self.conn.execute("SELECT min(ts - span) FROM points").fetchone()
        return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None

    def first_sample(self) -> datetime | None:
        row = self.conn.execute("SELECT min(ts) FROM points").fetchone()
        return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None
