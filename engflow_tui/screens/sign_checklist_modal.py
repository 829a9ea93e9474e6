"""SignChecklistModal: finishing a run lists every item still open, skipped or failed, and takes
the run's closing notes. It opens in the notes field (what is typed goes there); Enter moves to
the buttons, on Cancel, so nobody signs a half-done list by accident; cancelling keeps the notes."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ..checklists.run import ChecklistRun
from ..widgets.checklist_render import outstanding_text


class SignChecklistModal(ModalScreen[tuple[bool, str]]):
    """Returns (signed, the notes as typed): notes typed and then cancelled are not lost."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sign.cancel")]
    DEFAULT_CSS = """
    SignChecklistModal { align: center middle; }
    SignChecklistModal > VerticalScroll { width: 90; max-width: 96%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1; }
    SignChecklistModal .title { text-style: bold; width: 100%; }
    SignChecklistModal Horizontal { height: auto; }
    SignChecklistModal Button { margin: 0 1; }
    """

    def __init__(self, run: ChecklistRun, operator: str) -> None:
        super().__init__()
        self.run = run
        self.operator = operator

    def compose(self) -> ComposeResult:
        left = len(self.run.outstanding())
        with VerticalScroll():
            yield Static(
                f"Sign {escape(self.run.title)} as {escape(self.operator)}?"
                + (f"  [b reverse] {left} item(s) not done [/]" if left else ""),
                classes="title",
                id="sign-title",
            )
            yield Static(outstanding_text(self.run), id="sign-outstanding")
            yield Static("Notes for the record (Enter moves to the buttons):")
            yield Input(value=self.run.notes, id="sign-notes")
            with Horizontal():
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(
                    f"Sign as {self.operator}" + (f" with {left} not done" if left else ""),
                    id="sign",
                    variant="warning" if left else "success",
                )

    def on_mount(self) -> None:
        self.query_one("#sign-notes", Input).focus()

    @on(Input.Submitted, "#sign-notes")
    def _notes_done(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id == "sign", self.query_one("#sign-notes", Input).value))

    def action_cancel(self) -> None:
        self.dismiss((False, self.query_one("#sign-notes", Input).value))
