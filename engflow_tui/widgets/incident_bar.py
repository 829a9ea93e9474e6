"""IncidentBar: one line on every screen while an incident is open — severity, status, elapsed
time and the next deadline, coloured by how near that deadline is; once resolved, green, with
when it closes by itself (Close incident closes it sooner). Receives records; renders with a
pure function."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ..durations import format_age
from ..incidents.model import Incident
from ..incidents.timers import ALARM, WARNING, Deadline, describe, urgency

SEVERITY_STYLE = {
    1: "bold white on red",
    2: "bold black on dark_orange",
    3: "bold black on yellow",
    4: "bold black on grey70",
}
URGENCY_CLASSES = ("-ok", "-warning", "-alarm", "-resolved")


def render_bar(
    incident: Incident, deadline: Deadline | None, now: datetime, closes_in: float | None = None
) -> Text:
    """``closes_in``: seconds until a resolved incident's bar closes by itself."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" SEV{incident.severity} ", style=SEVERITY_STYLE[incident.severity])
    text.append(f" {incident.status.value} ", style="bold")
    if incident.open:
        text.append(f" {format_age(incident.elapsed(now))} ")
    else:
        text.append(f" resolved in {format_age(incident.elapsed(now))} ")
        if closes_in is not None:
            text.append(f"│ closes in {format_age(max(closes_in, 0.0))} (^p Close incident) ")
    if deadline is not None:
        level = urgency(deadline, now)
        marker = "⚠ " if level == WARNING else "⏰ " if level == ALARM else ""
        text.append(f"│ {marker}{describe(deadline, now)} ", style="bold" if marker else "")
    text.append(f"│ {incident.title}")
    return text


def bar_class(incident: Incident, deadline: Deadline | None, now: datetime) -> str:
    if not incident.open:
        return "-resolved"
    return f"-{urgency(deadline, now)}"


class IncidentBar(Static):
    DEFAULT_CSS = """
    IncidentBar { height: 1; width: 100%; padding: 0 0; background: $primary-darken-2; }
    IncidentBar.-warning { background: $warning; color: black; }
    IncidentBar.-alarm { background: $error; color: white; text-style: bold; }
    IncidentBar.-resolved { background: $success-darken-2; }
    """

    def __init__(self) -> None:
        super().__init__(id="incident-bar")

    def show(
        self,
        incident: Incident | None,
        deadline: Deadline | None,
        now: datetime,
        closes_in: float | None = None,
    ) -> None:
        if incident is None:
            self.display = False
            return
        self.display = True
        wanted = bar_class(incident, deadline, now)
        for name in URGENCY_CLASSES:
            self.set_class(name == wanted, name)
        self.update(render_bar(incident, deadline, now, closes_in))
