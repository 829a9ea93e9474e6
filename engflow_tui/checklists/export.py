"""A run as Markdown (the runbook's printed layout: boxes, notes, "Completed by", times) or JSON.
No Textual."""

from __future__ import annotations

from typing import Any

from ..textsafe import dumps, inert
from .run import ChecklistRun, ItemState

MARK = {"done": "x", "pass": "x", "fail": " ", "pending": " ", "skipped": " "}


def auto_status(run: ChecklistRun) -> str:
    """pass when every auto item passed; fail otherwise (the exit code of ``checklist run``)."""
    autos = [i for i in run.items if i.kind == "auto"]
    return "pass" if all(i.status == "pass" for i in autos) else "fail"


def as_json_dict(run: ChecklistRun) -> dict[str, Any]:
    data = run.as_dict()
    data["auto_status"] = auto_status(run)
    data["counts"] = run.counts()
    data["items"] = [
        {
            "id": i.id,
            "text": i.text,
            "section": i.section,
            "kind": i.kind,
            "status": i.status,
            "value": i.value,
            "detail": i.detail,
            "note": i.note,
            "skip_reason": i.skip_reason,
            "overridden": i.overridden,
            "checked_at": i.checked_at,
            "checked_by": i.checked_by,
        }
        for i in run.items
    ]
    return data


def render_json(run: ChecklistRun) -> str:
    return dumps(as_json_dict(run), indent=2)


def _line(item: ItemState) -> list[str]:
    text = item.text
    tail: list[str] = []
    if item.kind == "auto":
        verdict = {
            "pass": "pass",
            "fail": "**FAILED**",
            "pending": "not verified",
            "done": "failed, overridden" if item.overridden else "done",
            "skipped": "skipped",
        }[item.status]
        tail.append(f"{verdict}" + (f": {item.value}" if item.value else ""))
    elif item.status == "skipped":
        tail.append("skipped")
    lines = [f"- [{MARK[item.status]}] {text}" + (f" — {'; '.join(tail)}" if tail else "")]
    if item.skip_reason:
        lines.append(f"  - Skipped because: {item.skip_reason}")
    if item.override_reason:
        lines.append(f"  - Accepted although it failed, because: {item.override_reason}")
    if item.detail and item.kind == "auto":
        lines.append(f"  - Measured: {item.detail}")
    if item.note:
        lines.append(f"  - Note: {item.note}")
    if item.checked_by and item.status != "pending":
        lines.append(f"  - {item.checked_at} by {item.checked_by}")
    return lines


HEADING_FIELDS = ("date", "title", "incident")
"""The placeholders a checklist's printed_heading may use (the loader rejects others)."""


def heading_of(run: ChecklistRun, incident: str = "") -> str:
    values = {
        "date": run.started_at[:10],
        "title": run.title,
        "incident": incident or run.incident or run.run_id,
    }
    try:
        return run.printed_heading.format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):  # a run file from elsewhere
        return f"{run.title} - {values['date']}"


def render_markdown(run: ChecklistRun, incident: str = "") -> str:
    heading = heading_of(run, incident)
    out = [f"# {heading}", ""]
    out.append(f"{run.title} — target `{run.target}` — run `{run.run_id}`")
    out.append("")
    if run.printed_section:
        out += [run.printed_section, ""]
    section = None
    for item in run.items:
        if item.section != section:
            section = item.section
            box = f" ({item.timebox})" if item.timebox else ""
            out += ["", f"**{section}**{box}", ""]
        out += _line(item)
    counts = run.counts()
    out += [
        "",
        "Notes:",
        run.notes.strip() or "_________________________________",
        "",
        f"{run.lead_label}: {run.signed_by or '___________________'}",
        f"Started: {run.started_at} by {run.operator}",
        f"Finished: {run.finished_at or 'not finished'}",
        "Result: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + f" (auto items: {auto_status(run)})",
    ]
    return inert("\n".join(out).replace("\n\n\n", "\n\n") + "\n")


def runs_section(runs: list[ChecklistRun]) -> str | None:
    """The checklist runs of an incident, for its report: each run's result and its items."""
    if not runs:
        return None
    out: list[str] = []
    for run in sorted(runs, key=lambda r: r.started_at):
        counts = run.counts()
        state = f"signed by {run.signed_by} at {run.finished_at}" if run.signed_by else "not signed"
        out += [
            f"### {run.title} (`{run.run_id}`)",
            "",
            f"Started {run.started_at} by {run.operator}; {state}. "
            + ", ".join(f"{n} {s}" for s, n in counts.items() if n),
            "",
        ]
        for item in run.items:
            out += _line(item)
        out.append("")
    return "\n".join(out).rstrip()
