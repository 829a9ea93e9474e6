"""TargetPickerScreen: asked at start when the config has several targets and no default."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ..config import TargetConfig


class TargetPickerScreen(Screen[str]):
    def __init__(self, targets: list[TargetConfig]) -> None:
        super().__init__()
        self.targets = targets

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Vertical(id="picker"):
            yield Static(
                "[b]Which target?[/]  (↑↓ then Enter; set console.default_target to skip this)"
            )
            yield OptionList(
                *[Option(f"{t.name}   [dim]{t.display_dsn}[/]", id=t.name) for t in self.targets],
                id="target-list",
            )
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))
