"""ChecklistScreen: walk one checklist run by keyboard — the list with progress, the current
item's detail, tick / note / skip / verify / open / finish. Every change is saved by the session
at once. Receives a ChecklistSession; holds no SQL."""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ..checklists.session import ChecklistSession
from ..widgets.checklist_render import detail, head_line, item_line, section_line
from .sign_checklist_modal import SignChecklistModal
from .text_prompt_modal import TextPromptModal

if TYPE_CHECKING:
    from ..ui.app import EngFlowApp

RECHECK_AFTER = 15.0
"""Seconds after which reaching an unmeasured auto item verifies it again."""


class ChecklistScreen(Screen[None]):
    BINDINGS = [
        Binding("j", "move(1)", "Down", show=False, id="checklist.down"),
        Binding("k", "move(-1)", "Up", show=False, id="checklist.up"),
        Binding("space", "tick", "Tick", id="checklist.tick"),
        Binding("n", "note", "Note", id="checklist.note"),
        Binding("s", "skip", "Skip", id="checklist.skip"),
        Binding("r", "verify", "Re-verify", id="checklist.verify"),
        Binding("R", "verify_all", "Verify all", show=False, id="checklist.verify_all"),
        Binding("d", "details", "Details", show=False, id="checklist.details"),
        Binding("f", "finish", "Finish", id="checklist.finish"),
        Binding("e", "export", "Export", id="checklist.export"),
        Binding("escape", "leave", "Back", id="checklist.back"),
    ]
    DEFAULT_CSS = """
    ChecklistScreen #checklist-head { height: auto; padding: 0 1; background: $boost; }
    ChecklistScreen #checklist-items { height: 3fr; border: round $accent; }
    ChecklistScreen #checklist-detail { height: 2fr; border: round $secondary; padding: 0 1; }
    """

    def __init__(self, session: ChecklistSession) -> None:
        super().__init__()
        self.session = session
        self._verifying: set[str] = set()

    # ---- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="checklist-head")
        yield OptionList(id="checklist-items")
        with VerticalScroll(id="checklist-detail"):
            yield Static(id="checklist-detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Checklist"
        self.sub_title = self.session.run.title
        self._fill()
        options = self.query_one("#checklist-items", OptionList)
        first_open = next(
            (i.id for i in self.session.run.items if i.status == "pending"),
            self.session.run.items[0].id,
        )
        options.highlighted = options.get_option_index(first_open)
        options.focus()
        self._refresh_head()
        if self.session.checklist.timed:
            self.set_interval(1.0, self._tick_clock)
        else:  # "started … ago" stays true
            self.set_interval(5.0, self._refresh_head)
        if self.session.save_problem:
            self.notify(self.session.save_problem, severity="error", timeout=15, markup=False)

    def _now(self) -> datetime:
        return self.session.clock()

    def _width(self) -> int:
        """One line per item (a wrapped item would read as two): cut at the list's width."""
        width = self.query_one("#checklist-items", OptionList).scrollable_content_region.width
        return max(20, width - 1) if width else 200

    def on_resize(self) -> None:
        lst = self.query_one("#checklist-items", OptionList)
        highlighted = lst.highlighted
        self._fill()
        lst.highlighted = highlighted

    def _fill(self) -> None:
        run, now, width = self.session.run, self._now(), self._width()
        options: list[Option] = []
        section = None
        for n, state in enumerate(run.items):
            if state.section != section:
                section = state.section
                options.append(
                    Option(
                        section_line(section, state.timebox, run, now), id=f"§{n}", disabled=True
                    )
                )
            options.append(Option(item_line(state, run, now, width), id=state.id))
        lst = self.query_one("#checklist-items", OptionList)
        lst.set_options(options)

    def _refresh_item(self, item_id: str) -> None:
        state = self.session.state(item_id)
        lst = self.query_one("#checklist-items", OptionList)
        lst.replace_option_prompt(
            item_id, item_line(state, self.session.run, self._now(), self._width())
        )
        self._refresh_head()
        if self._current_id() == item_id:
            self._show_detail(item_id)

    def _refresh_head(self) -> None:
        self.query_one("#checklist-head", Static).update(
            head_line(self.session.checklist, self.session.run, self._now())
        )

    def _tick_clock(self) -> None:
        """Time-boxed lists: the clock, the current box and overdue marks move with time."""
        self._refresh_head()
        lst = self.query_one("#checklist-items", OptionList)
        run, now = self.session.run, self._now()
        for index in range(lst.option_count):
            option = lst.get_option_at_index(index)
            if option.id and option.id.startswith("§"):
                state = run.items[int(option.id[1:])]
                lst.replace_option_prompt_at_index(
                    index, section_line(state.section, state.timebox, run, now)
                )
            elif option.id:
                lst.replace_option_prompt_at_index(
                    index, item_line(run.item(option.id), run, now, self._width())
                )

    def _show_detail(self, item_id: str) -> None:
        item = self.session.item(item_id)
        state = self.session.state(item_id)
        app: EngFlowApp = self.app  # type: ignore[assignment]
        can_open = item.open is not None and app.has_command(item.open)
        self.query_one("#checklist-detail-text", Static).update(
            detail(item, state, self.session.run, self._now(), can_open)
        )

    def _current_id(self) -> str | None:
        lst = self.query_one("#checklist-items", OptionList)
        option = lst.highlighted_option
        return option.id if option is not None and not option.disabled else None

    # ---- events -------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#checklist-items")
    def _reached(self, event: OptionList.OptionHighlighted) -> None:
        item_id = event.option.id
        if not item_id or event.option.disabled:
            return
        self._show_detail(item_id)
        state = self.session.state(item_id)
        if (
            self.session.item(item_id).verify
            and state.status == "pending"
            and not self.session.run.finished
        ):
            last = state.checked_at
            age = (
                (self._now() - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds()
                if last
                else None
            )
            if age is None or age > RECHECK_AFTER:
                self._verify([item_id])

    @on(OptionList.OptionSelected, "#checklist-items")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        item_id = event.option.id
        if not item_id:
            return
        item = self.session.item(item_id)
        app: EngFlowApp = self.app  # type: ignore[assignment]
        if item.open and app.has_command(item.open):
            # An action it opens ticks the item when it is done (or fails it, with why).
            app.checklists.expect_action(item_id, item.open)
            app.run_palette_name(item.open)
            # A dialog returns here by itself; a dashboard panel needs the way back said.
            self.call_after_refresh(self._hint_way_back)
        else:
            self.action_details()

    def _hint_way_back(self) -> None:
        if self not in self.app.screen_stack:
            self.app.notify("C brings you back to the checklist", timeout=5, markup=False)

    def on_screen_resume(self) -> None:
        # Back from an action or a screen the item opened: what it changed is verified again.
        current = self._current_id()
        if current and self.session.item(current).verify and not self.session.run.finished:
            self._verify([current])

    # ---- actions ------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        lst = self.query_one("#checklist-items", OptionList)
        if delta > 0:
            lst.action_cursor_down()
        else:
            lst.action_cursor_up()

    def _guard(self) -> str | None:
        if self.session.run.finished:
            self.notify("this run is signed: it can be exported, not changed", severity="warning")
            return None
        current = self._current_id()
        if current is None:
            self.notify("pick an item first (↑↓)", severity="warning")
        return current

    def _report(self, problem: str | None, item_id: str) -> None:
        if problem:
            self.notify(problem, severity="error", timeout=10, markup=False)
        self._refresh_item(item_id)

    def action_tick(self) -> None:
        item_id = self._guard()
        if item_id is None:
            return
        state = self.session.state(item_id)
        if state.kind == "manual":
            self._report(self.session.toggle(item_id), item_id)
        elif state.status == "skipped":  # take the skip back and measure it
            self._report(self.session.unskip(item_id), item_id)
            self._verify([item_id])
        elif state.status == "fail":
            self._override(item_id)
        else:
            self._verify([item_id])

    def _override(self, item_id: str) -> None:
        state = self.session.state(item_id)

        def done(note: str | None) -> None:
            if note is not None:
                self._report(self.session.override(item_id, note), item_id)

        self.app.push_screen(
            TextPromptModal(
                "Override a failed check",
                f"{state.text} failed ({state.value or state.detail}). Why is it acceptable? "
                "The note is recorded with your name.",
                required=True,
            ),
            done,
        )

    def action_note(self) -> None:
        item_id = self._guard()
        if item_id is None:
            return
        state = self.session.state(item_id)

        def done(note: str | None) -> None:
            if note is not None:
                self._report(self.session.note(item_id, note), item_id)

        self.app.push_screen(
            TextPromptModal("Note", f"Note on: {state.text}", initial=state.note), done
        )

    def action_skip(self) -> None:
        item_id = self._guard()
        if item_id is None:
            return
        state = self.session.state(item_id)

        def done(reason: str | None) -> None:
            if reason is not None:
                self._report(self.session.skip(item_id, reason), item_id)

        self.app.push_screen(
            TextPromptModal("Skip", f"Why is this skipped? {state.text}", required=True), done
        )

    def action_verify(self) -> None:
        item_id = self._guard()
        if item_id is None:
            return
        if not self.session.item(item_id).verify:
            self.notify("a manual item: tick it with space", severity="warning")
            return
        self._verify([item_id])

    def action_verify_all(self) -> None:
        if self._guard() is None:
            return
        self._verify([i.id for i in self.session.checklist.items if i.verify])

    @work(group="checklist-verify", exit_on_error=False, description="verifying checklist items")
    async def _verify(self, item_ids: list[str]) -> None:
        wanted = [i for i in item_ids if i not in self._verifying]
        if not wanted:
            return
        self._verifying.update(wanted)
        try:
            await self.session.verify(wanted)
        finally:
            self._verifying.difference_update(wanted)
        for item_id in wanted:
            self._refresh_item(item_id)
        if self.session.save_problem:
            self.notify(self.session.save_problem, severity="error", timeout=15, markup=False)

    def action_details(self) -> None:
        current = self._current_id()
        if current is None:
            return
        from rich.console import Console

        from .message_modal import MessageModal

        item = self.session.item(current)
        state = self.session.state(current)
        with open(os.devnull, "w") as sink:
            console = Console(width=84, color_system=None, record=True, file=sink)
            console.print(detail(item, state, self.session.run, self._now()))
        self.app.push_screen(MessageModal(item.text, console.export_text()))

    def action_finish(self) -> None:
        run = self.session.run
        if run.finished:
            self.notify("already signed", severity="warning")
            return

        def done(answer: tuple[bool, str] | None) -> None:
            signed, notes = answer or (False, run.notes)
            if not signed:
                if notes != run.notes:  # typed, then cancelled: kept with the run, not lost
                    problem = self.session.keep_notes(notes)
                    self.notify(
                        problem or "not signed; your notes are kept with the run",
                        severity="error" if problem else "information",
                        timeout=6,
                    )
                return
            problem = self.session.finish(notes)
            if problem:
                self.notify(problem, severity="error", timeout=15, markup=False)
            else:
                left = len(run.outstanding())
                self.notify(
                    f"{run.title} signed by {run.signed_by}"
                    + (f" with {left} item(s) not done" if left else ""),
                    timeout=6,
                    markup=False,
                )
            self._fill()
            self._refresh_head()
            app: EngFlowApp = self.app  # type: ignore[assignment]
            app.checklists.finished(self.session)

        self.app.push_screen(SignChecklistModal(run, self.session.operator), done)

    def action_export(self) -> None:
        app: EngFlowApp = self.app  # type: ignore[assignment]
        app.checklists.export(self.session.run)

    def action_leave(self) -> None:
        app: EngFlowApp = self.app  # type: ignore[assignment]
        if not self.session.run.finished:
            problem = self.session.save()  # one more try: the directory may be fixed by now
            if problem:
                # Not on disk: the run stays open in this console (C brings it back), never
                # dropped while the operator is told it was kept.
                self.notify(problem, severity="error", timeout=20, markup=False)
                self.dismiss(None)
                return
            self.notify("run kept: C resumes it", timeout=4, markup=False)
        app.checklists.finished(self.session)
        self.dismiss(None)
