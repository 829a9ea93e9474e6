"""The incident report (Markdown), ready for the post-mortem the runbook asks for.
Must not import Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..durations import format_age
from ..textsafe import inert
from .model import Incident, TimelineEntry

ChecklistResults = Callable[[Incident], str | None]
"""A hook returning the Markdown of the incident's checklist results (None: not available)."""
RecordingAttachment = Callable[[Incident], str | None]
"""A hook that attaches the recording window of the incident and says where (None: none)."""


def _t(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _audit_block(record: dict[str, Any]) -> list[str]:
    lines = [
        f"  - operator: {record.get('operator', '?')} (OS user {record.get('os_user', '?')} "
        f"on {record.get('host', '?')}), target {record.get('target', '?')}, "
        f"event {record.get('event')}, at {record.get('ts')}"
    ]
    if record.get("statement"):
        lines += ["  - statement:", "", "    ```sql", f"    {record['statement']}", "    ```", ""]
    for target in record.get("targets") or []:
        lines.append(f"  - target: {target.get('label', target.get('key'))}")
    for outcome in record.get("outcomes") or []:
        lines.append(
            f"  - outcome: {outcome.get('target')}: {outcome.get('status')}"
            + (f" — {outcome['message']}" if outcome.get("message") else "")
        )
    if record.get("error"):
        lines.append(f"  - error: {record['error']}")
    return lines


def _entries(incident: Incident, kind: str) -> list[TimelineEntry]:
    return [e for e in incident.timeline if e.kind == kind]


def markdown(
    incident: Incident,
    now: datetime,
    checklist_results: ChecklistResults | None = None,
    recording: RecordingAttachment | None = None,
) -> str:
    out = [f"# Incident {incident.id}: {incident.title}", "", "## Summary", ""]
    out += [
        "| | |",
        "|---|---|",
        f"| Severity | SEV{incident.severity} |",
        f"| Status | {incident.status.value} |",
        f"| Impact | {_cell(incident.impact or '-')} |",
        f"| Target | {_cell(incident.target or '-')} |",
        f"| Incident lead | {_cell(incident.operator)} |",
        f"| Declared | {_t(incident.declared_at)} |",
        "| Acknowledged | "
        + (
            f"{_t(incident.acknowledged_at)} (after "
            f"{format_age((incident.acknowledged_at - incident.declared_at).total_seconds())})"
            if incident.acknowledged_at
            else "not acknowledged"
        )
        + " |",
        "| Escalated to | "
        + (
            "; ".join(f"{' + '.join(e.levels)} at {_t(e.at)}" for e in incident.escalations)
            or "not escalated"
        )
        + " |",
        f"| Resolved | {_t(incident.resolved_at) if incident.resolved_at else 'still open'} |",
        "| Resolution time | "
        + (
            format_age(incident.elapsed(now))
            if incident.resolved_at
            else f"open for {format_age(incident.elapsed(now))}"
        )
        + " |",
        "",
        "## Timeline",
        "",
        "| time | what | |",
        "|---|---|---|",
    ]
    out += [f"| {_t(e.at)} | {e.kind} | {_cell(e.text)} |" for e in incident.timeline]

    out += ["", "## Actions taken (with their audit records)", ""]
    actions = _entries(incident, "action")
    if not actions:
        out.append("No console action was recorded during the incident.")
    for entry in actions:
        out.append(f"- **{_t(entry.at)}** {entry.text}")
        out += _audit_block(entry.data.get("audit", {}))

    out += ["", "## Alerts", ""]
    alerts = _entries(incident, "alert")
    out += [f"- {_t(e.at)} {e.text}" for e in alerts] or ["No alert fired or resolved."]

    out += ["", "## Checklist results", ""]
    hooked = checklist_results(incident) if checklist_results is not None else None
    if hooked:
        out.append(hooked)
    else:
        steps = _entries(incident, "checklist")
        out += [f"- {_t(e.at)} {e.text}" for e in steps] or ["No checklist step was recorded."]

    out += ["", "## Recording", ""]
    attached = recording(incident) if recording is not None else None
    out.append(
        attached
        or "No recording covers the incident (`engflow-tui record` in a tmux pane or cron keeps "
        "one for the next post-mortem)."
    )

    out += ["", "## Messages sent", ""]
    messages = _entries(incident, "message")
    if not messages:
        out.append("No message was sent.")
    for entry in messages:
        out += [
            f"### {_t(entry.at)} — {entry.text}",
            "",
            "```",
            entry.data.get("text", ""),
            "```",
            "",
        ]

    out += ["", "## Notes", ""]
    out += [f"- {_t(e.at)} {e.text}" for e in _entries(incident, "note")] or ["No notes."]
    out += [
        "",
        "## Post-mortem (to complete)",
        "",
        "- Root cause:",
        "- Prevention measures:",
        "- Knowledge base updated:",
        "- Team debriefing:",
        "",
    ]
    return inert("\n".join(out))
