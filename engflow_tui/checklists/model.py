"""Checklist definitions as loaded from TOML: frozen records. No Textual."""

from __future__ import annotations

from dataclasses import dataclass, field

OPS = ("<", "<=", ">", ">=", "==", "!=")


@dataclass(frozen=True, slots=True)
class Condition:
    """One verification: a console metric compared with a value, or a diagnose check that must
    be ok. A metric without ``op`` is measured and recorded only (it passes once measured)."""

    metric: str | None = None
    op: str | None = None
    value: float | None = None
    diagnose: str | None = None

    def describe(self) -> str:
        if self.diagnose:
            return f"diagnose check {self.diagnose} is ok"
        if self.op is None:
            return f"{self.metric} is measured"
        return f"{self.metric} {self.op} {self.value:g}"  # type: ignore[str-format]

    def holds(self, measured: float) -> bool:
        limit = self.value if self.value is not None else 0.0
        return {
            "<": measured < limit,
            "<=": measured <= limit,
            ">": measured > limit,
            ">=": measured >= limit,
            "==": measured == limit,
            "!=": measured != limit,
        }[self.op or "=="]


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    section: str
    timebox: str | None = None
    runbook: tuple[str, ...] = ()
    """The runbook's own words for this item (traceability; shown in the detail pane)."""
    reference: str | None = None
    """A command, SQL or URL the runbook names, shown as reference."""
    open: str | None = None
    """The palette name of the console screen or action that does this item."""
    verify: tuple[Condition, ...] = ()

    @property
    def kind(self) -> str:
        return "auto" if self.verify else "manual"


@dataclass(frozen=True, slots=True)
class Checklist:
    id: str
    title: str
    items: tuple[Item, ...]
    when: str = ""
    runbook: str = ""
    printed_heading: str = "{title} - {date}"
    printed_section: str | None = None
    lead_label: str = "Completed by"
    timed: bool = False
    source: str = ""
    """The file it was read from (shipped or the user's)."""
    sections: tuple[str, ...] = field(default=())

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def parse_timebox(text: str | None) -> tuple[float, float] | None:
    """'0-2 min' -> (0, 120) seconds since the start; None for no box or 'post-fix'."""
    if not text:
        return None
    head = text.strip().removesuffix("min").strip()
    if "-" not in head:
        return None
    start, _, end = head.partition("-")
    try:
        return float(start) * 60, float(end) * 60
    except ValueError:
        return None


def for_run(checklist: Checklist | None, run: object) -> tuple[Checklist, str | None]:
    """The definition to walk ``run`` with, and a warning when it no longer matches the run
    (the list changed since the run started, or is gone): items the definition lost are kept as
    the run saved them, as manual items, so the run can still be finished; new items are not added
    to a run already under way."""
    states = run.items  # type: ignore[attr-defined]
    defined = {i.id: i for i in checklist.items} if checklist is not None else {}
    items: list[Item] = []
    lost = 0
    for state in states:
        item = defined.get(state.id)
        if item is None or item.kind != state.kind:
            lost += 1
            item = Item(state.id, state.text, state.section, state.timebox)
            state.kind = "manual"
        items.append(item)
    run_ids = {s.id for s in states}
    added = sum(1 for i in defined.values() if i.id not in run_ids)
    if checklist is None:
        name = run.checklist  # type: ignore[attr-defined]
        return (
            Checklist(
                id=name,
                title=run.title,  # type: ignore[attr-defined]
                items=tuple(items),
                timed=any(i.timebox for i in items),
                sections=tuple(dict.fromkeys(i.section for i in items)),
            ),
            f"the checklist {name!r} is no longer installed: its items are walked as saved, "
            "as manual items",
        )
    if not lost and not added:
        return checklist, None
    from dataclasses import replace

    return (
        replace(checklist, items=tuple(items)),
        f"the checklist {checklist.id!r} changed since this run started: {lost} item(s) kept as "
        f"saved (as manual items), {added} new item(s) not in this run",
    )
