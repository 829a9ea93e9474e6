"""InertFilter: the last line of defence between the data and the operator's terminal.

The render paths make database and HTTP text inert where it becomes a cell or a line
(:func:`engflow_tui.textsafe.inert`), so the layout is measured on what is shown. This line
filter runs on every line Textual draws, after layout: a control character that reached a
widget some other way (a toast with a server's error message, a text area, a future screen) is
shown the same visible way instead of reaching the terminal as bytes. The line keeps its width;
what the escapes push past its end is cropped.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from ..textsafe import inert, is_inert


class InertFilter(LineFilter):
    """Shows control and invisible format characters in a line's text as escapes."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        # Every line of every widget drawn comes here: one search over the line's text (control
        # segments hold no text) is the whole cost of a clean line.
        if is_inert("".join([segment.text for segment in segments]), one_line=True):
            return segments
        length = Segment.get_line_length(segments)
        shown = [
            segment
            if segment.control or is_inert(segment.text, one_line=True)
            else Segment(inert(segment.text, one_line=True), segment.style)
            for segment in segments
        ]
        return list(Segment.adjust_line_length(shown, length))
