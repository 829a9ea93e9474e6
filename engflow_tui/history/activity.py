"""User activity and CRUD rates vs their 7-day baselines, read from the history store.

The afternoon checklist's automatic items and the User Growth / Feature Usage info alerts call
these. Each takes the store and ``now`` (no clock of its own). Must not import Textual.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from .store import HOURLY, RAW, HistoryStore, aggregate

BASELINE = timedelta(days=7)
RECENT = timedelta(hours=1)
MIN_BASELINE = timedelta(hours=6)
"""A baseline needs at least this much history before ``now - RECENT``."""


@dataclass(frozen=True, slots=True)
class Activity:
    """A current figure and its 7-day baseline (None when there is not enough history)."""

    value: float | None
    baseline: float | None
    unit: str
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass(frozen=True, slots=True)
class TableCrud:
    table: str
    inserted_per_hour: float
    updated_per_hour: float
    deleted_per_hour: float
    baseline_per_hour: float | None
    """Inserted + updated + deleted per hour over the previous 7 days."""

    @property
    def total_per_hour(self) -> float:
        return self.inserted_per_hour + self.updated_per_hour + self.deleted_per_hour


def _baseline_window(store: HistoryStore, now: datetime) -> tuple[datetime, datetime] | None:
    first = store.first_sample()
    end = now - RECENT
    if first is None or end - first < MIN_BASELINE:
        return None
    return max(first, now - BASELINE), end


def _hourly_and_recent(
    store: HistoryStore, metric: str, subject: str, start: datetime, end: datetime
) -> list[float]:
    """Hourly means over [start, end): the hourly tier, plus raw samples not rolled up yet."""
    rolled = store.rolled_until(HOURLY)
    hourly = store.series(metric, subject, start, min(rolled, end), tier=HOURLY)
    raw = store.series(metric, subject, max(rolled, start), end, tier=RAW)
    return [p.mean for p in hourly + aggregate(raw, 3600)]


def user_activity(store: HistoryStore, now: datetime) -> Activity:
    """Active users now (the latest sample within the hour) vs the median of the hourly means of
    the previous 7 days."""
    recent = store.series("users.active", "", now - RECENT, now + timedelta(seconds=1), tier=RAW)
    value = recent[-1].mean if recent else None
    window = _baseline_window(store, now)
    baseline = None
    if window is not None:
        hourly = _hourly_and_recent(store, "users.active", "", *window)
        baseline = statistics.median(hourly) if hourly else None
    detail = "no active-users sample in the last hour" if value is None else ""
    if value is not None and baseline is not None:
        detail = f"{value:.0f} active users vs a 7-day baseline of {baseline:.0f}"
    elif value is not None:
        detail = f"{value:.0f} active users (no 7-day baseline yet)"
    return Activity(value, baseline, "users", detail)


def _per_hour(totals: dict[str, tuple[float, int, float]], hours: float) -> dict[str, float]:
    return {subject: total / hours for subject, (total, _, _) in totals.items()} if hours else {}


def crud_per_hour(store: HistoryStore, now: datetime) -> list[TableCrud]:
    """Rows inserted / updated / deleted per hour per table over the last hour, with each table's
    7-day baseline (writes per hour), busiest first."""
    # A counter sample at t covers (t - span, t]: the one taken exactly an hour ago is older.
    start = now - RECENT + timedelta(seconds=1)
    first = store.covered_since()
    if first is None:
        return []
    covered = min(RECENT, now - first).total_seconds() / 3600
    recent = {
        kind: _per_hour(
            store.totals(f"table.{kind}", start, now + timedelta(seconds=1), tier=RAW), covered
        )
        for kind in ("ins", "upd", "del")
    }
    window = _baseline_window(store, now)
    base: dict[str, float] = {}
    if window is not None:
        b_start, b_end = window
        hours = (b_end - b_start).total_seconds() / 3600
        for kind in ("ins", "upd", "del"):
            for table, per_hour in _per_hour(
                store.totals(f"table.{kind}", b_start, b_end), hours
            ).items():
                base[table] = base.get(table, 0.0) + per_hour
    tables = set().union(*recent.values()) | set(base)
    rows = [
        TableCrud(
            table,
            recent["ins"].get(table, 0.0),
            recent["upd"].get(table, 0.0),
            recent["del"].get(table, 0.0),
            base.get(table) if window is not None else None,
        )
        for table in tables
    ]
    return sorted(rows, key=lambda r: (-r.total_per_hour, r.table))


@dataclass(frozen=True, slots=True)
class Baselines:
    """What the alert rules compare with, from the store (None: not enough history)."""

    users: float | None
    write_rate_per_min: dict[str, float]


def alert_baselines(store: HistoryStore, now: datetime) -> Baselines:
    """The User Growth and Feature Usage baselines: 7-day median of active users, and each table's
    mean writes per minute over the previous 7 days."""
    users = user_activity(store, now).baseline
    rates: dict[str, float] = {}
    for row in crud_per_hour(store, now):
        if row.baseline_per_hour is not None:
            rates[row.table] = row.baseline_per_hour / 60.0
    return Baselines(users, rates)
