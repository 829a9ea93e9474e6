"""Errors the console reports to a person: one line, never a traceback.

Must not import Textual.
"""

from __future__ import annotations

from .textsafe import inert


class EngflowError(Exception):
    """An error with a message fit for an operator; ``exit_code`` for the CLI."""

    exit_code = 2

    def render(self) -> str:
        return f"engflow-tui: {inert(self)}"


class ConfigError(EngflowError):
    """Bad configuration file or command-line input."""

    def __init__(self, message: str, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        where = ""
        if path and key:
            where = f"{path}: {key}: "
        elif path:
            where = f"{path}: "
        elif key:
            where = f"{key}: "
        super().__init__(f"{where}{message}")


class DatabaseError(EngflowError):
    """A database operation failed; the message is the server's or the driver's."""

    exit_code = 3

    def __init__(self, message: str, fix: str | None = None, sqlstate: str | None = None) -> None:
        self.fix = fix
        self.sqlstate = sqlstate
        super().__init__(message)


class ServerStartError(EngflowError):
    """The demo's local server could not be started."""
