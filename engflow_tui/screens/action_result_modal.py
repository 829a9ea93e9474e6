"""ActionResultModal: per target, what happened — or the error and what would fix it."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..actions.model import ActionResult, TargetOutcome
from ..textsafe import inert

STATUS_STYLE = {
    "done": "bold green",
    "partial": "bold yellow",
    "skipped": "yellow",
    "failed": "bold red",
    "refused": "bold red",
}


def result_text(result: ActionResult) -> Text:
    text = Text()
    for outcome in result.outcomes:
        text.append(f"{outcome.status.upper():8} ", style=STATUS_STYLE.get(outcome.status, ""))
        if outcome.target not in outcome.message:
            text.append(f"{inert(outcome.target, one_line=True)}: ", style="bold")
        text.append(inert(outcome.message) + "\n")
    if result.error:
        text.append("\n" + inert(result.error) + "\n", style="bold red")
    if result.fix:
        text.append("fix: ", style="bold")
        text.append(inert(result.fix) + "\n", style="italic")
    return text


def follow_up_of(result: ActionResult) -> TargetOutcome | None:
    """The outcome whose follow-up the result offers (the first one)."""
    return next((o for o in result.outcomes if o.follow_up and o.follow_up_target), None)


class ActionResultModal(ModalScreen[str | None]):
    """Returns "follow" when the operator takes the offered follow-up, else None."""

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="result.close"),
        Binding("f", "follow", "Follow up", id="result.follow"),
    ]
    DEFAULT_CSS = """
    ActionResultModal { align: center middle; }
    ActionResultModal > VerticalScroll { width: 100; max-width: 96%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1; }
    ActionResultModal .title { text-style: bold; width: 100%; padding: 0 1; }
    ActionResultModal .ok { background: $success-darken-2; }
    ActionResultModal .bad { background: $error-darken-2; }
    ActionResultModal #result-buttons { height: auto; margin-top: 1; }
    ActionResultModal Button { margin: 0 2 0 0; }
    """

    def __init__(self, result: ActionResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        result = self.result
        with VerticalScroll():
            yield Static(
                f"{escape(result.plan.action)} — {escape(result.summary())}",
                classes="title " + ("ok" if result.ok else "bad"),
                id="result-title",
            )
            yield Static(result_text(result), id="result-body")
            yield Static(Text("Recorded in the audit log.", style="dim"))
            with Horizontal(id="result-buttons"):
                yield Button("Close (Enter)", id="close")
                follow = follow_up_of(result)
                if follow is not None:
                    pid = (follow.follow_up_target or {}).get("pid")
                    yield Button(f"{follow.follow_up} on pid {pid} (f)", id="follow")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss("follow" if event.button.id == "follow" else None)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_follow(self) -> None:
        if follow_up_of(self.result) is not None:
            self.dismiss("follow")
