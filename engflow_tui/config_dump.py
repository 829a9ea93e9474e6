"""Write a Config back as TOML (tomli-w): ``config show`` prints the effective settings.

Derived from the schema (settings.setting in each field's metadata): each value is written the
way its kind is read, so what it prints loads back to the same settings; a DSN is masked.
Must not import Textual.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from .config import Config
from .dsn import mask_dsn
from .durations import format_duration
from .settings import Setting, file_fields


def _table(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, s in file_fields(type(obj)):
        value = getattr(obj, f.name)
        if value == "" or (value is None and s.kind != "duration_or_next_business_day"):
            continue  # unset (the file would say nothing; "" is not a value a file may give)
        out[f.name] = _value(value, s)
    return out


def _value(value: Any, s: Setting) -> Any:
    if s.kind == "duration":
        return format_duration(value)
    if s.kind == "duration_or_next_business_day":
        return "next business day" if value is None else format_duration(value)
    if s.kind == "per_severity":
        return {str(k): format_duration(v) for k, v in sorted(value.items())}
    if s.kind == "dsn":
        return mask_dsn(value)  # never print a secret, even one left in a file
    if s.kind == "section":
        return _table(value)
    if s.kind == "tables":
        return [_table(item) for item in value]
    if s.kind == "named_tables":
        return {name: _table(item) for name, item in value.items()}
    if s.kind == "alert_overrides":
        return {rule: dict(changes) for rule, changes in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value


def dump_config(config: Config) -> str:
    return tomli_w.dumps(_table(config))
