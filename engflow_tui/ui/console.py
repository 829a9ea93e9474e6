"""Building the console app: its collector starts connecting and reading first, on a thread of
its own, and only then is the UI (Textual: most of the start-up time) imported — the first
connection and query overlap the UI's loading.

Imports Textual only inside :func:`build_console`, after the collector has started.
"""

from __future__ import annotations

from typing import Any

from ..config import Config, TargetConfig


def build_console(config: Config, target: TargetConfig | None) -> Any:
    """The console app (ui.app.EngFlowApp) on ``target`` (None: it asks which)."""
    from ..monitor import console_monitors

    monitors = console_monitors(config, target)
    from .app import EngFlowApp

    return EngFlowApp(config, target, monitor_factory=monitors)
