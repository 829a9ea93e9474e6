"""DashboardScreen: the default screen, five live panels fed by one poll worker.

The worker runs ``result = await monitor.poll()`` -> ``SnapshotReady(result)`` -> sleep. The first
poll starts when the screen is built (the console's collector started reading before the UI
loaded: it is quick); when its result is there by the time the screen mounts, that
``SnapshotReady`` is handled before the first paint instead of one message later. Sleeping after
a finished poll means polls never overlap; a slow server only stretches the interval. The screen
reads PollResults only, never the monitor's alert engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from ..config import Config
from ..model import DbState, PollResult, Snapshot
from ..monitor import Monitor
from ..ui.action_keys import action_bindings
from ..ui.messages import ActionRequested, AlertSelected, PollFailed, SnapshotReady
from ..widgets.alerts_panel import AlertsPanel
from ..widgets.connections_panel import ConnectionsPanel
from ..widgets.health_panel import HealthPanel
from ..widgets.render import STATE_STYLE
from ..widgets.rls_panel import RlsPanel
from ..widgets.slow_queries_panel import SlowQueriesPanel
from ..widgets.steady_static import SteadyStatic
from ..widgets.table_panel import TablePanel


def panel_rows(height: int, health: int) -> str:
    """The grid's rows for a panel area ``height`` lines high: the health row as tall as its
    content, then the Connections and RLS / Slow queries rows 3:2 — but never fewer than three
    table rows for Connections and RLS (7 lines each, their border, summary and header
    included): at 80x24 the health row gives way first (its panel scrolls)."""
    least = 7
    rest = height - health
    if rest * 2 // 5 >= least and rest - rest * 2 // 5 >= least:
        return f"{health} 3fr 2fr"
    bottom = least
    top = max(min(health, height - 2 * least), 3)
    middle = max(height - top - bottom, least)
    return f"{top} {middle} {bottom}"


class PanelsGrid(Grid):
    """The dashboard's panels: rows refitted whenever the area's height or the health panel's
    content changes (an incident bar takes a line, a probe adds one)."""

    health_rows = 7
    _rows = "7 3fr 2fr"
    """As the style sheet sets them (#panels): a first fit keeping them lays nothing out again."""

    def fit(self, health_rows: int | None = None) -> None:
        if health_rows is not None:
            self.health_rows = health_rows
        height = self.size.height
        if height:
            rows = panel_rows(height, self.health_rows)
            if rows != self._rows:
                self._rows = rows
                self.styles.grid_rows = rows

    def on_resize(self) -> None:
        self.fit()


class DashboardScreen(Screen[None]):
    # The sessions table has the keyboard from the start. Focusing it in on_mount instead came
    # after Textual's own first-focusable pick: two focus changes, two restyles of the screen.
    AUTO_FOCUS = "#connections-panel DataTable"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="dashboard.filter"),
        Binding("p", "toggle_pause", "Pause", id="dashboard.pause"),
        Binding("r", "refresh_now", "Refresh", show=False, id="dashboard.refresh"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="dashboard.clear_filter"),
        *action_bindings("dashboard", "request"),  # T, F: the action registry's keys
        Binding("L", "app.show_audit_log", "Audit", show=False, id="dashboard.audit_log"),
        Binding("A", "app.show_alerts", "Alerts", show=False, id="dashboard.alerts"),
        # The worst alert's whole detail (wrapped, with its runbook section), one key away:
        # at 80x24 the panel shows a few characters of it.
        Binding("exclamation_mark", "worst_alert", "Alert", id="dashboard.worst_alert"),
        Binding("H", "app.show_trends", "Trends", show=False, id="dashboard.trends"),
        Binding("D", "app.show_diagnose", "Diagnose", show=False, id="dashboard.diagnose"),
    ]

    def __init__(self, monitor: Monitor, config: Config, read_only: bool = False) -> None:
        super().__init__(id="dashboard")
        self.read_only = read_only
        self.monitor = monitor
        self.config = config
        self.paused = False
        self.snapshot: Snapshot | None = None
        self.result: PollResult | None = None
        """The last poll's result on screen (its alerts, the recent alert history)."""
        self.snapshots_applied = 0
        self._health_extra_rows = 0
        self._wake = asyncio.Event()
        self._filter_panel: TablePanel | None = None
        self._shown = False
        self._first_paint: Any = None
        """Holds the terminal's writes until the first data (see on_mount)."""
        self._first_poll: asyncio.Future[PollResult] | None = None
        try:
            self._first_poll = asyncio.ensure_future(monitor.poll())
        except RuntimeError:  # no running loop (built outside the app): the worker polls
            self._first_poll = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield SteadyStatic(id="status-line")
        with PanelsGrid(id="panels"):
            yield HealthPanel(id="health-panel")
            yield AlertsPanel(id="alerts-panel")
            yield ConnectionsPanel(id="connections-panel")
            yield RlsPanel(id="rls-panel")
            yield SlowQueriesPanel(id="slow-queries-panel")
        yield Input(placeholder="filter rows (Enter keeps, Esc clears)", id="filter-input")
        yield Footer(compact=True)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual's own handler (Screen's, called after this one) restyles the whole screen
        # when it is shown. The first time, the screen was styled a moment before, as it was
        # mounted (its focus too: AUTO_FOCUS): that second pass (~12 ms, before the first paint)
        # changes nothing. Later resumes (back from another screen) restyle as usual.
        if not self._shown:
            self._shown = True
            event.refresh_styles = False

    def on_mount(self) -> None:
        self._render_status()
        first = self._first_poll
        if first is not None and first.done() and not first.cancelled() and not first.exception():
            # Already there (the usual case): the same message as every poll's, handled before
            # the screen's first paint. Posted, it would come after a paint of empty panels
            # (~50 ms) and a second paint with the data.
            self._first_poll = None
            message = SnapshotReady(first.result())
            self.on_snapshot_ready(message)
            self.app.post_message(message)  # the app's part (incident timeline), as bubbled
        else:
            # One first paint, with data: the terminal is not written until the first poll's
            # message, half a second at most (a slow server shows CONNECTING).
            self._first_paint = self.app.batch_update()
            self._first_paint.__enter__()
            self.set_timer(0.5, self._release_first_paint)
        self.run_worker(
            self._poll_loop(),
            name="poll",
            group="poll",
            description=f"poll {self.monitor.target.name}",
            exit_on_error=False,
        )

    def _release_first_paint(self) -> None:
        hold, self._first_paint = self._first_paint, None
        if hold is not None:
            hold.__exit__(None, None, None)

    async def on_unmount(self) -> None:
        self._release_first_paint()
        self.workers.cancel_group(self, "poll")
        if self._first_poll is not None and not self._first_poll.done():
            self._first_poll.cancel()
        await self.monitor.close()

    # ------------------------------------------------------------------ polling

    async def _poll_loop(self) -> None:
        interval = self.config.console.refresh_interval
        # The first poll is light (activity only): the one with the costly probes follows at
        # once. When on_mount showed the first poll, this loop's first poll is that one.
        first = self.snapshots_applied == 0
        while True:
            first_poll, self._first_poll = self._first_poll, None
            if first_poll is not None or not self.paused:
                try:
                    result = await (first_poll or self.monitor.poll())
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the loop must survive anything
                    self.post_message(PollFailed(f"{type(exc).__name__}: {exc}"))
                else:
                    self.post_message(SnapshotReady(result))
            self._wake.clear()
            # The first cycle only reads activity (first data on screen fast); the next one,
            # right after, brings the costly probes.
            wait = 0.05 if first else interval
            first = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.result = message.result
        self._apply_safely(message.snapshot)
        self._release_first_paint()
        self._announce_all(message.events)
        for notice in message.notices:
            self.notify(notice, severity="warning", timeout=10, markup=False)

    def _apply_safely(self, snapshot: Snapshot) -> None:
        try:
            self.apply_snapshot(snapshot)
        except Exception as exc:  # noqa: BLE001 - a rendering bug must not take the console down
            self.log.error(f"cannot show the snapshot: {exc!r}")
            self.notify(
                f"cannot show the latest data: {type(exc).__name__}: {exc}",
                severity="error",
                timeout=10,
                markup=False,
            )

    def _announce_all(self, events: tuple[Any, ...]) -> None:
        """One toast per event, or one summary when a poll brings many (2,000 tables without RLS
        must not become 2,000 toasts); the bell rings once. On a small terminal (80x24) the
        toasts are kept to one line (the details are in the Alerts panel, Enter), and a poll
        with several events is one summary: toasts must not cover the tables being read."""
        if len(events) <= (1 if self._small() else 3):
            for event in events:
                self._announce(event)
            return
        fired = [e for e in events if e.kind != "resolved"]
        resolved = len(events) - len(fired)
        counts: dict[str, int] = {}
        for e in fired:
            counts[e.alert.title] = counts.get(e.alert.title, 0) + 1
        text = ", ".join(f"{title} ×{n}" for title, n in counts.items())
        if fired:
            worst = min(e.alert.severity.rank for e in fired)
            self.notify(
                f"{len(fired)} alerts: {text}" + (f" ({resolved} resolved)" if resolved else ""),
                severity="error" if worst == 0 else "warning",
                timeout=12,
                markup=False,
            )
            if self.config.notifications.bell and worst < 2:
                self.app.bell()
        else:
            self.notify(f"{resolved} alerts resolved", timeout=6, markup=False)

    def _announce(self, event: Any) -> None:
        """A toast (and the bell) when an alert fires, repeats or resolves."""
        alert = event.alert
        if event.kind == "resolved":
            detail = "" if self._small() else f": {alert.message}"
            self.notify(f"RESOLVED {alert.title}{detail}", timeout=6, markup=False)
            return
        prefix = "STILL FIRING" if event.kind == "repeat" else alert.severity.value.upper()
        severity = (
            "error"
            if alert.severity.value == "critical"
            else "warning"
            if alert.severity.value == "warning"
            else "information"
        )
        text = f"{prefix} {alert.title}"
        if self._small():
            text += f" ({alert.subject})" if alert.subject and len(alert.subject) < 24 else ""
        else:
            text += f": {alert.message}"
        self.notify(text, severity=severity, timeout=12, markup=False)
        if self.config.notifications.bell and alert.severity.value != "info":
            self.app.bell()

    def action_worst_alert(self) -> None:
        """The detail of the alert at the top of the Alerts panel (worst first)."""
        panel = self.query_one(AlertsPanel)
        if not panel.table.row_count:
            self.notify("no alert is active", timeout=3)
            return
        key = panel.table.coordinate_to_cell_key((0, 0)).row_key.value
        if key is not None:
            self.post_message(AlertSelected(str(key)))

    def _small(self) -> bool:
        """An 80x24-class terminal: toasts kept short."""
        size = self.app.size
        return size.width < 100 or size.height < 30

    def acknowledge(self, *keys: str) -> None:
        """Acknowledge firing alerts (a grouped panel row: all of its subjects); the panels show
        it at once, from the monitor's updated result."""
        result = self.monitor.acknowledge(*keys)
        if result is None:
            self.notify("only a firing alert can be acknowledged", severity="warning")
            return
        what = keys[0] if len(keys) == 1 else f"{len(keys)} alerts"
        self.notify(
            f"acknowledged: repeat notifications for {what} are silenced", timeout=4, markup=False
        )
        self.result = result
        self._apply_safely(result.snapshot)

    def on_poll_failed(self, message: PollFailed) -> None:
        self.notify(f"refresh failed: {message.error}", severity="error", timeout=8, markup=False)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        thresholds = self.config.thresholds
        self.snapshot = snapshot
        self.query_one(HealthPanel).show(snapshot)
        # The health panel's rows beyond the seven of app.tcss (its "1h" row included from the
        # start): one per HTTP probe and host. A style change lays the whole screen out again
        # (~40-60 ms): only when the count changes.
        extra = len(snapshot.http) + (1 if snapshot.host is not None else 0)
        if extra != self._health_extra_rows:
            self._health_extra_rows = extra
            self.query_one(PanelsGrid).fit(7 + extra)
        self.query_one(AlertsPanel).show_alerts(snapshot)
        self.query_one(ConnectionsPanel).show_stats(
            snapshot.connections, thresholds, snapshot.sparklines
        )
        self.query_one(SlowQueriesPanel).show_slow(snapshot.slow_queries)
        self.query_one(RlsPanel).show_rls(snapshot.rls)
        self.snapshots_applied += 1
        self._render_status()
        refresh = getattr(self.app, "refresh_alerts_screen", None)
        if refresh is not None:
            refresh()

    def _render_status(self) -> None:
        target = self.monitor.target
        text = Text()
        if self.snapshot is None:
            text.append(" CONNECTING ", style="bold black on grey70")
        else:
            state = self.snapshot.health.state
            text.append(f" {state.value.upper()} ", style=STATE_STYLE[state])
        text.append(f"  {target.name}", style="bold")
        if self.snapshot is not None:
            text.append(
                f"  {self.snapshot.taken_at.astimezone().strftime('%H:%M:%S')}", style="dim"
            )
            if self.snapshot.health.state is DbState.DOWN:
                text.append("  retrying…", style="yellow")
        if self.paused:
            text.append("  PAUSED ", style="bold black on yellow")
        if self.read_only:
            text.append("  READ-ONLY ", style="bold white on blue")
        alerting = self.result.alerting if self.result is not None else None
        if alerting is not None:
            style = "dim" if alerting.notifying else "bold cyan"
            text.append(f"  alerts: {alerting.describe()}", style=style)
        text.append(f"  every {self.config.console.refresh_interval:g}s", style="dim")
        text.append(f"  {target.display_dsn}", style="dim")
        self.query_one("#status-line", SteadyStatic).show_content(text)

    # ------------------------------------------------------------------ actions

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._render_status()
        self.notify("refresh paused" if self.paused else "refresh resumed", timeout=2)
        if not self.paused:
            self._wake.set()

    def action_refresh_now(self) -> None:
        self.monitor.force_refresh()
        was_paused = self.paused
        self.paused = False
        self._wake.set()
        if was_paused:
            self._render_status()

    def _focused_panel(self) -> TablePanel:
        node: Any = self.focused
        while node is not None and not isinstance(node, TablePanel):
            node = node.parent
        return node if isinstance(node, TablePanel) else self.query_one(ConnectionsPanel)

    def action_filter(self) -> None:
        self._filter_panel = self._focused_panel()
        box = self.query_one("#filter-input", Input)
        box.value = self._filter_panel.filter_text
        box.placeholder = f"filter {self._filter_panel.TITLE.lower()} (Enter keeps, Esc clears)"
        box.add_class("visible")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter-input", Input)
        panel = self._filter_panel or self._focused_panel()
        had_filter = bool(panel.filter_text)
        self._set_filter(panel, "")
        if had_filter and isinstance(panel, ConnectionsPanel) and not self.paused:
            self._wake.set()  # every session again now, not at the next refresh
        if box.has_class("visible"):
            box.remove_class("visible")
            panel.table.focus()

    @on(Input.Changed, "#filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_panel is not None:
            self._set_filter(self._filter_panel, event.value)

    @on(Input.Submitted, "#filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.input.remove_class("visible")
        if self._filter_panel is not None:
            self._filter_panel.table.focus()
            if isinstance(self._filter_panel, ConnectionsPanel) and not self.paused:
                self._wake.set()  # the server's matches now, not at the next refresh

    def _set_filter(self, panel: TablePanel, text: str) -> None:
        panel.set_filter(text)
        if isinstance(panel, ConnectionsPanel):
            # Only some sessions are shipped (console.max_sessions): the server filters first.
            self.monitor.set_session_filter(text)

    def action_request(self, action: str) -> None:
        self.post_message(ActionRequested(action))

    def selected_session(self) -> tuple[int, str | None] | None:
        return self.query_one(ConnectionsPanel).selected_session()

    def focus_panel(self, panel_id: str) -> None:
        self.query_one(f"#{panel_id}", TablePanel).table.focus()
