"""The one config schema (issue 18): every field carries its kind and doc, and the shipped
config.toml.example documents every key of it, with a valid value, and no key it lacks."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from engflow_tui.alerts.rules import OVERRIDABLE, shipped_rules
from engflow_tui.config import Config, load_config, parse_config, setting_at
from engflow_tui.config_dump import dump_config
from engflow_tui.settings import KINDS, setting_of, walk

EXAMPLE = Path(__file__).resolve().parents[2] / "config.toml.example"
_HEADER = re.compile(r"^(#\s?)?\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?")
_KEY = re.compile(r"^(#\s?)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def _section_name(header: str) -> str:
    """The schema's name of a header: [targets.production] -> targets.NAME."""
    parts = header.split(".")
    if parts[0] in ("targets", "alerts") and len(parts) == 2:
        return f"{parts[0]}.{'NAME' if parts[0] == 'targets' else 'RULE'}"
    return header


def _scan(text: str) -> dict[tuple[str, str], tuple[int, bool]]:
    """(section, key) -> (line index of its first mention, documented there), for set and
    commented-out keys alike; section headers count as the key of their parent."""
    lines = text.splitlines()
    found: dict[tuple[str, str], tuple[int, bool]] = {}
    section = ""
    for index, line in enumerate(lines):
        previous = lines[index - 1].strip() if index else ""
        comment_above = (
            previous.startswith("#") and not _KEY.match(previous) and not _HEADER.match(previous)
        )
        if header := _HEADER.match(line):
            section = _section_name(header.group(2))
            parts = section.split(".")
            for depth in range(len(parts)):  # [[integrity.relations]] names [integrity] too
                found.setdefault((".".join(parts[:depth]), parts[depth]), (index, True))
            continue
        if key_match := _KEY.match(line):
            rest = line[key_match.end() :]
            documented = "#" in rest or comment_above
            found.setdefault((section, key_match.group(2)), (index, documented))
    return found


def _schema_keys() -> set[tuple[str, str]]:
    keys = set()
    for path, _ in walk(Config):
        parent, _, key = path.rpartition(".")
        keys.add((parent, key))
    return keys


def test_every_setting_has_a_known_kind_and_a_doc() -> None:
    def visit(cls: type) -> None:
        for f in dataclasses.fields(cls):
            s = setting_of(f)
            if cls is Config and f.name == "path":
                assert s is None  # where the file was read from: not a setting
                continue
            assert s is not None, f"{cls.__name__}.{f.name} carries no setting"
            assert s.kind in KINDS and len(s.doc) > 10, f"{cls.__name__}.{f.name}"
            if s.item is not None:
                visit(s.item)

    visit(Config)


def test_example_documents_every_key_of_the_schema_and_no_other() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    found = _scan(text)
    schema = _schema_keys()
    missing = sorted(".".join(k) for k in schema if k not in found)
    assert missing == [], f"keys of the schema the example does not mention: {missing}"
    unknown = []
    for section, key in found:
        if section == "alerts.RULE":
            if key not in OVERRIDABLE:
                unknown.append(f"alerts.RULE.{key}")
        elif (section, key) not in schema and key not in ("NAME", "RULE"):
            unknown.append(f"{section}.{key}" if section else key)
    assert unknown == [], f"keys the example mentions that the schema lacks: {unknown}"
    undocumented = sorted(
        ".".join(k) for k, (_, documented) in found.items() if k in schema and not documented
    )
    assert undocumented == [], f"keys without a comment in the example: {undocumented}"
    for header in re.findall(r"^#?\s?\[alerts\.(\w+)\]", text, re.M):
        assert header in shipped_rules(), header


def _uncommented(text: str) -> str:
    """The example with every commented-out key and header written in."""
    out = []
    for line in text.splitlines():
        if line.startswith("#") and (_HEADER.match(line) or _KEY.match(line)):
            line = re.sub(r"^#\s?", "", line)
        out.append(line)
    return "\n".join(out) + "\n"


def test_every_value_in_the_example_is_valid_commented_out_ones_included(tmp_path: Path) -> None:
    text = _uncommented(EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "all.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)  # raises on the first key the schema refuses
    assert config.console.operator == "ana" and config.notifications.webhooks
    assert config.integrity.relations and config.capacity.storage_limit == 8 * 1024**3
    # `config show` of all of it loads back to the same settings.
    again = parse_config(tomllib.loads(dump_config(config)), "dumped")
    assert dataclasses.replace(config, path=None) == again


def test_the_example_sets_every_section_to_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    config = load_config(EXAMPLE)
    for f in dataclasses.fields(Config):
        s = setting_of(f)
        if s is not None and s.kind == "section":
            assert getattr(config, f.name) == getattr(Config(), f.name), f.name


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("console.refresh_interval", "duration"),
        ("targets.prod.dsn", "dsn"),
        ("escalation.matrix[0].escalate_after", "duration_or_next_business_day"),
        ("incidents.status_update_every", "per_severity"),
        ("notifications.webhooks", "tables"),
    ],
)
def test_setting_at_finds_a_key_in_the_schema(key: str, kind: str) -> None:
    assert setting_at(key).kind == kind


def test_setting_at_refuses_a_key_the_schema_lacks() -> None:
    with pytest.raises(KeyError):
        setting_at("console.refresh_intervall")
