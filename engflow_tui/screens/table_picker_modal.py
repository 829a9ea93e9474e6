"""TablePickerModal: pick one item from a list, filtered by typing; Enter picks, Escape cancels."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..textsafe import inert


class TablePickerModal(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
    ]
    DEFAULT_CSS = """
    TablePickerModal { align: center middle; }
    TablePickerModal > Vertical { width: 90; max-width: 96%; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 0 1; }
    TablePickerModal OptionList { height: auto; max-height: 20; }
    """

    def __init__(
        self, title: str, items: list[tuple[str, str]], empty_message: str = "nothing to pick"
    ) -> None:
        """``items``: (key, label) pairs; the modal returns the chosen key."""
        super().__init__()
        self.title_text = title
        self.items = items
        self.empty_message = empty_message

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"[b]{escape(self.title_text)}[/b]  (type to filter, ↑↓, Enter picks, Esc cancels)"
            )
            yield Input(placeholder="filter", id="picker-filter")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#picker-filter", Input).focus()

    def _fill(self, needle: str) -> None:
        options = self.query_one("#picker-options", OptionList)
        options.clear_options()
        matching = [(k, label) for k, label in self.items if needle.lower() in label.lower()]
        if not self.items:
            options.add_option(Option(self.empty_message, id="__none__", disabled=True))
        for key, label in matching:
            options.add_option(Option(escape(inert(label, one_line=True)), id=key))
        if matching:
            options.highlighted = 0

    @on(Input.Changed, "#picker-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self) -> None:
        options = self.query_one("#picker-options", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if not option.disabled and option.id is not None:
                self.dismiss(option.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id != "__none__":
            self.dismiss(event.option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one("#picker-options", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -1
            options.highlighted = max(0, min(options.option_count - 1, current + delta))

    def action_cancel(self) -> None:
        self.dismiss(None)
