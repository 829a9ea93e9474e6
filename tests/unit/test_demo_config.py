"""The demo keeps every file it writes beside its own server: practice actions, checklist runs,
history and a practice incident never touch the operator's real ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from engflow_tui.demo import demo_config
from engflow_tui.pgserver import LocalPostgres

PATH_SUFFIXES = ("_file", "_dir", "_log")


def _paths(node: Any, where: str = "config") -> dict[str, str]:
    """Every setting that names a file or directory (by its key: *_file, *_dir, *_log...)."""
    found: dict[str, str] = {}
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if isinstance(value, str):
                if f.name.endswith(PATH_SUFFIXES):
                    found[f"{where}.{f.name}"] = value
            else:
                found |= _paths(value, f"{where}.{f.name}")
    elif isinstance(node, dict):
        for key, value in node.items():
            found |= _paths(value, f"{where}[{key!r}]")
    elif isinstance(node, (tuple, list)):
        for index, value in enumerate(node):
            found |= _paths(value, f"{where}[{index}]")
    return found


def test_every_demo_file_is_under_the_demo_servers_directory(tmp_path: Path) -> None:
    server = LocalPostgres(bin_dir=tmp_path / "bin", base_dir=tmp_path / "demo")
    config, _ = demo_config(server, 2.0, app_port=8080)
    paths = _paths(config)
    assert {
        "config.console.audit_log",
        "config.console.state_dir",
        "config.incidents.state_file",
        "config.incidents.reports_dir",
    } <= set(paths)
    outside = {
        key: value
        for key, value in paths.items()
        if not Path(value).expanduser().resolve().is_relative_to(server.base_dir.resolve())
    }
    assert not outside, outside
