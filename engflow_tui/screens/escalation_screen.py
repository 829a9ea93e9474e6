"""EscalationScreen: the runbook's contact levels and escalation matrix, from the config, and
what the open incident still needs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..config import EscalationConfig
from ..durations import format_age


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "next business day"
    return format_age(seconds).replace("m00s", " min").replace("h00m", " h")


class EscalationScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="escalation.back")]
    DEFAULT_CSS = """
    EscalationScreen .heading { text-style: bold; padding: 0 1; }
    EscalationScreen #levels { height: auto; max-height: 50%; }
    EscalationScreen #matrix { height: auto; }
    EscalationScreen #escalation-now { padding: 0 1; height: auto; }
    """

    def __init__(self, config: EscalationConfig, now_text: str = "") -> None:
        super().__init__(id="escalation-screen")
        self.config = config
        self.now_text = now_text

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(self.now_text or "No open incident.", id="escalation-now", markup=False)
        yield Static("Contact levels", classes="heading")
        levels: DataTable[str] = DataTable(id="levels", cursor_type="row")
        levels.add_columns("level", "who", "contact", "availability", "response", "when")
        for level in self.config.levels:
            levels.add_row(
                level.name,
                level.title,
                level.contact,
                level.availability,
                level.response_time,
                level.escalation,
            )
        yield levels
        yield Static(
            f"Escalation matrix (business days start {self.config.business_day_start}, "
            f"UTC{self.config.business_utc_offset:+g})",
            classes="heading",
        )
        matrix: DataTable[str | Text] = DataTable(id="matrix", cursor_type="row")
        matrix.add_columns("severity", "initial response", "escalation time", "escalation to")
        for rule in self.config.matrix:
            matrix.add_row(
                f"{rule.severity} - {rule.name}",
                f"< {_duration(rule.initial_response)}",
                _duration(rule.escalate_after),
                " + ".join(rule.escalate_to),
            )
        yield matrix
        yield Footer(compact=True)
