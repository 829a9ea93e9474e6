"""The config schema's vocabulary: what each setting is, carried once by its dataclass field.

Every field of the config dataclasses that a file may set says, in ``dataclasses.field(metadata=
setting(...))``, its kind (how the file writes it), its bounds and its doc. The reader and
validator (config.py), ``config show`` (config_dump.py) and the test of config.toml.example all
derive from that; nothing else lists the keys, their kinds or their bounds.

A leaf: imports nothing from the package but ``durations``. Must not import Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import MISSING, Field, dataclass, fields
from typing import Any

from .durations import MAX_DURATION

Problem = str | tuple[str, str] | None
"""What a check says: None (fine), a message about the key itself, or (sub-key, message) when the
culprit is a key inside it (a section's cross-field check)."""

KINDS = {
    "bool": "true or false",
    "int": "a positive whole number",
    "number": "a non-negative number",
    "str": "a non-empty string",
    "names": "a list of non-empty strings",
    "url": "an http(s):// URL",
    "envname": "the NAME of an environment variable (never the secret itself)",
    "dsn": "a libpq URI or key=value string without a password (shown masked)",
    "duration": 'a duration: "500ms", "10s", "30m", "2h", "1d" or a number of seconds',
    "duration_or_next_business_day": 'a duration, or "next business day"',
    "size": 'a size: "8GB", "500MB" or a number of bytes',
    "choice": "one of the listed values",
    "clock": 'a time of day, "HH:MM"',
    "hours": "a number of hours between -14 and 14",
    "column": "schema.table.column",
    "per_severity": 'a table of durations by severity: {1 = "15m", ...}',
    "section": "a table of settings ([name])",
    "tables": "an array of tables ([[name]])",
    "named_tables": "a table of tables by name ([name.NAME])",
    "alert_overrides": "[alerts.RULE] tables of rule overrides (alerts/rules.toml)",
    "key": "not written in the file: the name of the table that holds it",
}
"""Every kind a setting may have, and how a file writes it."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting's schema: kind, bounds, doc, and the few messages some kinds word their own."""

    kind: str
    doc: str
    above_zero: bool = False
    """duration: zero is refused (a timeout of 0 waits forever, an interval of 0 spins)."""
    at_most: str = MAX_DURATION
    """duration: the longest accepted (far above sane, far below what overflows a timer)."""
    at_least: tuple[float, str] | None = None
    """duration, number: the smallest accepted, and how the message writes it."""
    choices: tuple[object, ...] = ()
    """choice: the values accepted."""
    allow_empty: bool = False
    """names: an empty list means none (else it is refused)."""
    strip_slash: bool = False
    """url: a trailing / is dropped (a base URL that paths are joined to)."""
    item: type | None = None
    """section, tables, named_tables: the dataclass of the table / of each table."""
    merge_by: str | None = None
    """tables: each table replaces, in the default, the item with the same value of this key
    (omitted keys keep the default's); the default's order is kept."""
    non_empty: bool = False
    """tables: at least one."""
    not_array: str = "must be an array of tables"
    not_table: str = "must be a table"
    missing: str | None = None
    """A required key of a table (tables, named_tables): what the message says when it is
    missing; without it, the missing value is checked as if given as nothing."""
    check: Callable[[Any], Problem] | None = None
    """What the kind cannot say (a DSN that libpq refuses, a check id that does not exist, a
    section's keys that contradict each other); run on the converted value."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown setting kind {self.kind!r}")
        if self.kind in ("section", "tables", "named_tables") and self.item is None:
            raise ValueError(f"a {self.kind} setting needs its item dataclass")


def setting(
    kind: str,
    doc: str,
    *,
    above_zero: bool = False,
    at_most: str = MAX_DURATION,
    at_least: tuple[float, str] | None = None,
    choices: tuple[object, ...] = (),
    allow_empty: bool = False,
    strip_slash: bool = False,
    item: type | None = None,
    merge_by: str | None = None,
    non_empty: bool = False,
    not_array: str = "must be an array of tables",
    not_table: str = "must be a table",
    missing: str | None = None,
    check: Callable[[Any], Problem] | None = None,
) -> dict[str, Setting]:
    """The ``metadata`` of a config field: ``field(default=2.0, metadata=setting("duration",
    "Seconds between two polls.", at_most="1h"))``."""
    return {
        "setting": Setting(
            kind,
            doc,
            above_zero,
            at_most,
            at_least,
            choices,
            allow_empty,
            strip_slash,
            item,
            merge_by,
            non_empty,
            not_array,
            not_table,
            missing,
            check,
        )
    }


def setting_of(f: Field[Any]) -> Setting | None:
    """The setting a field carries (None: not a setting, like Config.path)."""
    value = f.metadata.get("setting")
    return value if isinstance(value, Setting) else None


def file_fields(cls: type) -> Iterator[tuple[Field[Any], Setting]]:
    """The fields of a config dataclass that a file sets, in order, with their settings."""
    for f in fields(cls):
        s = setting_of(f)
        if s is not None and s.kind != "key":
            yield f, s


def file_keys(cls: type) -> set[str]:
    """The keys a file may write in a table of ``cls``."""
    return {f.name for f, _ in file_fields(cls)}


def is_required(f: Field[Any]) -> bool:
    """The field has no default: a table of its dataclass must give it."""
    return f.default is MISSING and f.default_factory is MISSING


def default_of(f: Field[Any]) -> Any:
    """The field's default value (a fresh one where it has a factory)."""
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def walk(cls: type, prefix: str = "") -> Iterator[tuple[str, Setting]]:
    """Every setting below ``cls`` as ("section.key", setting); the tables of a named_tables
    section are written ``NAME`` (``targets.NAME.dsn``), array items without an index."""
    for f, s in file_fields(cls):
        path = f"{prefix}{f.name}"
        yield path, s
        if s.kind in ("section", "tables") and s.item is not None:
            yield from walk(s.item, path + ".")
        elif s.kind == "named_tables" and s.item is not None:
            yield from walk(s.item, path + ".NAME.")


def or_list(choices: tuple[object, ...]) -> str:
    """``a, b or c``."""
    shown = [str(c) for c in choices]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
