"""DiagnoseScreen: the full diagnosis, sections worst first, drill-down into each check's findings,
and the console action that fixes a finding one key away.

Receives a callable that produces a :class:`Report` (the core's ``run_diagnosis``); it runs in a
worker so the UI never waits on the database. Holds no SQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..actions import registry
from ..diagnose import Check, Report, by_section
from ..textsafe import inert

STATUS_STYLE = {
    "critical": "bold white on red",
    "warning": "bold black on yellow",
    "unknown": "bold white on grey35",
    "ok": "bold green",
}
MAX_COLUMNS = 7
CELL_WIDTH = 60


def _cell(value: Any) -> Text:
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    text = "" if value is None else str(value)
    text = inert(" ".join(text.split()), one_line=True)
    return Text(text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…")


def action_for(check: Check, item: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """The console action for a check (and the finding selected in it), with its target."""
    if not check.action:
        return None
    # Which finding fields name its target, and whether it can ask (its picker): its registry
    # entry's.
    action = registry.find(check.action)
    fields = action.target_fields if action is not None else ()
    if item is not None and fields and all(item.get(f) is not None for f in fields):
        return check.action, {f: item[f] for f in fields}
    if action is not None and action.picker is not None and item is None:
        only = check.details if isinstance(check.details, list) and len(check.details) == 1 else []
        if fields and only and all(only[0].get(f) is not None for f in fields):
            return check.action, {f: only[0][f] for f in fields}  # the one finding: no question
        return check.action, {}  # several: the action asks which table
    return check.action, dict(check.action_target or {})


class DiagnoseScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="diagnose.back"),
        Binding("r", "rerun", "Run again", id="diagnose.rerun"),
        Binding("a", "fix", "Run its fix", id="diagnose.fix"),
    ]
    DEFAULT_CSS = """
    DiagnoseScreen #checks { height: 2fr; }
    DiagnoseScreen #findings { height: 1fr; }
    DiagnoseScreen #check-detail { height: auto; max-height: 5; padding: 0 1; background: $panel; }
    DiagnoseScreen #diagnose-heading { padding: 0 1; text-style: bold; background: $panel; }
    """

    def __init__(self, run: Callable[[], Awaitable[Report]], target_name: str) -> None:
        super().__init__()
        self.produce_report = run
        self.target_name = target_name
        self.report: Report | None = None
        self.runs = 0
        """Finished diagnoses (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="diagnose-heading")
        yield DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        yield Static(id="check-detail")
        yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        checks = self.query_one("#checks", DataTable)
        checks.add_column("status", key="status", width=10)
        for column in ("section", "check", "summary"):
            checks.add_column(column, key=column)
        checks.focus()
        self.action_rerun()

    # ------------------------------------------------------------------ running

    def action_rerun(self) -> None:
        self.query_one("#diagnose-heading", Static).update(
            Text(f"Diagnosing {self.target_name}… (the full diagnosis; the console stays live)")
        )
        self._diagnose()

    @work(group="diagnose", exclusive=True, exit_on_error=False, description="Diagnose")
    async def _diagnose(self) -> None:
        try:
            report = await self.produce_report()
        except Exception as exc:  # noqa: BLE001 - shown on the screen, the app stays up
            self.query_one("#diagnose-heading", Static).update(
                Text(f"Diagnosis failed: {inert(exc)}", style="bold red")
            )
            return
        self.show(report)

    def show(self, report: Report) -> None:
        self.report = report
        self.runs += 1
        counts: dict[str, int] = {}
        for c in report.checks:
            counts[c.status] = counts.get(c.status, 0) + 1
        heading = Text()
        heading.append(f" {report.status.upper()} ", style=STATUS_STYLE[report.status])
        heading.append(
            f"  {self.target_name} · {report.generated_at:%H:%M:%S} UTC · "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            + " · Enter findings · a run its fix · r again · Esc back"
        )
        self.query_one("#diagnose-heading", Static).update(heading)
        table = self.query_one("#checks", DataTable)
        selected = self.selected_check()
        table.clear()
        for section, _status, checks in by_section(report.checks):
            for c in checks:
                table.add_row(
                    Text(f" {c.status.upper():8} ", style=STATUS_STYLE[c.status]),
                    section,
                    Text(c.id, style="bold"),
                    _cell(c.summary),
                    key=c.id,
                )
        if table.row_count:
            ids = [str(k.value) for k in table.rows]
            row = ids.index(selected.id) if selected is not None and selected.id in ids else 0
            table.move_cursor(row=row, animate=False)
            self._show_check(self.selected_check())

    # ------------------------------------------------------------------ drill-down

    def selected_check(self) -> Check | None:
        table = self.query_one("#checks", DataTable)
        if self.report is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((c for c in self.report.checks if c.id == key), None)

    def selected_item(self) -> dict[str, Any] | None:
        check = self.selected_check()
        findings = self.query_one("#findings", DataTable)
        if check is None or not isinstance(check.details, list) or not findings.row_count:
            return None
        if self.focused is not findings:
            return None
        index = findings.cursor_row
        item = check.details[index] if 0 <= index < len(check.details) else None
        return item if isinstance(item, dict) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "checks":
            self._show_check(self.selected_check())
        elif event.data_table.id == "findings":
            self._show_item(self.selected_check(), self._item_at(event.cursor_row))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "checks":
            findings = self.query_one("#findings", DataTable)
            if findings.row_count:
                findings.focus()

    def _item_at(self, index: int) -> dict[str, Any] | None:
        check = self.selected_check()
        if check is None or not isinstance(check.details, list):
            return None
        item = check.details[index] if 0 <= index < len(check.details) else None
        return item if isinstance(item, dict) else None

    def _show_check(self, check: Check | None) -> None:
        findings = self.query_one("#findings", DataTable)
        findings.clear(columns=True)
        if check is None:
            self.query_one("#check-detail", Static).update("")
            return
        self._show_item(check, None)
        details = check.details
        if isinstance(details, list) and details and isinstance(details[0], dict):
            columns: list[str] = []
            for item in details:
                for k in item:
                    if k not in columns and k != "fix" and not k.startswith("_"):
                        columns.append(k)
            columns = columns[:MAX_COLUMNS]
            for column in columns:
                findings.add_column(column, key=column)
            for index, item in enumerate(details):
                findings.add_row(*(_cell(item.get(c)) for c in columns), key=str(index))
        elif isinstance(details, dict) and details:
            findings.add_column("field", key="field")
            findings.add_column("value", key="value")
            for k, v in details.items():
                findings.add_row(Text(str(k)), _cell(v), key=str(k))

    def _show_item(self, check: Check | None, item: dict[str, Any] | None) -> None:
        if check is None:
            return
        text = Text()
        text.append(f"{check.id}", style="bold")
        chosen = action_for(check, item)
        if chosen is not None:  # first, so a small terminal always shows it
            name, target = chosen
            where = ", ".join(f"{k} {v}" for k, v in target.items() if k != "backend_start")
            text.append("  ·  ")
            text.append(f"a: {name}" + (f" ({where})" if where else ""), style="bold cyan")
        text.append("\n" + inert(check.summary))
        fix = (item or {}).get("fix") or check.fix
        if fix:
            text.append("\nfix: ", style="bold")
            text.append(inert(fix), style="italic")
        self.query_one("#check-detail", Static).update(text)

    # ------------------------------------------------------------------ fixing

    def action_fix(self) -> None:
        check = self.selected_check()
        if check is None:
            return
        chosen = action_for(check, self.selected_item())
        if chosen is None:
            self.notify(
                f"{check.id}: no console action for this check"
                + (f" — fix: {check.fix}" if check.fix else ""),
                severity="warning",
                markup=False,
                timeout=8,
            )
            return
        name, target = chosen
        self.app.start_action(name, **target)  # type: ignore[attr-defined]
