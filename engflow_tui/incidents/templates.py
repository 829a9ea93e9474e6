"""The runbook's communication templates, filled from the incident's live state.
Must not import Textual.
"""

from __future__ import annotations

from .model import STATUS_DESCRIPTION, Incident

INCIDENT_ALERT = "Incident alert"
USER_NOTIFICATION = "User notification"
TEMPLATES = (INCIDENT_ALERT, USER_NOTIFICATION)

MAX_ACTIONS = 10


def actions_taken(incident: Incident) -> list[str]:
    """The console actions of the timeline, oldest first (the last MAX_ACTIONS)."""
    lines = [e.text for e in incident.timeline if e.kind == "action"]
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
    """The runbook's *User Notification*."""
    if not incident.open:
        return "\n".join(
            [
                "✅ Service Notice",
                "",
                f"The temporary issues with {incident.title} are resolved.",
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
            f"We're experiencing temporary issues with {incident.title}.",
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
