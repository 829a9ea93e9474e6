"""WaitingModal: a request the operator is waiting on (the emergency fallback, an incident
post) — what it waits for, for how long so far, when it gives up by itself, and Esc to give up
now. :meth:`WaitingModal.wait` runs the work under it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..durations import format_age, format_duration

T = TypeVar("T")

SHOW_AFTER = 0.3
"""A request answered faster than this never shows the dialog (no flash)."""


class WaitingModal(ModalScreen[bool]):
    """Dismissed with True when the operator gives up, False when the work ended."""

    BINDINGS = [Binding("escape", "give_up", "Give up", id="waiting.give-up")]
    DEFAULT_CSS = """
    WaitingModal { align: center middle; }
    WaitingModal > Vertical { width: 90; max-width: 96%; height: auto;
        border: thick $warning; background: $surface; padding: 0 1; }
    WaitingModal .title { text-style: bold; background: $warning-darken-2; width: 100%;
        padding: 0 1; }
    WaitingModal Button { margin-top: 1; }
    """

    def __init__(self, title: str, detail: str, deadline: float) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.deadline = deadline
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(escape(self.title_text), classes="title", id="waiting-title")
            yield Static(escape(self.detail), id="waiting-detail")
            yield Static(self._elapsed(), id="waiting-elapsed")
            yield Button("Give up waiting (Esc)", id="give-up", variant="warning")

    def _elapsed(self) -> str:
        waited = time.monotonic() - self.started
        return (
            f"waiting {format_age(waited)} — it gives up by itself after "
            f"{format_duration(self.deadline)}"
        )

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)
        self.query_one("#give-up", Button).focus()

    def _tick(self) -> None:
        self.query_one("#waiting-elapsed", Static).update(self._elapsed())

    def action_give_up(self) -> None:
        self.dismiss(True)

    def on_button_pressed(self) -> None:
        self.dismiss(True)

    @staticmethod
    async def wait(
        app: App[Any], work: Awaitable[T], title: str, detail: str, deadline: float
    ) -> tuple[bool, T | None]:
        """(True, the work's result), or (False, None) when the operator gave up: the work is
        then cancelled (and has said so where it records). The dialog shows only when the work
        takes longer than SHOW_AFTER."""
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=SHOW_AFTER)
            if task in done:
                return True, task.result()
            modal = WaitingModal(title, detail, deadline)
            gave_up: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

            def dismissed(result: bool | None) -> None:
                if not gave_up.done():
                    gave_up.set_result(bool(result))

            await app.push_screen(modal, dismissed)
            either: set[asyncio.Future[Any]] = {task, gave_up}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                if app.screen is modal:
                    modal.dismiss(False)
                return True, task.result()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return False, None
        finally:
            if not task.done():  # the caller itself was cancelled (the console closing)
                task.cancel()
