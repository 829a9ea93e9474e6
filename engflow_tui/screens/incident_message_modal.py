"""IncidentMessageModal: a filled communication template, editable, then copy (OSC 52), save to a
file or post to the webhook. Returns (verb, edited text) — the flow does it and, if it fails or
is cancelled, reopens the editor with the text, so nothing typed is lost. Closing it with text
that differs from the template as filled asks first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class IncidentMessageModal(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [
        Binding("escape", "choose('close')", "Close", id="message_editor.close"),
        Binding("f2", "choose('copy')", "Copy", id="message_editor.copy"),
        Binding("f3", "choose('save')", "Save", id="message_editor.save"),
        Binding("f4", "choose('post')", "Post", id="message_editor.post"),
    ]
    DEFAULT_CSS = """
    IncidentMessageModal { align: center middle; }
    IncidentMessageModal > Vertical { width: 100; max-width: 100%; height: 100%;
        max-height: 30; border: thick $accent; background: $surface; padding: 0 1; }
    IncidentMessageModal TextArea { height: 1fr; }
    IncidentMessageModal Horizontal { height: auto; }
    IncidentMessageModal Button { min-width: 10; }
    """

    def __init__(
        self, template: str, text: str, webhook: str | None, original: str | None = None
    ) -> None:
        super().__init__()
        self.template = template
        self.text = text
        self.webhook = webhook
        self.original = text if original is None else original
        """The template as filled: closing with any other text asks before discarding it."""

    def compose(self) -> ComposeResult:
        where = f"${self.webhook}" if self.webhook else "no webhook configured"
        with Vertical():
            yield Static(
                f"[b]{self.template}[/b] — edit, then F2 copy · F3 save · F4 post ({where}) · "
                "Esc close",
                id="message-editor-title",
            )
            yield TextArea(self.text, id="message-text", soft_wrap=True)
            with Horizontal():
                yield Button("Copy (F2)", id="copy")
                yield Button("Save (F3)", id="save")
                yield Button("Post (F4)", variant="warning", id="post", disabled=not self.webhook)
                yield Button("Close (Esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#message-text", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "close")

    def action_choose(self, verb: str) -> None:
        text = self.query_one("#message-text", TextArea).text
        if verb == "close" and text != self.original:
            from .confirm_modal import ConfirmModal

            def answered(discard: bool | None) -> None:
                if discard:
                    self.dismiss(None)

            self.app.push_screen(
                ConfirmModal(
                    f"Discard your edits to the {self.template}?",
                    "n / Esc: back to the editor, the text as you left it.",
                    yes="Discard",
                ),
                answered,
            )
            return
        self.dismiss(None if verb == "close" else (verb, text))
