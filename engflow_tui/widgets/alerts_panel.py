"""AlertsPanel: the active alerts, worst first."""

from __future__ import annotations

from ..model import Snapshot
from .render import alert_rows, alerts_summary
from .table_panel import TablePanel


class AlertsPanel(TablePanel):
    TITLE = "Alerts"
    COLUMNS = (("severity", 10, 0), ("alert", 20, 0), ("since", 7, 1), ("detail", None, 0))

    def show_alerts(self, snapshot: Snapshot) -> None:
        self.show(alerts_summary(snapshot.alerts), alert_rows(snapshot.alerts, snapshot.taken_at))
