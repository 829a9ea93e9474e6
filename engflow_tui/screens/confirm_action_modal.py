"""ConfirmActionModal: names every target in full, shows the exact statement, starts on Cancel.

``y`` confirms, ``n`` or Escape cancels. Terminate idle transactions lets the engineer change the
threshold for this run (Enter re-lists the targets through the ``replan`` callback).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from ..actions.model import ActionPlan
from ..durations import format_duration, parse_duration
from ..textsafe import inert
from ..widgets.render import highlighted

HIDDEN_DETAILS = {
    "superuser",
    "backend_start",
    "state_change",
    "query_start",
    "age_seconds",
    "schema",
    "table",
    "policies",
}
HEADERS = {"client_addr": "client", "query": "last query"}
Replan = Callable[[float], Awaitable[ActionPlan]]
Refresh = Callable[[], Awaitable[ActionPlan]]
REFRESH_EVERY = 1.0
"""Seconds between two re-reads of a session the dialog names (Terminate session, Cancel query)."""


def policy_lines(policies: list[dict[str, Any]]) -> Text:
    text = Text()
    for p in policies:
        text.append(f"  • {inert(p['name'], one_line=True)}", style="bold")
        text.append(f"  {p['command']} to {inert(p['roles'], one_line=True)}")
        if p.get("using"):
            text.append(f"  USING ({inert(p['using'])})", style="dim")
        if p.get("check"):
            text.append(f"  WITH CHECK ({inert(p['check'])})", style="dim")
        text.append("\n")
    return text


class ConfirmActionModal(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="confirm.yes"),
        Binding("n,escape", "cancel", "Cancel", id="confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmActionModal { align: center middle; }
    ConfirmActionModal > VerticalScroll {
        width: 110; max-width: 96%; height: auto; max-height: 94%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmActionModal .title { text-style: bold; color: $text; background: $error-darken-2; width: 100%; padding: 0 1; }
    ConfirmActionModal DataTable { height: auto; max-height: 14; margin: 1 0; }
    ConfirmActionModal .warning { color: $warning; text-style: bold; margin-top: 1; }
    ConfirmActionModal .empty { color: $success; text-style: bold; margin: 1 0; }
    ConfirmActionModal #threshold-row { height: 3; }
    ConfirmActionModal #threshold-row Label { padding: 1 1 0 0; }
    ConfirmActionModal #threshold { width: 16; }
    ConfirmActionModal #buttons { height: 3; align: center middle; margin-top: 1; }
    ConfirmActionModal Button { margin: 0 2; }
    """

    def __init__(
        self, plan: ActionPlan, replan: Replan | None = None, refresh: Refresh | None = None
    ) -> None:
        super().__init__()
        self.plan = plan
        self.replan = replan
        self.refresh_plan = refresh
        """Re-reads the target while the dialog is open: what is confirmed is what it shows."""
        self.gone: str | None = None
        """Why the target cannot be confirmed any more (it ended while the dialog was open)."""

    def compose(self) -> ComposeResult:
        plan = self.plan
        with VerticalScroll():
            yield Static(
                f"{escape(plan.action)} — target {escape(plan.target_name)}", classes="title"
            )
            yield Static(Text(plan.description), id="description")
            if self.replan is not None:
                with Horizontal(id="threshold-row"):
                    yield Label("Idle in transaction longer than (this run only):")
                    yield Input(format_duration(plan.params.get("threshold", 0)), id="threshold")
            yield Static(id="target-count")
            yield DataTable(id="targets", cursor_type="row", zebra_stripes=True)
            yield Static(id="policies")
            yield Static(Text("Will run:", style="bold"))
            yield Static(id="statement")
            yield Static(id="warnings", classes="warning")
            with Horizontal(id="buttons"):
                yield Button("Cancel (n)", id="cancel", variant="primary")
                yield Button("Confirm (y)", id="confirm", variant="error")

    def on_mount(self) -> None:
        self.show_plan(self.plan)
        self.query_one("#cancel", Button).focus()
        if self.refresh_plan is not None:
            self.set_interval(REFRESH_EVERY, self._refresh)

    @work(exclusive=True, group="refresh", exit_on_error=False)
    async def _refresh(self) -> None:
        if self.refresh_plan is None or self.gone is not None:
            return
        try:
            plan = await self.refresh_plan()
        except Exception as exc:  # noqa: BLE001 - the session ended, or the database went away
            self.gone = str(exc)
            warnings = self.query_one("#warnings", Static)
            warnings.update(Text(f"⚠ {inert(self.gone)}: nothing can be confirmed any more."))
            warnings.display = True
            self.query_one("#confirm", Button).disabled = True
            return
        if plan != self.plan:
            self.show_plan(plan)

    def show_plan(self, plan: ActionPlan) -> None:
        self.plan = plan
        # The header, the target list and the statement all say the plan's one value (a
        # threshold changed for this run re-plans all three).
        description = self.query_one("#description", Static)
        description.update(Text(inert(plan.description)))
        description.display = bool(plan.description)
        table = self.query_one("#targets", DataTable)
        table.clear(columns=True)
        details = [
            k for k in (plan.targets[0].details if plan.targets else {}) if k not in HIDDEN_DETAILS
        ]
        # Sessions are named by their pid column; other targets by their full (quoted) name.
        named_by_pid = "pid" in details
        columns = details if named_by_pid else ["target", *details]
        for column in columns:
            table.add_column(HEADERS.get(column, column), key=column)
        for t in plan.targets:
            cells = [
                Text(inert(t.label, one_line=True))
                if c == "target"
                else Text(_cell(t.details.get(c)))
                for c in columns
            ]
            table.add_row(*cells, key=t.key)
        table.display = bool(plan.targets)
        count = self.query_one("#target-count", Static)
        if plan.empty:
            count.update(Text("Nothing to do: no target matches right now.", style="bold green"))
        else:
            count.update(Text(f"{len(plan.targets)} target(s), each named in full:", style="bold"))
        policies = plan.targets[0].details.get("policies") if len(plan.targets) == 1 else None
        policy_widget = self.query_one("#policies", Static)
        if policies is not None:
            policy_widget.update(
                Text("Policies on this table:\n", style="bold") + policy_lines(policies)
                if policies
                else Text("Policies on this table: none", style="bold")
            )
        policy_widget.display = policies is not None
        self.query_one("#statement", Static).update(
            highlighted(inert(plan.statement), "sql", word_wrap=True, theme="ansi_dark")
        )
        warnings = self.query_one("#warnings", Static)
        warnings.update(Text("\n".join(f"⚠ {inert(w)}" for w in plan.warnings)))
        warnings.display = bool(plan.warnings)
        self.query_one("#confirm", Button).disabled = plan.empty

    def action_confirm(self) -> None:
        if not self.plan.empty and self.gone is None:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted, "#threshold")
    def _threshold_submitted(self, event: Input.Submitted) -> None:
        try:
            seconds = parse_duration(event.value)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._replan(seconds)

    @work(exclusive=True, group="replan", exit_on_error=False)
    async def _replan(self, seconds: float) -> None:
        if self.replan is None:
            return
        try:
            plan = await self.replan(seconds)
        except Exception as exc:  # noqa: BLE001 - keep the dialog, say why
            self.notify(f"cannot re-list: {exc}", severity="error", markup=False)
            return
        self.show_plan(plan)
        self.query_one("#cancel", Button).focus()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = inert(" ".join(str(value).split()), one_line=True)
    return text if len(text) <= 80 else text[:79] + "…"
