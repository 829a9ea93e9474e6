"""A checklist run — who runs which list, since when, every item's state — and its crash-safe
store: one JSON file per run, rewritten atomically on every change, so a closed terminal, a crash
or ``kill -9`` loses at most the keystroke in flight. A run file is validated field by field when
read: one that does not fit is set aside (``NAME.corrupt-PID``) and said, a save cut short by a
kill is recovered or removed (see :mod:`engflow_tui.statefile`). No Textual.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import statefile as shape
from ..atomic import write_json
from .model import Checklist
from .verify import Verdict

STATUSES = ("pending", "done", "pass", "fail", "skipped")
OPEN = ("pending",)
KINDS = ("manual", "auto")
MODES = ("interactive", "auto")
RUN_ID = re.compile(r"[A-Za-z0-9_.-]+")


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _parse(t: str | None) -> datetime | None:
    return datetime.fromisoformat(t.replace("Z", "+00:00")) if t else None


@dataclass
class ItemState:
    id: str
    text: str
    section: str
    kind: str
    """manual | auto"""
    timebox: str | None = None
    status: str = "pending"
    value: str | None = None
    """The measured value, as shown ("312 ms")."""
    detail: str | None = None
    """What was measured, or why it could not be."""
    note: str = ""
    skip_reason: str | None = None
    overridden: bool = False
    """A failed auto item the operator accepted, with a reason."""
    override_reason: str | None = None
    """Why a failed check was accepted (kept apart from the item's note)."""
    checked_at: str | None = None
    checked_by: str | None = None


@dataclass
class ChecklistRun:
    run_id: str
    checklist: str
    title: str
    target: str
    operator: str
    started_at: str
    items: list[ItemState]
    finished_at: str | None = None
    signed_by: str | None = None
    mode: str = "interactive"
    """interactive (walked in the console) | auto (``checklist run --auto``)"""
    notes: str = ""
    printed_heading: str = "{title} - {date}"
    printed_section: str | None = None
    lead_label: str = "Completed by"
    events: list[dict[str, str]] = field(default_factory=list)
    """What happened, in order (for the incident timeline and the audit of a run)."""
    incident: str | None = None
    """The incident this run belongs to (a SEV procedure opened by incident mode)."""
    clock_origin: str | None = None
    """When time boxes start counting (the incident's declaration); default: started_at."""

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        checklist: Checklist,
        target: str,
        operator: str,
        now: datetime,
        mode: str = "interactive",
    ) -> ChecklistRun:
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        run = cls(
            run_id=f"{checklist.id}-{stamp}-{secrets.token_hex(2)}",
            checklist=checklist.id,
            title=checklist.title,
            target=target,
            operator=operator,
            started_at=_iso(now) or "",
            items=[ItemState(i.id, i.text, i.section, i.kind, i.timebox) for i in checklist.items],
            mode=mode,
            printed_heading=checklist.printed_heading,
            printed_section=checklist.printed_section,
            lead_label=checklist.lead_label,
        )
        run._event(now, "started", f"{operator} started {checklist.title} on {target}")
        return run

    @classmethod
    def from_dict(cls, data: Any) -> ChecklistRun:
        """A run as saved; ShapeError (a ValueError) naming the field that does not fit. Fields
        this version does not know (a run written by a newer one) are ignored, not fatal."""
        data = shape.obj(data, "the run")
        run_id = shape.text(data.get("run_id"), "run_id")
        if not RUN_ID.fullmatch(run_id):
            raise shape.ShapeError(f"run_id {run_id[:60]!r} is not a run id")
        items = [
            _item(i, f"items[{n}]") for n, i in enumerate(shape.objects(data.get("items"), "items"))
        ]
        events = shape.objects(data.get("events", []), "events")
        for n, event in enumerate(events):
            for key, value in event.items():
                shape.text(value, f"events[{n}].{key}")
        shape.moment(data.get("started_at"), "started_at")
        for key in ("finished_at", "clock_origin"):
            shape.optional_moment(data.get(key), key)
        for key in ("checklist", "title", "target", "operator"):
            shape.text(data.get(key), key)
        for key in ("notes", "printed_heading", "lead_label"):
            if key in data:
                shape.text(data[key], key)
        for key in ("signed_by", "printed_section", "incident"):
            shape.optional_text(data.get(key), key)
        shape.choice(data.get("mode", "interactive"), "mode", MODES)
        run_fields = set(cls.__dataclass_fields__) - {"items"}
        return cls(items=items, **{k: v for k, v in data.items() if k in run_fields})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    # ---- state --------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def item(self, item_id: str) -> ItemState:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for item in self.items:
            out[item.status] += 1
        return out

    def outstanding(self) -> list[ItemState]:
        """What a signature would leave behind: open, skipped or failed (not overridden)."""
        return [i for i in self.items if i.status in ("pending", "skipped", "fail")]

    def started(self) -> datetime:
        return _parse(self.started_at) or datetime.now(UTC)

    def origin(self) -> datetime:
        """Where time boxes count from: the incident's declaration, else the run's start."""
        return _parse(self.clock_origin) or self.started()

    def _event(self, now: datetime, kind: str, text: str) -> None:
        self.events.append({"at": _iso(now) or "", "kind": kind, "text": text})

    # ---- operations (each followed by a save) -------------------------------------------------
    def toggle(self, item_id: str, by: str, now: datetime) -> ItemState:
        """Tick a manual item, or untick it. Auto items are verified, not ticked."""
        item = self.item(item_id)
        if item.kind != "manual":
            raise ValueError(
                "an auto item is verified (r); a failed one can be overridden with a note"
            )
        if item.status == "done":
            item.status, item.checked_at, item.checked_by = "pending", None, None
            self._event(now, "unticked", f"{by} unticked: {item.text}")
        else:
            item.status, item.checked_at, item.checked_by = "done", _iso(now), by
            item.skip_reason = None
            self._event(now, "ticked", f"{by} ticked: {item.text}")
        return item

    def set_note(self, item_id: str, note: str, by: str, now: datetime) -> ItemState:
        item = self.item(item_id)
        item.note = note.strip()
        self._event(now, "note", f"{by} noted on {item.text}: {item.note}")
        return item

    def skip(self, item_id: str, reason: str, by: str, now: datetime) -> ItemState:
        reason = reason.strip()
        if not reason:
            raise ValueError("say why the item is skipped")
        item = self.item(item_id)
        item.status, item.skip_reason = "skipped", reason
        item.checked_at, item.checked_by = _iso(now), by
        self._event(now, "skipped", f"{by} skipped {item.text}: {reason}")
        return item

    def record(self, item_id: str, verdict: Verdict, by: str) -> ItemState:
        item = self.item(item_id)
        if item.status == "skipped" or (item.overridden and verdict.status != "pass"):
            # A re-check does not undo the operator's decision (a skip, or an override that a
            # failing or unmeasurable check cannot clear); it updates what was measured.
            item.value, item.detail = verdict.value, verdict.detail
            return item
        changed = item.status != verdict.status or item.overridden
        item.status, item.value, item.detail = verdict.status, verdict.value, verdict.detail
        item.overridden, item.override_reason = False, None
        item.checked_at, item.checked_by = _iso(verdict.at), by
        if changed:  # a re-check with the same outcome is not news (nor timeline noise)
            now = verdict.at or datetime.now(UTC)
            self._event(
                now,
                f"verified-{verdict.status}",
                f"{item.text}: {verdict.status} ({verdict.value or verdict.detail})",
            )
        return item

    def action_result(
        self, item_id: str, ok: bool, audit_id: str | None, outcome: str, by: str, now: datetime
    ) -> ItemState:
        """The console action the item opened has ended. Done: a manual item is ticked with the
        audit record's id and the outcome as its value (an auto item keeps its verification and
        is re-verified). Failed, refused or not run: the item is failed, with the reason."""
        item = self.item(item_id)
        record = f"{audit_id}: {outcome}" if audit_id else outcome
        if ok:
            if item.kind == "manual":
                item.status, item.value = "done", record
                item.checked_at, item.checked_by, item.skip_reason = _iso(now), by, None
            self._event(now, "action-done", f"{by} ran the action of {item.text}: {record}")
        else:
            item.status, item.value, item.detail = "fail", audit_id, f"the action failed: {outcome}"
            item.checked_at, item.checked_by = _iso(now), by
            item.overridden, item.override_reason = False, None
            self._event(now, "action-failed", f"{by}: the action of {item.text} failed: {record}")
        return item

    def unskip(self, item_id: str, by: str, now: datetime) -> ItemState:
        item = self.item(item_id)
        if item.status != "skipped":
            raise ValueError("not skipped")
        item.status, item.skip_reason, item.checked_at, item.checked_by = (
            "pending",
            None,
            None,
            None,
        )
        self._event(now, "unskipped", f"{by} took back the skip of {item.text}")
        return item

    def override(self, item_id: str, note: str, by: str, now: datetime) -> ItemState:
        note = note.strip()
        if not note:
            raise ValueError("a failed check can be overridden only with a note")
        item = self.item(item_id)
        if item.status != "fail":
            raise ValueError("only a failed auto item can be overridden")
        item.status, item.overridden, item.override_reason = "done", True, note
        item.checked_at, item.checked_by = _iso(now), by
        self._event(now, "overridden", f"{by} overrode failed check {item.text}: {note}")
        return item

    def finish(self, by: str, now: datetime, notes: str | None = None) -> None:
        if notes is not None:
            self.notes = notes
        self.finished_at, self.signed_by = _iso(now), by
        left = len(self.outstanding())
        self._event(
            now,
            "signed",
            f"{by} signed {self.title}" + (f" with {left} item(s) outstanding" if left else ""),
        )


def _item(data: dict[str, Any], where: str) -> ItemState:
    """One item of a saved run, every field checked."""
    for key in ("id", "text", "section"):
        shape.text(data.get(key), f"{where}.{key}")
    shape.choice(data.get("kind"), f"{where}.kind", KINDS)
    shape.choice(data.get("status", "pending"), f"{where}.status", STATUSES)
    for key in ("timebox", "value", "detail", "skip_reason", "override_reason", "checked_by"):
        shape.optional_text(data.get(key), f"{where}.{key}")
    shape.text(data.get("note", ""), f"{where}.note")
    shape.flag(data.get("overridden", False), f"{where}.overridden")
    shape.optional_moment(data.get("checked_at"), f"{where}.checked_at")
    known = set(ItemState.__dataclass_fields__)
    return ItemState(**{k: v for k, v in data.items() if k in known})


WHAT = "checklist run"


class RunStore:
    """One JSON file per run under ``<state_dir>/checklists/``. ``problems``: what was found
    wrong with the files and done about it (set aside, recovered), for the UI to say once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[str] = []

    @classmethod
    def for_state_dir(cls, state_dir: str) -> RunStore:
        return cls(Path(os.path.expanduser(state_dir)) / "checklists")

    def path(self, run_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id):
            raise KeyError(run_id)
        return self.directory / f"{run_id}.json"

    def save(self, run: ChecklistRun) -> None:
        """Raises OSError with the path when the run cannot be written."""
        write_json(self.path(run.run_id), run.as_dict())

    def load(self, run_id: str) -> ChecklistRun:
        """The run; FileNotFoundError / KeyError when there is none, ValueError (what does not
        fit) for a damaged file (left in place: :meth:`all` sets it aside)."""
        path = self.path(run_id)
        self.problems.extend(shape.recover_saves(path, WHAT, ChecklistRun.from_dict))
        return ChecklistRun.from_dict(shape.read_json(path))

    def all(self) -> list[ChecklistRun]:
        """Every readable run, newest first; files that do not fit are set aside and reported,
        saves cut short by a kill recovered or removed (and reported)."""
        runs: list[ChecklistRun] = []
        if not self.directory.is_dir():
            return runs
        for target in sorted(shape.leftover_targets(self.directory)):
            if target.suffix == ".json":
                self.problems.extend(shape.recover_saves(target, WHAT, ChecklistRun.from_dict))
        for path in sorted(self.directory.glob("*.json")):
            try:
                runs.append(ChecklistRun.from_dict(shape.read_json(path)))
            except FileNotFoundError:
                continue  # removed meanwhile (another console)
            except (OSError, ValueError) as exc:
                self.problems.append(shape.set_aside(path, WHAT, str(exc)))
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return runs

    def unfinished(self, target: str | None = None) -> list[ChecklistRun]:
        return [
            r
            for r in self.all()
            if not r.finished and r.mode == "interactive" and (target is None or r.target == target)
        ]
