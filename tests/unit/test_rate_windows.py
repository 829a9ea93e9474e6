"""Rate rules fire only once their window is covered by data and over a minimum sample (issue
16, item 7): no false High Error Rate at start, no page for a quiet night's 1 rollback in 10.
Time is injected: a 6-minute run takes milliseconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from engflow_tui.alerts.engine import AlertEngine
from engflow_tui.alerts.metrics import MetricHistory, derive
from engflow_tui.alerts.rules import load_rules
from engflow_tui.config import Thresholds
from engflow_tui.model import HttpProbe, Snapshot

from ..fixed_source import TAKEN_AT, sample_snapshot

STEP = 2.0  # seconds between polls (the console's default refresh)


def run(
    seconds: float,
    *,
    tx_per_s: float,
    rollback_share: float,
    probe_every: float | None = None,
    blocks_per_s: float = 0.0,
    hit_share: float = 1.0,
) -> list[tuple[float, set[str], set[str]]]:
    """(time, firing alert keys, metric families known) after each poll of a steady load."""
    history, engine = MetricHistory(), AlertEngine(load_rules())
    base = sample_snapshot()
    out = []
    t = 0.0
    next_probe = 0.0
    while t <= seconds:
        tx = int(tx_per_s * t)
        blocks = int(blocks_per_s * t)
        fresh = probe_every is not None and t >= next_probe
        if fresh:
            next_probe += probe_every  # type: ignore[operator]
        snap: Snapshot = replace(
            base,
            taken_at=TAKEN_AT + timedelta(seconds=t),
            health=replace(
                base.health,
                xact_commit=tx - int(tx * rollback_share),
                xact_rollback=int(tx * rollback_share),
                blks_hit=int(blocks * hit_share),
                blks_read=blocks - int(blocks * hit_share),
            ),
            http=(HttpProbe("api", "http://api", "timeout", "no answer"),) if fresh else (),
        )
        history.add(snap, fresh_http=fresh)
        metrics = derive(history, snap, Thresholds())
        engine.evaluate(metrics, snap.taken_at)
        firing = {a.key for a in engine.alerts() if a.state == "firing"}
        out.append((t, firing, set(metrics)))
        t += STEP
    return out


def first_time(trace: list[tuple[float, set[str], set[str]]], key: str) -> float | None:
    return next((t for t, firing, _ in trace if key in firing), None)


def test_no_high_error_rate_before_the_window_is_covered_even_at_ten_percent() -> None:
    trace = run(360, tx_per_s=20, rollback_share=0.10)
    fired_at = first_time(trace, "high_error_rate:database")
    assert fired_at is not None, "a real 10 % error rate over 5 minutes pages"
    assert fired_at >= 0.95 * 300
    assert all("error_rate_pct" not in known for t, _, known in trace if t < 0.95 * 300)


def test_a_quiet_nights_one_rollback_in_ten_does_not_page() -> None:
    trace = run(900, tx_per_s=50 / 300, rollback_share=0.10)  # 5 rollbacks in 50 per 5 min
    assert first_time(trace, "high_error_rate:database") is None


def test_http_error_rate_waits_for_its_window_and_its_probes() -> None:
    trace = run(360, tx_per_s=0, rollback_share=0, probe_every=10)
    fired_at = first_time(trace, "high_error_rate:api")
    assert fired_at is not None and fired_at >= 0.95 * 300
    sparse = run(360, tx_per_s=0, rollback_share=0, probe_every=60)  # 6 probes in 5 min
    assert first_time(sparse, "high_error_rate:api") is None


def test_cache_hit_rate_is_unknown_until_its_window_is_covered() -> None:
    trace = run(330, tx_per_s=0, rollback_share=0, blocks_per_s=100, hit_share=0.5)
    assert all("cache.hit_rate_pct" not in known for t, _, known in trace if t < 0.95 * 300)
    assert "cache.hit_rate_pct" in trace[-1][2]
