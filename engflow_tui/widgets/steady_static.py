"""SteadyStatic: a Static whose updates lay the screen out again only when they change its height.

Textual's Static.update() asks for a layout, and a layout re-renders the whole screen: at every
refresh the status line, the health panel and the panels' summary lines get new text (a clock,
ages, counts), which cost a full layout and render (~60 ms at 160x50) where a repaint of those
lines is enough. Their size follows from the CSS and from their content's height: when that
height is unchanged, a repaint is all that is needed.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


class SteadyStatic(Static):
    """A Static for content that changes at every refresh but rarely changes height."""

    _shown_height: int | None = None

    def show_content(self, content: Any) -> None:
        self.update(content, layout=False)
        width = self.content_size.width
        height = self.get_content_height(self.size, self.app.size, width) if width > 0 else None
        if height is None or height != self._shown_height:
            self._shown_height = height
            self.refresh(layout=True)
