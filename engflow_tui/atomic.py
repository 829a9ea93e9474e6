"""Crash-safe file writes: a temporary file in the same directory, fsync, rename, fsync of the
directory. After a crash or ``kill -9`` the file holds the old or the new content, never half.
No Textual."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .textsafe import dumps


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (mode 0600); raises OSError on failure."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)  # the rename itself survives a crash
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON (mode 0600); raises OSError on failure."""
    write_text(path, dumps(data, indent=1, default=str))
