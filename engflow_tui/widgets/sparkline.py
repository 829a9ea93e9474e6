"""Pure sparkline rendering: a series of numbers -> one line of block characters.

The values arrive with the snapshot (Snapshot.sparklines, filled by the Monitor from the history
store); nothing here reads or polls. Unit tests call these without an app.
"""

from __future__ import annotations

from rich.text import Text

from ..model import Sparklines

BLOCKS = "▁▂▃▄▅▆▇█"


def spark(
    values: tuple[float, ...] | list[float], width: int = 16, floor: float | None = None
) -> str:
    """The last ``width`` buckets of ``values`` (each bucket's maximum), scaled min..max.

    ``floor`` pins the bottom of the scale (0 for counts), so a flat series at 5 is not drawn as
    if it were at its minimum."""
    if not values or width <= 0:
        return ""
    data = list(values)
    if len(data) > width:
        size = len(data) / width
        data = [
            max(data[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)])
            for i in range(width)
        ]
    low = min(data) if floor is None else min(floor, min(data))
    high = max(data)
    if high == low:  # flat: at the floor, or mid-height when there is none
        return BLOCKS[0 if floor is not None else len(BLOCKS) // 2] * len(data)
    scale = (len(BLOCKS) - 1) / (high - low)
    return "".join(BLOCKS[round((v - low) * scale)] for v in data)


def has_data(lines: Sparklines | None) -> bool:
    return lines is not None and bool(
        lines.connections or lines.cache_hit_pct or lines.tps or lines.errors_per_min
    )


def rate_line(lines: Sparklines, width: int = 8, compact: bool = False) -> Text:
    """``12.3/s ▂▃▅▆  err 0.2/min ▁▁▂`` over the last hour (latest value, then the trend);
    ``compact`` (narrow panels) rounds the values: ``12/s ▂▃▅▆ err 0/m ▁▁▂``."""
    text = Text()
    if lines.tps:
        tps = lines.tps[-1]
        text.append(f"{tps:.0f}/s " if compact else f"{tps:.1f}/s ", style="bold")
        text.append(spark(lines.tps, width, floor=0.0), style="cyan")
    if lines.errors_per_min:
        errors = lines.errors_per_min[-1]
        text.append(" err " if compact else "  err ", style="dim")
        text.append(
            f"{errors:.0f}/m " if compact else f"{errors:.1f}/min ",
            style="bold yellow" if errors else "",
        )
        text.append(spark(lines.errors_per_min, width, floor=0.0), style="yellow")
    return text


def cache_spark(lines: Sparklines, width: int = 8) -> Text:
    if not lines.cache_hit_pct:
        return Text()
    return Text(" " + spark(lines.cache_hit_pct, width, floor=None), style="green")


def connections_spark(lines: Sparklines | None, width: int = 16) -> Text:
    if lines is None or not lines.connections:
        return Text()
    text = Text("  1h ", style="dim")
    text.append(spark(lines.connections, width, floor=0.0), style="cyan")
    return text
