"""A checklist export says each thing once: an item whose conditions cannot be measured for the
same reason (CPU and memory, no host metrics) gives that reason once."""

from __future__ import annotations

from datetime import UTC, datetime

from engflow_tui.checklists.export import render_markdown
from engflow_tui.checklists.loader import load_catalog
from engflow_tui.checklists.run import ChecklistRun
from engflow_tui.checklists.verify import Facts, verdict

from ..fixed_source import sample_snapshot

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_an_unmeasurable_reason_shared_by_two_conditions_is_exported_once() -> None:
    checklist = load_catalog().checklists["daily-morning"]
    item = checklist.item("cpu-memory")
    snapshot = sample_snapshot()  # no [targets] metrics_url: no host metrics
    assert snapshot.host is None
    result = verdict(item, Facts(snapshot, target="prod"), NOW)
    assert result.status == "pending"
    assert result.detail.count("cannot measure: no host metrics") == 1, result.detail
    run = ChecklistRun.start(checklist, "prod", "alice", NOW)
    run.record("cpu-memory", result, "console")
    md = render_markdown(run)
    line = next(x for x in md.splitlines() if "cannot measure" in x)
    assert line == (
        "  - Measured: cannot measure: no host metrics: set targets.prod.metrics_url (node_exporter)"
    )
    assert md.count("cannot measure") == 1
