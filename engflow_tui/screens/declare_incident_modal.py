"""DeclareIncidentModal: title, severity 1-4 (with the runbook's indicators), impact, ETA.
Returns the fields, or None when cancelled; the flow declares."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from ..incidents.model import SEVERITY_HELP


def severity_help(severity: int, initial_response: str, escalation: str) -> str:
    title, indicators = SEVERITY_HELP[severity]
    return (
        f"SEV{severity} {title}: "
        + "; ".join(indicators)
        + f".\nRespond within {initial_response}; escalate {escalation}."
    )


class DeclareIncidentModal(ModalScreen[dict[str, Any] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="declare.cancel"),
        Binding("ctrl+s", "declare", "Declare", id="declare.submit"),
    ]
    DEFAULT_CSS = """
    DeclareIncidentModal { align: center middle; }
    DeclareIncidentModal > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 0 1; }
    DeclareIncidentModal .label { color: $text-muted; }
    DeclareIncidentModal RadioSet { width: 100%; }
    DeclareIncidentModal #severity-help { height: 3; color: $text; }
    DeclareIncidentModal Horizontal { height: auto; }
    DeclareIncidentModal Input { margin-bottom: 0; }
    """

    def __init__(self, matrix_help: dict[int, tuple[str, str]]) -> None:
        """``matrix_help``: severity -> (initial response, escalation) as the config says."""
        super().__init__()
        self.matrix_help = matrix_help

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Declare incident[/b]  (Tab moves, Ctrl+S declares, Esc cancels)")
            yield Static("Title (the issue, in a few words)", classes="label")
            yield Input(placeholder="e.g. Database unreachable", compact=True, id="title")
            yield Static(
                "Severity — [b]if unsure, pick the higher severity[/b] (↑↓ then Enter)",
                classes="label",
            )
            with RadioSet(compact=True, id="severity"):
                for severity, (title, _) in SEVERITY_HELP.items():
                    yield RadioButton(f"SEV{severity} {title}", id=f"sev{severity}")
            yield Static("", id="severity-help", markup=False)
            yield Static("Impact (what users see)", classes="label")
            yield Input(placeholder="e.g. every user gets errors", compact=True, id="impact")
            yield Static("ETA (optional: estimated resolution)", classes="label")
            yield Input(placeholder="e.g. 15:30 UTC", compact=True, id="eta")
            with Horizontal():
                yield Button("Declare (Ctrl+S)", variant="error", id="declare")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self._help(None)
        self.query_one("#title", Input).focus()

    def _help(self, severity: int | None) -> None:
        box = self.query_one("#severity-help", Static)
        if severity is None:
            box.update("Pick a severity: its indicators and deadlines show here.")
        else:
            response, escalation = self.matrix_help[severity]
            box.update(severity_help(severity, response, escalation))

    @on(RadioSet.Changed, "#severity")
    def _severity_changed(self, event: RadioSet.Changed) -> None:
        self._help(self.severity)

    @property
    def severity(self) -> int | None:
        index = self.query_one("#severity", RadioSet).pressed_index
        return index + 1 if index >= 0 else None

    @on(Input.Submitted, "#title")
    def _title_done(self) -> None:
        self.query_one("#severity", RadioSet).focus()

    @on(Input.Submitted, "#impact")
    def _impact_done(self) -> None:
        self.query_one("#eta", Input).focus()

    @on(Input.Submitted, "#eta")
    def _eta_done(self) -> None:
        self.action_declare()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "declare":
            self.action_declare()
        else:
            self.action_cancel()

    def action_declare(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.notify("give the incident a title", severity="warning")
            self.query_one("#title", Input).focus()
            return
        if self.severity is None:
            self.notify("pick a severity (if unsure, the higher one)", severity="warning")
            self.query_one("#severity", RadioSet).focus()
            return
        self.dismiss(
            {
                "title": title,
                "severity": self.severity,
                "impact": self.query_one("#impact", Input).value.strip(),
                "eta": self.query_one("#eta", Input).value.strip(),
            }
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
