"""Incident deadlines from the escalation matrix, and how urgent each is. Pure functions: the
clock is passed in, so tests walk a four-hour deadline in microseconds. Must not import Textual.

Acknowledgement runs from the declaration; escalation from when the current severity was set
(an incident raised to Sev1 after 40 minutes has 15 minutes from then to reach Level 2 + 3);
status updates from the last one sent (or the declaration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from ..config import EscalationConfig, IncidentsConfig
from ..durations import format_age
from .model import Incident

WARNING_FRACTION = 0.25
"""A deadline turns to warning once less than this share of its window is left."""

OK, WARNING, ALARM = "ok", "warning", "alarm"


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    """acknowledge | escalate | status update"""
    label: str
    """What to do, for the bar: "acknowledge", "escalate to Level 2 + Level 3"."""
    start: datetime
    due: datetime

    def remaining(self, now: datetime) -> float:
        return (self.due - now).total_seconds()


def next_business_day(after: datetime, config: EscalationConfig) -> datetime:
    """The start of the business day after ``after``'s (local to the business hours), skipping
    Saturday and Sunday."""
    tz = timezone(timedelta(hours=config.business_utc_offset))
    day = after.astimezone(tz).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    hour, minute = (int(x) for x in config.business_day_start.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def escalation_due(incident: Incident, config: EscalationConfig) -> datetime:
    rule = config.rule(incident.severity)
    since = incident.severity_since or incident.declared_at
    if rule.escalate_after is None:
        return next_business_day(since, config)
    return since + timedelta(seconds=rule.escalate_after)


def deadlines(
    incident: Incident, escalation: EscalationConfig, incidents: IncidentsConfig
) -> list[Deadline]:
    """Every deadline still to meet, earliest first; none once resolved."""
    if not incident.open:
        return []
    rule = escalation.rule(incident.severity)
    out: list[Deadline] = []
    if incident.acknowledged_at is None:
        out.append(
            Deadline(
                "acknowledge",
                "acknowledge",
                incident.declared_at,
                incident.declared_at + timedelta(seconds=rule.initial_response),
            )
        )
    missing = [level for level in rule.escalate_to if level not in incident.escalated_to()]
    if missing:
        out.append(
            Deadline(
                "escalate",
                "escalate to " + " + ".join(missing),
                incident.severity_since or incident.declared_at,
                escalation_due(incident, escalation),
            )
        )
    every = incidents.status_update_every.get(incident.severity)
    if every:
        start = incident.last_update_at or incident.declared_at
        out.append(
            Deadline(
                "status update", "send a status update", start, start + timedelta(seconds=every)
            )
        )
    return sorted(out, key=lambda d: d.due)


def next_deadline(
    incident: Incident, escalation: EscalationConfig, incidents: IncidentsConfig
) -> Deadline | None:
    pending = deadlines(incident, escalation, incidents)
    return pending[0] if pending else None


def urgency(deadline: Deadline | None, now: datetime) -> str:
    """ok, warning (less than a quarter of the window left) or alarm (passed)."""
    if deadline is None:
        return OK
    remaining = deadline.remaining(now)
    if remaining <= 0:
        return ALARM
    span = (deadline.due - deadline.start).total_seconds()
    return WARNING if remaining <= span * WARNING_FRACTION else OK


def describe(deadline: Deadline, now: datetime) -> str:
    """ "acknowledge in 2m56s" or "acknowledge OVERDUE 1m04s"."""
    remaining = deadline.remaining(now)
    if remaining <= 0:
        return f"{deadline.label} OVERDUE {format_age(-remaining)}"
    return f"{deadline.label} in {format_age(remaining)}"


def matrix_duration(seconds: float | None) -> str:
    """The escalation matrix's way of saying a duration: "5 min", "2 h", "next business day"."""
    if seconds is None:
        return "next business day"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return format_age(seconds)
