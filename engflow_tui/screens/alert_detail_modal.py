"""AlertDetailModal: an alert with its runbook section (symptoms, diagnosis, solutions) and the
console's matching actions and screens, one key away."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..durations import format_age
from ..model import Alert
from ..textsafe import inert
from ..units import format_figure


def runbook_text(section: dict[str, Any]) -> Text:
    text = Text()
    text.append(f"{section.get('section', '')}\n", style="bold underline")
    for title, key in (
        ("Symptoms (Sintomas)", "symptoms"),
        ("Diagnosis (Diagnóstico)", "diagnosis"),
        ("Solutions (Soluções)", "solutions"),
    ):
        items = section.get(key) or []
        if items:
            text.append(f"\n{title}\n", style="bold")
            for item in items:
                text.append(f"  • {item}\n")
    return text


class AlertDetailModal(ModalScreen[str | None]):
    """Returns the palette name of the action or screen the engineer chose, or None."""

    BINDINGS = [
        Binding("escape,q", "dismiss_none", "Close", id="alert_detail.close"),
        Binding("a", "acknowledge", "Acknowledge", id="alert_detail.ack"),
    ]
    DEFAULT_CSS = """
    AlertDetailModal { align: center middle; }
    AlertDetailModal > VerticalScroll { width: 100; max-width: 96%; height: auto; max-height: 94%;
        border: thick $accent; background: $surface; padding: 0 1; }
    AlertDetailModal .title { text-style: bold; width: 100%; padding: 0 1; background: $primary-darken-2; }
    AlertDetailModal #alert-actions { height: auto; margin-top: 1; }
    AlertDetailModal Button { margin: 0 1 0 0; }
    """

    def __init__(self, alert: Alert, section: dict[str, Any] | None, now: Any) -> None:
        super().__init__()
        self.alert = alert
        self.section = section or {}
        self.now = now

    def compose(self) -> ComposeResult:
        a = self.alert
        facts = Text()
        facts.append(f"{a.severity.value.upper()} · {a.state}", style="bold")
        if a.acknowledged:
            facts.append(" · acknowledged", style="green")
        facts.append(f"\n{inert(a.message)}\n")
        if a.since is not None:
            facts.append(
                f"since {a.since.astimezone():%Y-%m-%d %H:%M:%S} ({format_age((self.now - a.since).total_seconds())} ago)",
                style="dim",
            )
        if a.value is not None:
            facts.append(
                f"  value {format_figure(a.value, a.unit)}"
                f"  threshold {format_figure(a.threshold, a.unit)}",
                style="dim",
            )
            if a.peak is not None:
                facts.append(f"  peak {format_figure(a.peak, a.unit)}", style="dim")
        with VerticalScroll():
            yield Static(
                escape(
                    f"{a.title}" + (f" — {inert(a.subject, one_line=True)}" if a.subject else "")
                ),
                classes="title",
                id="alert-title",
            )
            yield Static(facts, id="alert-facts")
            yield Static(
                runbook_text(self.section) if self.section else Text("(no runbook section)"),
                id="alert-runbook",
            )
            with Horizontal(id="alert-actions"):
                for index, name in enumerate(self.section.get("actions", [])):
                    yield Button(f"{name} ({index + 1})", id=f"act-{index}")
                yield Button("Close (Esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_key(self, event: Any) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            actions = self.section.get("actions", [])
            if 0 <= index < len(actions):
                event.stop()
                self.dismiss(actions[index])

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "close":
            self.dismiss(None)
        elif event.button.id and event.button.id.startswith("act-"):
            self.dismiss(self.section["actions"][int(event.button.id[4:])])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_acknowledge(self) -> None:
        self.dismiss("__acknowledge__")
