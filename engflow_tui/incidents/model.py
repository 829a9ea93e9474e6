"""Incident records: the incident, its timeline entries and the runbook's severity indicators.

Frozen records; :class:`~engflow_tui.incidents.log.IncidentLog` replaces them on every change.
Must not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    INVESTIGATING = "INVESTIGATING"
    FIXING = "FIXING"
    RESOLVED = "RESOLVED"


STATUS_DESCRIPTION = {
    Status.INVESTIGATING: "We are investigating the cause.",
    Status.FIXING: "The cause is identified and a fix is being applied.",
    Status.RESOLVED: "The issue is resolved; we are monitoring the system.",
}

SEVERITY_HELP: dict[int, tuple[str, tuple[str, ...]]] = {
    1: (
        "Critical — system unavailable",
        (
            "Database completely unreachable",
            "The application returns 500 to every user",
            "Total loss of functionality",
        ),
    ),
    2: (
        "High — performance degradation",
        ("Response time > 2 s, consistently", "Error rate 1-5 %", "Limited functionality"),
    ),
    3: (
        "Medium — functional problems",
        ("Specific features failing", "Inconsistent data", "Relationship problems"),
    ),
    4: ("Low — minor issue", ("No user-visible impact yet; fix in business hours",)),
}
"""The runbook's 'Procedimentos de Emergência' indicators, per severity (Sev4: the matrix only)."""

TIMELINE_KINDS = (
    "declared",
    "acknowledged",
    "status",
    "severity",
    "escalation",
    "alert",
    "action",
    "checklist",
    "note",
    "message",
    "eta",
    "resolved",
    "report",
)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str
    """One of TIMELINE_KINDS (a caller may add its own)."""
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    """Details for the report: the audit record of an action, the text of a message..."""


@dataclass(frozen=True, slots=True)
class Escalation:
    at: datetime
    levels: tuple[str, ...]
    severity: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    title: str
    severity: int
    impact: str
    operator: str
    declared_at: datetime
    target: str = ""
    status: Status = Status.INVESTIGATING
    severity_since: datetime | None = None
    """When the current severity was set (escalation deadlines run from then)."""
    acknowledged_at: datetime | None = None
    escalations: tuple[Escalation, ...] = ()
    resolved_at: datetime | None = None
    eta: str = ""
    last_update_at: datetime | None = None
    """The last status update sent (copied, saved or posted); reminders run from it."""
    timeline: tuple[TimelineEntry, ...] = ()
    """Oldest first (screens show it newest first)."""

    @property
    def open(self) -> bool:
        return self.status is not Status.RESOLVED

    def elapsed(self, now: datetime) -> float:
        end = self.resolved_at or now
        return max(0.0, (end - self.declared_at).total_seconds())

    def escalated_to(self) -> set[str]:
        return {level for e in self.escalations for level in e.levels}
