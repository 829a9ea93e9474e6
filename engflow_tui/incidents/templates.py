"""The runbook's communication templates, filled from the incident's live state.

The *Incident Alert* goes to the team: it may name tables and alerts, and its *Actions Taken*
says what succeeded and what failed (read from each action's audit record, never from how the
timeline happened to word it). The *User Notification* goes to end users: it never names an
internal object (no table, alert or incident title); it says the impact the operator wrote, or a
neutral sentence. Must not import Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..textsafe import inert
from .model import STATUS_DESCRIPTION, Incident, TimelineEntry

INCIDENT_ALERT = "Incident alert"
USER_NOTIFICATION = "User notification"
TEMPLATES = (INCIDENT_ALERT, USER_NOTIFICATION)

MAX_ACTIONS = 10

NEUTRAL_IMPACT = "our service"
"""What the User Notification says is affected when the operator wrote no impact."""


def _one_line(text: object) -> str:
    return " ".join(inert(text, one_line=True).split())


def action_lines(entry: TimelineEntry) -> list[str]:
    """One timeline action as Actions Taken lines: what succeeded as "<action>: <what>", each
    failed or refused attempt as "FAILED: <action> on <target> — <why>" (an audit record says
    "finished" for an Enable RLS that hit a lock timeout: its outcomes say it failed)."""
    audit: Mapping[str, Any] | None = entry.data.get("audit")
    if not isinstance(audit, Mapping):
        return [_one_line(entry.text)]  # not from the audit log: as the timeline says it
    action = _one_line(audit.get("action") or "action")
    event = audit.get("event")
    outcomes = [o for o in audit.get("outcomes") or () if isinstance(o, Mapping)]
    done = [o for o in outcomes if o.get("status") == "done"]
    failed = [o for o in outcomes if o.get("status") in ("failed", "refused", "partial")]
    skipped = [o for o in outcomes if o.get("status") == "skipped"]
    lines = []
    if done or (event == "finished" and not outcomes):
        what = audit.get("summary") if not failed else _done_summary(done)
        lines.append(f"{action}: {_one_line(what or 'done')}")
    elif skipped and not failed and event == "finished":
        lines.append(f"NO EFFECT: {action} — {_one_line(skipped[0].get('message'))}")
    for outcome in failed:
        mark = {"refused": "REFUSED", "partial": "PARTIAL"}.get(
            str(outcome.get("status")), "FAILED"
        )
        lines.append(
            f"{mark}: {action} on {_one_line(outcome.get('target'))} — "
            f"{_one_line(outcome.get('message'))}"
        )
    if not lines:  # failed or refused before any target was touched
        mark = "REFUSED" if event == "refused" else "FAILED"
        why = audit.get("error") or audit.get("summary") or event
        lines.append(f"{mark}: {action} — {_one_line(why)}")
    return lines


def _done_summary(done: list[Mapping[str, Any]]) -> str:
    """What succeeded of an action that also failed somewhere ("1 terminated")."""
    if len(done) == 1:
        message, target = str(done[0].get("message")), str(done[0].get("target"))
        return message if target in message else f"{message}: {target}"
    counts: dict[str, int] = {}
    for outcome in done:
        counts[str(outcome.get("message"))] = counts.get(str(outcome.get("message")), 0) + 1
    return ", ".join(f"{n} {message}" for message, n in counts.items())


def actions_taken(incident: Incident) -> list[str]:
    """The console actions of the timeline as Actions Taken lines, oldest first (the last
    MAX_ACTIONS)."""
    lines = [line for e in incident.timeline if e.kind == "action" for line in action_lines(e)]
    return lines[-MAX_ACTIONS:]


def incident_alert(incident: Incident, system: str) -> str:
    """The runbook's *Incident Alert (Teams/Slack)*."""
    actions = actions_taken(incident) or ["(none yet)"]
    return "\n".join(
        [
            f"🚨 INCIDENT ALERT - SEVERITY {incident.severity}",
            "",
            f"System: {system}",
            f"Issue: {incident.title}",
            f"Impact: {incident.impact or '[user impact to be assessed]'}",
            f"ETA: {incident.eta or '[to be estimated]'}",
            "",
            "Actions Taken:",
            *(f"- {a}" for a in actions),
            "",
            f"Assigned: @{incident.operator}",
            f"Status: {incident.status.value}",
        ]
    )


def user_notification(incident: Incident, status_page_url: str) -> str:
    """The runbook's *User Notification*, for end users: the impact the operator wrote (never
    the title, which often names a table or an alert), or a neutral wording."""
    impact = " ".join(incident.impact.split()).rstrip(".")
    if not incident.open:
        return "\n".join(
            [
                "✅ Service Notice",
                "",
                f"The temporary issues we reported ({impact}) are resolved."
                if impact
                else f"The temporary issues with {NEUTRAL_IMPACT} are resolved.",
                f"Current Status: {STATUS_DESCRIPTION[incident.status]}",
                "",
                "We apologize for any inconvenience.",
                f"Updates: {status_page_url}",
            ]
        )
    return "\n".join(
        [
            "⚠️ Service Notice",
            "",
            f"We're experiencing temporary issues: {impact}."
            if impact
            else f"We're experiencing temporary issues with {NEUTRAL_IMPACT}.",
            "Our team is actively working on a resolution.",
            "",
            f"Estimated Resolution: {incident.eta or 'to be announced'}",
            f"Current Status: {STATUS_DESCRIPTION[incident.status]}",
            "",
            "We apologize for any inconvenience.",
            f"Updates: {status_page_url}",
        ]
    )


def fill(name: str, incident: Incident, system: str, status_page_url: str) -> str:
    if name == INCIDENT_ALERT:
        return incident_alert(incident, system)
    if name == USER_NOTIFICATION:
        return user_notification(incident, status_page_url)
    raise ValueError(f"no template named {name!r}")
