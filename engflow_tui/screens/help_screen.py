"""HelpScreen: every key of the console, readable at a glance."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Tab / Shift+Tab", "move between panels"),
    ("↑ ↓ PgUp PgDn", "move in the focused table"),
    ("/", "filter the focused table (Enter keeps the filter, Esc clears it)"),
    ("p", "pause / resume the refresh"),
    ("r", "refresh now (also the slow probes; retries a down database at once)"),
    ("Ctrl+P", "command palette: every screen and action by name"),
    ("?", "this help"),
    ("q / Ctrl+Q", "quit"),
)


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
        for key, what in KEYS:
            table.add_row(key, what)
        with VerticalScroll():
            yield Static(table)
            yield Static(
                "\nHealth states: [bold green]connected[/] · [bold yellow]degraded[/] (a probe timed out)"
                " · [bold white on red]down[/] (no connection; the console retries with backoff)."
                "\nPanels that cannot read their data say why and the GRANT / setting that fixes it."
                "\n\n[dim]Esc closes.[/]"
            )
