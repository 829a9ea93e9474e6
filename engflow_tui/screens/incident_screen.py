"""IncidentScreen: the incident's summary, its pending deadlines and the timeline (newest first).
Keys for everything the incident needs; the flow does the work and refills the screen."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..durations import format_age
from ..incidents.model import Incident, TimelineEntry
from ..incidents.timers import ALARM, WARNING, Deadline, describe, urgency
from ..textsafe import inert

KEYS_HINT = (
    "[b]k[/b] ack  [b]s[/b] status  [b]v[/b] severity  [b]e[/b] escalate  [b]n[/b] note  "
    "[b]m[/b] message  [b]t[/b] ETA  [b]c[/b] checklist  [b]E[/b] escalation  "
    "[b]x[/b] report  [b]R[/b] resolve  [b]Enter[/b] entry  [b]Esc[/b] back"
)
KEYS_HINT_RESOLVED = (
    "Resolved: [b]x[/b] report  [b]m[/b] message  [b]d[/b] close (its bar leaves every screen)  "
    "[b]Enter[/b] entry  [b]Esc[/b] back"
)

KIND_STYLE = {
    "alert": "red",
    "action": "cyan",
    "note": "bold",
    "escalation": "magenta",
    "message": "green",
    "resolved": "bold green",
    "checklist": "blue",
}


def render_summary(incident: Incident, now: datetime) -> Text:
    text = Text()
    text.append(f"{incident.id}  SEV{incident.severity}  {incident.status.value}\n", style="bold")
    text.append(f"{inert(incident.title)}\n")
    text.append(f"Impact: {inert(incident.impact or '-')}   ETA: {inert(incident.eta or '-')}\n")
    acked = (
        f"acknowledged {incident.acknowledged_at.astimezone():%H:%M:%S}"
        if incident.acknowledged_at
        else "NOT acknowledged"
    )
    escalated = (
        " + ".join(sorted(incident.escalated_to())) if incident.escalations else "not escalated"
    )
    text.append(
        f"Lead: {incident.operator}   declared {incident.declared_at.astimezone():%H:%M:%S}"
        f" ({format_age(incident.elapsed(now))}{' ago' if incident.open else ' to resolve'})"
        f"   {acked}   {escalated}",
        style="dim",
    )
    return text


def render_deadlines(deadlines: list[Deadline], now: datetime) -> Text:
    text = Text()
    if not deadlines:
        text.append("No deadline pending.", style="dim")
    for index, deadline in enumerate(deadlines):
        level = urgency(deadline, now)
        style = (
            "bold white on red"
            if level == ALARM
            else "bold black on yellow"
            if level == WARNING
            else ""
        )
        if index:
            text.append("  ")
        text.append(f" {describe(deadline, now)} ", style=style)
    return text


def entry_detail(entry: TimelineEntry) -> str:
    """Everything an entry holds, for the detail dialog (the table crops at the panel edge)."""
    lines = [f"{entry.at.astimezone():%Y-%m-%d %H:%M:%S %Z}  {entry.kind}", "", entry.text]
    audit = entry.data.get("audit")
    if audit:
        lines += ["", f"operator: {audit.get('operator')}  target: {audit.get('target')}"]
        if audit.get("statement"):
            lines += ["statement:", f"  {audit['statement']}"]
        for outcome in audit.get("outcomes") or []:
            lines.append(f"outcome: {outcome.get('target')}: {outcome.get('status')}")
        if audit.get("error"):
            lines.append(f"error: {audit['error']}")
    if entry.data.get("text"):
        lines += ["", entry.data["text"]]
    return inert("\n".join(str(line) for line in lines))


class IncidentScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="incident.back"),
        Binding("k", "app.incident('acknowledge')", "Ack", id="incident.acknowledge"),
        Binding("s", "app.incident('status')", "Status", id="incident.status"),
        Binding("v", "app.incident('severity')", "Severity", id="incident.severity"),
        Binding("e", "app.incident('escalate')", "Escalate", id="incident.escalate"),
        Binding("n", "app.incident('note')", "Note", id="incident.note"),
        Binding("m", "app.incident('message')", "Message", id="incident.message"),
        Binding("t", "app.incident('eta')", "ETA", show=False, id="incident.eta"),
        Binding("c", "app.incident('procedure')", "Checklist", id="incident.procedure"),
        Binding(
            "E",
            "app.incident('show_escalation')",
            "Escalation",
            show=False,
            id="incident.show_escalation",
        ),
        Binding("x", "app.incident('export')", "Report", id="incident.export"),
        # Screen actions (not app.*): check_action offers Resolve while open, Close once resolved.
        Binding("R", "incident('resolve')", "Resolve", id="incident.resolve"),
        Binding("d", "incident('close')", "Close", id="incident.close"),
    ]
    DEFAULT_CSS = """
    IncidentScreen #incident-summary { height: auto; padding: 0 1; }
    IncidentScreen #incident-deadlines { height: auto; padding: 0 1; }
    IncidentScreen #incident-keys { height: auto; padding: 0 1; color: $text-muted; }
    IncidentScreen #timeline { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()  # no fixed id: a second instance in the stack must not crash
        self._rows = 0
        self._entries: tuple[TimelineEntry, ...] = ()
        self._pending: tuple[Incident, list[Deadline], datetime] | None = None
        self._resolved = False
        """The incident shown is resolved: Close is offered, Resolve is not."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "incident" and parameters == ("close",):
            return self._resolved
        if action == "incident" and parameters == ("resolve",):
            return not self._resolved
        return True

    def action_incident(self, verb: str) -> None:
        self.app.action_incident(verb)  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="incident-summary")
        yield Static(id="incident-deadlines")
        yield Static(KEYS_HINT, id="incident-keys")
        table: DataTable[Text | str] = DataTable(
            id="timeline", cursor_type="row", zebra_stripes=True
        )
        table.add_columns("time", "what", "")
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self._pending is not None:
            self.refill(*self._pending)

    def refill(self, incident: Incident, deadlines: list[Deadline], now: datetime) -> None:
        if not self.query("#incident-summary"):
            # Pushed, not composed yet (the clock or an alert got here first): shown on mount.
            self._pending = (incident, deadlines, now)
            return
        self._pending = None
        if self._resolved == incident.open:  # changed: the footer and the key hint follow
            self._resolved = not incident.open
            self.query_one("#incident-keys", Static).update(
                KEYS_HINT_RESOLVED if self._resolved else KEYS_HINT
            )
            self.refresh_bindings()
        self.query_one("#incident-summary", Static).update(render_summary(incident, now))
        self.query_one("#incident-deadlines", Static).update(render_deadlines(deadlines, now))
        if len(incident.timeline) == self._rows:
            return  # the clock moved, the timeline did not: keep the cursor where it is
        self._rows = len(incident.timeline)
        self._entries = incident.timeline
        table = self.query_one("#timeline", DataTable)
        table.clear()
        for index, entry in reversed(list(enumerate(incident.timeline))):
            table.add_row(
                entry.at.astimezone().strftime("%H:%M:%S"),
                Text(entry.kind, style=KIND_STYLE.get(entry.kind, "")),
                Text(inert(entry.text, one_line=True)),
                key=str(index),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from .message_modal import MessageModal

        index = int(event.row_key.value or 0)
        if 0 <= index < len(self._entries):
            entry = self._entries[index]
            self.app.push_screen(MessageModal(f"Timeline: {entry.kind}", entry_detail(entry)))
