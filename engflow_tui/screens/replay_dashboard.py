"""ReplayDashboard: the dashboard over a recording, with a time cursor — step, seek, play at a
speed. Every panel is read-only; the keys below drive the ReplaySource, the poll loop shows it.
The footer offers no action a replay refuses (terminate, cancel, Enable RLS, ANALYZE,
acknowledge, idle transactions): those keys only say why nothing happens.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from ..history.recording import parse_seek
from ..widgets.table_panel import TablePanel
from .dashboard import DashboardScreen


class ReplayDashboard(DashboardScreen):
    BINDINGS = [
        Binding(
            "right,bracketright", "step(1)", "Step ▶", key_display="→", id="replay.step_forward"
        ),
        Binding("left,bracketleft", "step(-1)", "◀ Step", key_display="←", id="replay.step_back"),
        Binding("shift+right", "step(30)", "+30", show=False, id="replay.jump_forward"),
        Binding("shift+left", "step(-30)", "-30", show=False, id="replay.jump_back"),
        Binding("space", "play", "Play/pause", id="replay.play"),
        Binding("plus,equals_sign", "speed(2)", "Faster", show=False, id="replay.faster"),
        Binding("minus", "speed(0.5)", "Slower", show=False, id="replay.slower"),
        Binding("g", "seek", "Seek", id="replay.seek"),
        # Not Home/End: the focused table uses them.
        Binding("less_than_sign", "step(-1000000000)", "Start", show=False, id="replay.start"),
        Binding("greater_than_sign", "step(1000000000)", "End", show=False, id="replay.end"),
        # The dashboard's and the panels' action keys, out of the footer: the panels refuse
        # them here (refuses_changes), the key comes up to the screen and says why.
        Binding("T", "refused", "Idle tx", show=False, id="replay.terminate_idle"),
        Binding("x,c,e,a", "refused", "Read-only", show=False, id="replay.refused"),
    ]

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Input(
            placeholder="seek to 03:12, 03:12:30, 2026-11-29 03:12, +5m or -30s", id="seek-input"
        )
        yield Static(id="replay-line")

    @property
    def source(self):  # type: ignore[no-untyped-def]
        return self.monitor.replay  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        super().on_mount()
        for panel in self.query(TablePanel):
            panel.refuses_changes = True
        self.refresh_bindings()
        self._render_replay()

    def action_refused(self) -> None:
        self.notify(
            "a replay is read-only (it shows what was recorded): terminate, cancel, Enable RLS, "
            "ANALYZE and acknowledge act on a live console",
            severity="warning",
        )

    def apply_snapshot(self, snapshot) -> None:  # type: ignore[no-untyped-def]
        super().apply_snapshot(snapshot)
        self._render_replay()

    def _render_replay(self) -> None:
        source = self.source
        total = len(source.recording)
        text = Text()
        text.append(" REPLAY ", style="bold white on magenta")
        if self.snapshot is not None:
            text.append(f" {self.snapshot.taken_at.astimezone():%Y-%m-%d %H:%M:%S}", style="bold")
        text.append(f"  frame {source.index + 1}/{total}")
        text.append(f"  {'▶ playing' if source.playing else '❚❚ paused'} ×{source.speed:g}")
        text.append("  ←/→ step  space play  +/- speed  g seek  </> start/end", style="dim")
        self.query_one("#replay-line", Static).update(text)

    def _show_now(self) -> None:
        self._render_replay()
        self.action_refresh_now()

    def action_step(self, frames: int) -> None:
        self.source.step(frames)
        self._show_now()

    def action_play(self) -> None:
        if self.source.at_end and not self.source.playing:
            self.source.step(-len(self.source.recording))  # play again from the start
        self.source.toggle_play()
        self._show_now()

    def action_speed(self, factor: float) -> None:
        self.source.set_speed(self.source.speed * factor)
        self._render_replay()

    def action_seek(self) -> None:
        box = self.query_one("#seek-input", Input)
        box.value = ""
        box.add_class("visible")
        box.focus()

    @on(Input.Submitted, "#seek-input")
    def _seek_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            when = parse_seek(event.value, self.source.at)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        event.input.remove_class("visible")
        self.source.seek(when)
        self.query_one("ConnectionsPanel").table.focus()  # type: ignore[attr-defined]
        self._show_now()

    def action_clear_filter(self) -> None:
        box = self.query_one("#seek-input", Input)
        if box.has_class("visible"):
            box.remove_class("visible")
            self.query_one("ConnectionsPanel").table.focus()  # type: ignore[attr-defined]
            return
        super().action_clear_filter()
