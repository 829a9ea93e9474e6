"""``python -m engflow_tui``."""

from .cli import entry_point

entry_point()
