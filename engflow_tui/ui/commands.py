"""Command-palette entries: every screen and action of the console, by name (the actions, with
their help, from the action registry)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from ..actions import registry

if TYPE_CHECKING:
    from .app import EngFlowApp


def palette_commands(app: EngFlowApp) -> Iterator[SystemCommand]:
    dash = app.dashboard
    yield SystemCommand("Help", "Every key of the console", app.action_help)
    if dash is not None:
        yield SystemCommand("Dashboard", "Back to the live panels", app.action_show_dashboard)
        yield SystemCommand(
            "Refresh now",
            "Poll every probe now (also retries a down database)",
            dash.action_refresh_now,
        )
        yield SystemCommand(
            "Pause / resume refresh",
            "Freeze the panels while you read them",
            dash.action_toggle_pause,
        )
        yield SystemCommand(
            "Filter focused table", "Show only rows containing a text", dash.action_filter
        )
        for title, panel_id in (
            ("Show connections", "connections-panel"),
            ("Show slow queries", "slow-queries-panel"),
            ("Show RLS status", "rls-panel"),
        ):
            yield SystemCommand(
                title,
                f"Focus the {title.removeprefix('Show ')} panel",
                lambda p=panel_id: app.focus_panel(p),
            )
    for action in registry.actions():
        yield SystemCommand(action.name, action.help, lambda n=action.name: app.start_action(n))
    yield SystemCommand(
        "Run checklist",
        "Runbook checklists (daily, weekly, monthly, pre-deployment, incident, SEV1-3), or resume one",
        app.action_run_checklist,
    )
    yield SystemCommand(
        "Diagnose",
        "Full diagnosis: integrity, security, locks, maintenance, backups, replication",
        app.action_show_diagnose,
    )
    yield SystemCommand(
        "Show alerts", "Active alerts and their history, with the runbook", app.action_show_alerts
    )
    yield SystemCommand(
        "Show trends",
        "History: trends over hours/days/weeks, table growth, storage and connection projections",
        app.action_show_trends,
    )
    yield SystemCommand(
        "Show audit log", "Every confirmed action, refusal and failure", app.action_show_audit_log
    )
    yield from incident_commands(app)


INCIDENT_COMMANDS = (
    ("Declare incident", "Runbook emergency procedures: severity, timers, timeline", "declare"),
    ("Show incident", "The open incident: deadlines and timeline (newest first)", "show"),
    (
        "Acknowledge incident",
        "Record the initial response (the matrix's first deadline)",
        "acknowledge",
    ),
    ("Change incident status", "INVESTIGATING / FIXING / RESOLVED", "status"),
    ("Change incident severity", "SEV1-4 (if unsure, the higher one)", "severity"),
    ("Escalate incident", "Record an escalation and to whom (Level 1/2/3)", "escalate"),
    ("Add incident note", "One line in the incident timeline", "note"),
    ("Set incident ETA", "The estimated resolution the messages announce", "eta"),
    ("Resolve incident", "Close the incident and stop its timers", "resolve"),
    (
        "Close incident",
        "A resolved incident: its bar leaves every screen now (report and archive stay)",
        "close",
    ),
    ("Incident message", "Incident alert / user notification: copy, save or post", "message"),
    (
        "Export incident report",
        "Markdown for the post-mortem: timeline, actions, alerts, messages",
        "export",
    ),
    ("Show escalation", "Contact levels and the escalation matrix", "show_escalation"),
    (
        "Incident procedure checklist",
        "The SEV1/2/3 time-boxed actions for this severity",
        "procedure",
    ),
)


def incident_commands(app: EngFlowApp) -> Iterator[SystemCommand]:
    for title, help_text, verb in INCIDENT_COMMANDS:
        yield SystemCommand(title, help_text, lambda v=verb: app.action_incident(v))
