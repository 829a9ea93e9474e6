"""TextPromptModal: one line of text (a note, a reason); Enter keeps it, Escape cancels."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class TextPromptModal(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]
    DEFAULT_CSS = """
    TextPromptModal { align: center middle; }
    TextPromptModal > Vertical { width: 90; max-width: 96%; height: auto;
        border: thick $accent; background: $surface; padding: 0 1; }
    TextPromptModal #prompt-error { color: $error; }
    """

    def __init__(self, title: str, prompt: str, initial: str = "", required: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.initial = initial
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{escape(self.title_text)}[/b]", id="prompt-title")
            yield Static(escape(self.prompt), id="prompt-text")
            yield Input(value=self.initial, id="prompt-input")
            yield Static("", id="prompt-error")
            yield Static("[dim]Enter keeps it · Esc cancels[/dim]")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.required and not event.value.strip():
            self.query_one("#prompt-error", Static).update("this cannot be empty")
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
