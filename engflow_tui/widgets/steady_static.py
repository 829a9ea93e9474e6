"""SteadyStatic: a Static whose updates lay the screen out again only when they change its height.

Textual's Static.update() asks for a layout, and a layout re-renders the whole screen: at every
refresh the status line, the health panel and the panels' summary lines get new text (a clock,
ages, counts), which cost a full layout and render (~60 ms at 160x50) where a repaint of those
lines is enough. Their size follows from the CSS and from their content's height: when that
height is unchanged, a repaint is all that is needed.

Content other than text (the health panel's grid) is drawn once per update: finding its height
means drawing it, and the paint then uses those lines (drawing it again cost ~2.5 ms a refresh).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.widgets import Static


class SteadyStatic(Static):
    """A Static for content that changes at every refresh but rarely changes height."""

    _shown_height: int | None = None

    def show_content(self, content: Any) -> None:
        width = self.content_size.width
        if width > 0 and hasattr(content, "__rich_console__") and not isinstance(content, Text):
            content = Drawn(content, width, self.app.console, self.app.console_options)
            height: int | None = len(content.lines)
            self.update(content, layout=False)
        else:
            self.update(content, layout=False)
            height = self.get_content_height(self.size, self.app.size, width) if width > 0 else None
        if height is None or height != self._shown_height:
            self._shown_height = height
            self.refresh(layout=True)


class Drawn:
    """A renderable drawn at ``width``: its lines as drawn, or drawn again at another width."""

    def __init__(self, content: Any, width: int, console: Console, options: ConsoleOptions) -> None:
        self.content = content
        self.width = width
        self.lines = console.render_lines(
            content, options.update(width=width, highlight=False), pad=False, new_lines=False
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width != self.width:
            yield self.content
            return
        new_line = Segment.line()
        for line in self.lines:
            yield from line
            yield new_line
