"""Pure render functions of a checklist walkthrough: item lines, the detail pane, the head line.

Unit tests call these without an app. No SQL, no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.text import Text

from ..checklists.model import Checklist, Item, parse_timebox
from ..checklists.run import ChecklistRun, ItemState
from ..durations import format_age

GLYPH = {
    "done": ("[x]", "green"),
    "pass": ("[✓]", "bold green"),
    "fail": ("[✗]", "bold white on red"),
    "skipped": ("[-]", "dim"),
    "pending": ("[ ]", ""),
}


def glyph(state: ItemState) -> tuple[str, str]:
    if state.status == "done" and state.overridden:
        return "[!]", "bold yellow"
    if state.status == "pending" and state.kind == "auto" and state.checked_at:
        return "[?]", "bold yellow"  # verified, but could not be measured
    return GLYPH[state.status]


def elapsed(run: ChecklistRun, now: datetime) -> float:
    """Seconds on the time boxes' clock (from the incident's declaration when there is one)."""
    return max(0.0, (now - run.origin()).total_seconds())


def overdue(state: ItemState, run: ChecklistRun, now: datetime) -> bool:
    box = parse_timebox(state.timebox)
    return box is not None and state.status == "pending" and elapsed(run, now) > box[1]


def item_line(state: ItemState, run: ChecklistRun, now: datetime, width: int = 200) -> Text:
    """One line: mark, text (cut to fit), then what must stay visible — value, note, OVERDUE."""
    mark, style = glyph(state)
    tail = Text()
    if state.kind == "auto":
        tail.append("  auto", style="dim cyan")
    if state.value:
        tail.append(f"  {state.value}", style="bold green" if state.status == "pass" else "bold")
    if state.note:
        tail.append("  ✎", style="cyan")
    if overdue(state, run, now):
        tail.append("  OVERDUE", style="bold white on red")
    text = Text(state.text)
    room = max(10, width - len(mark) - 1 - tail.cell_len)
    text.truncate(room, overflow="ellipsis")
    line = Text()
    line.append(mark, style=style)
    line.append(" ")
    line.append_text(text)
    line.append_text(tail)
    line.truncate(width, overflow="ellipsis")
    return line


def section_line(title: str, timebox: str | None, run: ChecklistRun, now: datetime) -> Text:
    text = Text(title, style="bold underline")
    box = parse_timebox(timebox)
    if timebox:
        text.append(f"  {timebox}", style="bold")
    if box is not None:
        t = elapsed(run, now)
        if box[0] <= t < box[1]:
            text.append("  ← now", style="bold black on yellow")
        elif t >= box[1]:
            text.append("  (time passed)", style="dim")
    return text


def head_line(checklist: Checklist, run: ChecklistRun, now: datetime) -> Text:
    counts = run.counts()
    total = len(run.items)
    completed = counts["done"] + counts["pass"]
    text = Text()
    text.append(run.title, style="bold")
    text.append(
        f"   {completed}/{total} done", style="bold green" if completed == total else "bold"
    )
    if counts["fail"]:
        text.append(f"  {counts['fail']} failed", style="bold white on red")
    if counts["skipped"]:
        text.append(f"  {counts['skipped']} skipped", style="yellow")
    text.append("\n")
    started = run.started()
    text.append(
        f"run by {run.operator} on {run.target} · started {started.astimezone(UTC):%Y-%m-%d %H:%M}Z "
        f"({format_age(max(0.0, (now - started).total_seconds()))} ago)",
        style="dim",
    )
    if checklist.timed:
        t = int(elapsed(run, now))
        since = f" since {run.incident} was declared" if run.incident else ""
        text.append(f"   T+{t // 60:02d}:{t % 60:02d}{since}", style="bold reverse")
    if run.finished:
        text.append(f"   signed by {run.signed_by} at {run.finished_at}", style="bold")
    return text


def detail(
    item: Item, state: ItemState, run: ChecklistRun, now: datetime, can_open: bool = True
) -> RenderableType:
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{item.section}", style="bold")
    if item.timebox:
        head.append(f"  ({item.timebox})")
    head.append(f" · {item.kind} · ", style="dim")
    mark, style = glyph(state)
    status = "failed, overridden" if state.overridden else state.status
    head.append(f"{mark} {status}", style=style)
    parts.append(head)
    parts.append(Text(item.text))
    if item.verify:
        parts.append(Text("checks: " + "; ".join(c.describe() for c in item.verify), style="cyan"))
    if state.value or state.detail:
        measured = Text("measured: ", style="bold")
        if state.value:
            measured.append(state.value)
        if state.detail:
            measured.append(f" — {state.detail}" if state.value else state.detail)
        if state.checked_at:
            measured.append(f"  ({state.checked_at})", style="dim")
        parts.append(measured)
    if state.skip_reason:
        parts.append(Text(f"skipped: {state.skip_reason}", style="yellow"))
    if state.override_reason:
        parts.append(Text(f"accepted although it failed: {state.override_reason}", style="yellow"))
    if state.note:
        parts.append(Text(f"note: {state.note}", style="cyan"))
    if item.open and can_open:
        parts.append(Text(f"Enter: open {item.open}", style="bold magenta"))
    elif item.open:
        parts.append(Text(f"({item.open} is not available in this console)", style="dim"))
    if item.reference:
        from .render import highlighted

        lexer = (
            "sql"
            if item.reference.lstrip().upper().startswith(("SELECT", "ANALYZE", "ALTER"))
            else "bash"
        )
        parts.append(Text("reference:", style="bold"))
        parts.append(highlighted(item.reference.strip("\n"), lexer, word_wrap=True))
    if item.runbook:
        parts.append(Text("runbook: " + " · ".join(item.runbook), style="dim italic"))
    if item.kind == "manual":
        hints = ["space tick"]
    elif state.status == "fail":
        hints = ["space override (with a reason)", "r re-verify"]
    elif state.status == "skipped":
        hints = ["space take the skip back"]
    else:
        hints = ["space/r verify"]
    hints += ["n note", "s skip", "f finish", "e export", "Esc back"]
    parts.append(Text(" · ".join(hints), style="dim"))
    return Group(*parts)


def outstanding_text(run: ChecklistRun) -> Text:
    """The sign dialog's list: every item still open, skipped or failed."""
    text = Text()
    groups = (
        ("fail", "Failed", "bold white on red"),
        ("pending", "Still open", "bold"),
        ("skipped", "Skipped", "yellow"),
    )
    for status, label, style in groups:
        items = [i for i in run.items if i.status == status]
        if not items:
            continue
        text.append(f"{label} ({len(items)}):\n", style=style)
        for i in items:
            text.append(f"  • {i.text}")
            if i.skip_reason:
                text.append(f" — {i.skip_reason}", style="dim")
            elif i.value:
                text.append(f" — {i.value}", style="dim")
            text.append("\n")
    if not text.plain:
        text.append("Every item is done or passed.", style="bold green")
    return text
