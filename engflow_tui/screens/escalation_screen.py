"""EscalationScreen: the runbook's contact levels and escalation matrix, from the config, and
what the open incident still needs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..config import EscalationConfig
from ..incidents.timers import matrix_duration


def render_levels(config: EscalationConfig) -> Text:
    """One block per level: it wraps at 80 columns where a six-column table would crop."""
    text = Text()
    for index, level in enumerate(config.levels):
        if index:
            text.append("\n")
        text.append(level.name, style="bold")
        text.append(f" — {level.title}\n" if level.title else "\n")
        for label, value in (
            ("contact", level.contact),
            ("availability", level.availability),
            ("response", level.response_time),
            ("escalate", level.escalation),
        ):
            if value:
                text.append(f"  {label}: ", style="dim")
                text.append(f"{value}\n")
    return text


class EscalationScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="escalation.back")]
    DEFAULT_CSS = """
    EscalationScreen .heading { text-style: bold; padding: 0 1; }
    EscalationScreen #matrix { height: auto; }
    EscalationScreen #levels { height: auto; padding: 0 1; }
    EscalationScreen #escalation-now { padding: 0 1; height: auto; }
    """

    def __init__(self, config: EscalationConfig, now_text: str = "") -> None:
        super().__init__()  # no fixed id: a second instance in the stack must not crash
        self.config = config
        self.now_text = now_text

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll(id="escalation-body"):
            yield Static(self._now(), id="escalation-now", markup=False)
            yield Static(
                f"Escalation matrix (business days start {self.config.business_day_start}, "
                f"UTC{self.config.business_utc_offset:+g})",
                classes="heading",
            )
            matrix: DataTable[Text] = DataTable(id="matrix", cursor_type="row")
            matrix.add_columns("severity", "initial response", "escalation time", "escalation to")
            for rule in self.config.matrix:
                matrix.add_row(
                    Text(f"{rule.severity} - {rule.name}"),
                    Text(f"< {matrix_duration(rule.initial_response)}"),
                    Text(matrix_duration(rule.escalate_after)),
                    Text(" + ".join(rule.escalate_to)),
                )
            yield matrix
            yield Static("Contact levels", classes="heading")
            yield Static(render_levels(self.config), id="levels")
        yield Footer(compact=True)

    def _now(self) -> str:
        return self.now_text or "No open incident."

    def show_now(self, now_text: str) -> None:
        """Shown again (back to it rather than a second copy): what the incident needs now."""
        self.now_text = now_text
        for shown in self.query("#escalation-now").results(Static):  # none before compose
            shown.update(self._now())
