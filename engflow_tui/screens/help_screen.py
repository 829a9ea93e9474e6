"""HelpScreen: every key of the console, readable at a glance (the action keys' lines from the
action registry)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..ui.action_keys import action_key_help

_BEFORE = (
    ("Tab / Shift+Tab", "move between panels"),
    ("↑ ↓ PgUp PgDn", "move in the focused table"),
    ("/", "filter the focused table (Enter keeps the filter, Esc clears it)"),
    ("p", "pause / resume the refresh"),
    ("r", "refresh now (also the slow probes; retries a down database at once)"),
)
"""The keys before the action keys (x, c, T, e, a, F: the action registry's)."""
_AFTER = (
    ("L", "Show audit log"),
    (
        "A",
        "Show alerts: active and recent, 1/2/3/0 filter by severity, Enter details with the runbook",
    ),
    ("!", "the worst active alert's whole detail, with its runbook section and its fixes"),
    ("C", "Run checklist: pick a runbook checklist, or resume an unfinished run"),
    (
        "j k / ↑↓ · space · n · s",
        "in a checklist: move · tick (verify an auto item; override a failed one with a note) · "
        "note · skip (asks why)",
    ),
    (
        "r · R · Enter · f · e · Esc",
        "in a checklist: re-verify · verify all · open the item's screen/action · finish (sign) · "
        "export Markdown+JSON · back (the run is kept)",
    ),
    ("H", "Show trends: history over hours/days/weeks (h/d/w), table growth, capacity projections"),
    (
        "← → · space · + - · g · < >",
        "in a replay (engflow-tui replay FILE): step, play/pause, speed, seek, first/last frame",
    ),
    ("a / Enter", "in Alerts: acknowledge the selected alert (silences repeats) / its details"),
    (
        "D",
        "Diagnose: the full diagnosis, sections worst first (Enter findings, a its fix, r again)",
    ),
    ("y / n", "in a confirmation: confirm / cancel (Esc cancels too; focus starts on Cancel)"),
    ("I", "declare an incident, or show the open one (keys of the Incident screen at its top)"),
    ("N / M", "during an incident: add a note / write an incident message"),
    ("Ctrl+P", "command palette: every screen and action by name"),
    ("?", "this help"),
    ("q / Ctrl+Q / Ctrl+C", "quit"),
)


def keys() -> list[tuple[str, str]]:
    """Every key of the console and what it does."""
    return [*_BEFORE, *action_key_help(), *_AFTER]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 80; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        table = Table(title="EngFlow Ops Console — keys", expand=True, show_edge=False)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("what it does")
        for key, what in keys():
            table.add_row(key, what)
        with VerticalScroll():
            yield Static("[dim]Esc closes · ↑↓ scroll[/]")
            yield Static(table)
            yield Static(
                "\nHealth states: [bold green]connected[/] · [bold yellow]degraded[/] (a probe timed out)"
                " · [bold white on red]down[/] (no connection; the console retries with backoff)."
                "\nPanels that cannot read their data say why and the GRANT / setting that fixes it."
                "\n\n[dim]Esc closes.[/]"
            )
