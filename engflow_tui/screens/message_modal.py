"""MessageModal: an error (or notice) that must be read, with its fix."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..textsafe import inert


class MessageModal(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="message.close")]
    DEFAULT_CSS = """
    MessageModal { align: center middle; }
    MessageModal > VerticalScroll { width: 90; max-width: 96%; height: auto; max-height: 80%;
        border: thick $error; background: $surface; padding: 0 1; }
    MessageModal .title { text-style: bold; background: $error-darken-2; width: 100%; padding: 0 1; }
    """

    def __init__(self, title: str, message: str, fix: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.fix = fix

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(escape(self.title_text), classes="title", id="message-title")
            yield Static(escape(inert(self.message)), id="message-body")
            if self.fix:
                yield Static(f"[b]fix:[/b] [i]{escape(inert(self.fix))}[/i]", id="message-fix")
            yield Button("Close (Enter)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)
