"""Load checklists: the shipped *.toml files, then the user's ``checklists/*.toml`` next to the
config file. A bad file is reported (file + field) and skipped; the others still load. No Textual.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from .model import OPS, Checklist, Condition, Item, parse_timebox

_TOP = {
    "id", "title", "when", "runbook", "printed_heading", "printed_section", "lead_label", "timed",
    "sections",
}  # fmt: skip
_SECTION = {"title", "timebox", "items"}
_ITEM = {"id", "text", "runbook", "reference", "open", "verify"}
_CONDITION = {"metric", "op", "value", "diagnose"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ChecklistFileError(Exception):
    def __init__(self, path: str, where: str, message: str) -> None:
        super().__init__(f"{path}: {where}: {message}" if where else f"{path}: {message}")


@dataclass(frozen=True, slots=True)
class Catalog:
    checklists: dict[str, Checklist]
    problems: tuple[str, ...]
    """One line per file that could not be loaded (file + field + why)."""

    def get(self, name: str) -> Checklist | None:
        return self.checklists.get(name)


def user_checklist_dir(config_path: Path | None) -> Path:
    from ..config import default_config_path

    base = config_path.parent if config_path is not None else default_config_path().parent
    return base / "checklists"


def _text(raw: Mapping[str, Any], key: str, path: str, where: str, required: bool = False) -> Any:
    value = raw.get(key)
    if value is None:
        if required:
            raise ChecklistFileError(path, f"{where}{key}", "missing")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ChecklistFileError(path, f"{where}{key}", "must be a non-empty string")
    return value


def _keys(raw: Mapping[str, Any], known: set[str], path: str, where: str) -> None:
    import difflib

    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ChecklistFileError(path, f"{where}{key}", f"unknown field{hint}")


def _condition(raw: Any, path: str, where: str, metrics: Iterable[str] | None) -> Condition:
    if not isinstance(raw, dict):
        raise ChecklistFileError(
            path, where, "must be a table like { metric = ..., op = ..., value = ... }"
        )
    _keys(raw, _CONDITION, path, where + ".")
    if ("metric" in raw) == ("diagnose" in raw):
        raise ChecklistFileError(path, where, "give exactly one of metric or diagnose")
    if "diagnose" in raw:
        return Condition(diagnose=_text(raw, "diagnose", path, where + ".", required=True))
    metric = _text(raw, "metric", path, where + ".", required=True)
    if metrics is not None and metric not in metrics:
        import difflib

        close = difflib.get_close_matches(metric, sorted(metrics), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ChecklistFileError(path, where + ".metric", f"unknown metric {metric!r}{hint}")
    op = raw.get("op")
    if op is None:
        if "value" in raw:
            raise ChecklistFileError(path, where + ".op", "missing (value needs an op)")
        return Condition(metric=metric)
    if op not in OPS:
        raise ChecklistFileError(
            path, where + ".op", f"must be one of {', '.join(OPS)}, not {op!r}"
        )
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ChecklistFileError(path, where + ".value", "must be a number")
    return Condition(metric=metric, op=op, value=float(value))


def parse_checklist(
    data: Mapping[str, Any], path: str, default_id: str, metrics: Iterable[str] | None = None
) -> Checklist:
    """Validate one parsed TOML file; raises ChecklistFileError naming the field."""
    metrics = set(metrics) if metrics is not None else None
    _keys(data, _TOP, path, "")
    checklist_id = data.get("id", default_id)
    if not isinstance(checklist_id, str) or not _ID.match(checklist_id):
        raise ChecklistFileError(path, "id", "must be lower-case letters, digits, - or _")
    title = _text(data, "title", path, "", required=True)
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ChecklistFileError(path, "sections", "missing: add at least one [[sections]]")
    items: list[Item] = []
    seen: set[str] = set()
    section_titles: list[str] = []
    for s_index, section in enumerate(sections):
        where = f"sections[{s_index}]"
        if not isinstance(section, dict):
            raise ChecklistFileError(path, where, "must be a table ([[sections]])")
        _keys(section, _SECTION, path, where + ".")
        s_title = _text(section, "title", path, where + ".", required=True)
        timebox = _text(section, "timebox", path, where + ".")
        if timebox and timebox != "post-fix" and parse_timebox(timebox) is None:
            raise ChecklistFileError(
                path, where + ".timebox", f"{timebox!r} is not like '0-2 min' (or 'post-fix')"
            )
        section_titles.append(s_title)
        raw_items = section.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise ChecklistFileError(path, where + ".items", "missing: add [[sections.items]]")
        for i_index, raw in enumerate(raw_items):
            iwhere = f"{where}.items[{i_index}]"
            if not isinstance(raw, dict):
                raise ChecklistFileError(path, iwhere, "must be a table ([[sections.items]])")
            _keys(raw, _ITEM, path, iwhere + ".")
            item_id = raw.get("id")
            if not isinstance(item_id, str) or not _ID.match(item_id):
                raise ChecklistFileError(
                    path, iwhere + ".id", "missing or not lower-case letters, digits, - or _"
                )
            if item_id in seen:
                raise ChecklistFileError(path, iwhere + ".id", f"{item_id!r} is used twice")
            seen.add(item_id)
            runbook = raw.get("runbook", ())
            if isinstance(runbook, str):
                runbook = (runbook,)
            if not isinstance(runbook, (list, tuple)) or not all(
                isinstance(r, str) for r in runbook
            ):
                raise ChecklistFileError(path, iwhere + ".runbook", "must be a string or strings")
            verify = raw.get("verify", [])
            if not isinstance(verify, list):
                raise ChecklistFileError(path, iwhere + ".verify", "must be an array of tables")
            items.append(
                Item(
                    id=item_id,
                    text=_text(raw, "text", path, iwhere + ".", required=True),
                    section=s_title,
                    timebox=timebox,
                    runbook=tuple(runbook),
                    reference=_text(raw, "reference", path, iwhere + "."),
                    open=_text(raw, "open", path, iwhere + "."),
                    verify=tuple(
                        _condition(c, path, f"{iwhere}.verify[{c_index}]", metrics)
                        for c_index, c in enumerate(verify)
                    ),
                )
            )
    heading = _text(data, "printed_heading", path, "") or "{title} - {date}"
    _check_heading(heading, path)
    timed = data.get("timed", False)
    if not isinstance(timed, bool):
        raise ChecklistFileError(path, "timed", "must be true or false")
    return Checklist(
        id=checklist_id,
        title=title,
        items=tuple(items),
        when=_text(data, "when", path, "") or "",
        runbook=_text(data, "runbook", path, "") or "",
        printed_heading=heading,
        printed_section=_text(data, "printed_section", path, ""),
        lead_label=_text(data, "lead_label", path, "") or "Completed by",
        timed=timed,
        source=path,
        sections=tuple(section_titles),
    )


def _check_heading(heading: str, path: str) -> None:
    import string

    from .export import HEADING_FIELDS

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(heading) if f is not None]
    except ValueError as exc:
        raise ChecklistFileError(
            path, "printed_heading", f"{exc} (write {{{{ for a literal brace)"
        ) from None
    for name in fields:
        if name not in HEADING_FIELDS:
            raise ChecklistFileError(
                path,
                "printed_heading",
                f"unknown placeholder {{{name}}}: use {', '.join('{' + f + '}' for f in HEADING_FIELDS)}",
            )


def _load_file(path: Path, shown: str, metrics: Iterable[str] | None) -> Checklist:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChecklistFileError(shown, "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ChecklistFileError(shown, "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ChecklistFileError(shown, "", f"TOML syntax error: {exc}") from None
    return parse_checklist(data, shown, path.stem, metrics)


RUNBOOK_ORDER = (
    "daily-morning", "daily-afternoon", "daily-evening", "weekly-operations",
    "weekly-maintenance", "monthly-operations", "monthly-maintenance", "quarterly",
    "pre-deployment", "incident-response", "sev1", "sev2", "sev3",
)  # fmt: skip
"""How the picker and `checklist list` order the shipped lists: as the runbook's day goes."""


def shipped_files() -> list[Path]:
    folder = Path(str(files("engflow_tui").joinpath("checklists")))
    rank = {name: n for n, name in enumerate(RUNBOOK_ORDER)}
    return sorted(folder.glob("*.toml"), key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def load_catalog(user_dir: Path | None = None) -> Catalog:
    """Every shipped checklist, then the user's (a user file with a shipped id replaces it)."""
    from .verify import METRICS

    checklists: dict[str, Checklist] = {}
    problems: list[str] = []
    sources: list[tuple[Path, str]] = [(p, f"(shipped) {p.name}") for p in shipped_files()]
    if user_dir is not None and user_dir.is_dir():
        sources += [(p, str(p)) for p in sorted(user_dir.glob("*.toml"))]
    for path, shown in sources:
        try:
            checklist = _load_file(path, shown, METRICS)
        except ChecklistFileError as exc:
            problems.append(str(exc))
            continue
        checklists[checklist.id] = checklist
    return Catalog(checklists, tuple(problems))
