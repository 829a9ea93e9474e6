"""HTTP probes, host metrics and webhooks against real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engflow_tui.alerts.engine import AlertEvent
from engflow_tui.alerts.notify import Notifier
from engflow_tui.collectors.host import HostScraper
from engflow_tui.collectors.http import HttpProber
from engflow_tui.config import TargetConfig, WebhookConfig
from engflow_tui.model import Alert, HostMetrics, Severity, Unavailable
from engflow_tui.pgserver import free_port

from ..httpserver import Route, http_server

DATA = Path(__file__).resolve().parents[1] / "data"
HEALTHY = {
    "status": "healthy",
    "database": "connected",
    "version": "2.0.0",
    "timestamp": "2025-11-03T15:30:00Z",
}


def target(**kw) -> TargetConfig:  # type: ignore[no-untyped-def]
    return TargetConfig(name="t", dsn="postgresql://h/db", **kw)


@pytest.mark.parametrize(
    ("route", "state", "detail"),
    [
        (Route(200, HEALTHY), "ok", "healthy"),
        (
            Route(200, {**HEALTHY, "status": "degraded", "database": "disconnected"}),
            "unhealthy",
            "status='degraded'",
        ),
        (Route(200, "<html>maintenance</html>", content_type="text/html"), "not_json", "not JSON"),
        (Route(200, {"status": "healthy"}), "bad_fields", "without the expected fields"),
        (Route(503, {"error": "down"}), "http_error", "HTTP 503"),
        (Route(200, HEALTHY, delay=1.5), "timeout", "no answer in time"),
    ],
)
async def test_app_health_states(route: Route, state: str, detail: str) -> None:
    with http_server() as server:
        server.routes["/health"] = route
        prober = HttpProber(target(app_health_url=f"{server.base}/health"), timeout=0.5)
        (probe,) = await prober.probe()
        await prober.close()
    assert probe.name == "app" and probe.state == state and detail in probe.detail
    if state == "ok":
        assert probe.version == "2.0.0" and probe.latency_ms is not None
    assert probe.is_error == (state in ("timeout",) or route.status >= 500)


async def test_tls_error_and_connection_refused_are_their_own_states() -> None:
    with http_server() as server:
        server.routes["/health"] = Route(200, HEALTHY)
        tls = HttpProber(
            target(app_health_url=server.base.replace("http://", "https://") + "/health"), timeout=2
        )
        (probe,) = await tls.probe()
        await tls.close()
    assert probe.state == "tls_error" and "TLS" in probe.detail
    refused = HttpProber(target(app_health_url=f"http://127.0.0.1:{free_port()}/health"), timeout=2)
    (probe,) = await refused.probe()
    await refused.close()
    assert probe.state == "connect_error" and probe.is_error


async def test_rest_probe_sends_the_apikey(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_ANON_KEY", "anon-123")
    with http_server() as server:
        server.routes["/rest/v1/clientes"] = Route(200, [{"count": 200}])
        prober = HttpProber(
            target(rest_url=f"{server.base}/rest/v1", rest_apikey_env="T_ANON_KEY"), timeout=2
        )
        (probe,) = await prober.probe()
        server.routes["/rest/v1/clientes"] = Route(500, {"message": "boom"})
        (failed,) = await prober.probe()
        await prober.close()
    assert probe.state == "ok" and probe.status_code == 200
    request = server.requests[0]
    assert request["path"] == "/rest/v1/clientes?select=count"
    assert request["headers"]["apikey"] == "anon-123"
    assert failed.state == "http_error" and failed.is_error


async def test_host_metrics_from_a_recorded_node_exporter_exposition() -> None:
    first = (DATA / "node_exporter_1.prom").read_text()
    second = (DATA / "node_exporter_2.prom").read_text()
    with http_server() as server:
        server.routes["/metrics"] = Route(200, first, content_type="text/plain")
        scraper = HostScraper(target(metrics_url=f"{server.base}/metrics"), timeout=2)
        one = await scraper.scrape()
        server.routes["/metrics"] = Route(200, second, content_type="text/plain")
        two = await scraper.scrape()
        server.routes["/metrics"] = Route(200, "garbage{", content_type="text/plain")
        bad = await scraper.scrape()
        server.routes["/metrics"] = Route(401, "no", content_type="text/plain")
        denied = await scraper.scrape()
        await scraper.close()
    assert isinstance(one, HostMetrics) and one.cpu_pct is None  # needs two scrapes
    assert one.memory_pct is not None and 0 < one.memory_pct < 100
    assert one.disk_pct is not None and 0 < one.disk_pct < 100
    assert isinstance(two, HostMetrics) and two.cpu_pct is not None and 0 <= two.cpu_pct <= 100
    assert isinstance(bad, Unavailable)
    assert isinstance(denied, Unavailable) and "401" in denied.reason and denied.fix


@pytest.mark.skipif(
    shutil.which("prometheus-node-exporter") is None,
    reason="Debian's prometheus-node-exporter not installed",
)
async def test_host_metrics_from_a_real_node_exporter() -> None:
    port = free_port()
    proc = subprocess.Popen(
        ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        scraper = HostScraper(target(metrics_url=f"http://127.0.0.1:{port}/metrics"), timeout=2)
        first: object = None
        for _ in range(50):
            first = await scraper.scrape()
            if isinstance(first, HostMetrics):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        second = await scraper.scrape()
        await scraper.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert isinstance(second, HostMetrics)
    assert (
        second.cpu_pct is not None and second.memory_pct is not None and second.disk_pct is not None
    )


def _event(kind: str = "fired") -> AlertEvent:
    now = datetime(2026, 11, 29, 3, 12, tzinfo=UTC)
    alert = Alert(
        "connection_pool_full",
        "connection_pool_full",
        Severity.CRITICAL,
        "Connection Pool Full",
        "97 of 100 connections in use (97 %)",
        97.0,
        95.0,
        now,
        runbook="high_response_times",
    )
    return AlertEvent(kind, alert, now)


async def _drain(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "webhook not delivered in time"
        await asyncio.sleep(0.02)


async def test_webhooks_slack_json_and_alertmanager(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server() as server:
        for path in ("/slack", "/json", "/api/v2/alerts"):
            server.routes[path] = Route(200, "ok", content_type="text/plain")
        monkeypatch.setenv("T_SLACK", f"{server.base}/slack")
        monkeypatch.setenv("T_JSON", f"{server.base}/json")
        monkeypatch.setenv(
            "T_AM", server.base
        )  # the Alertmanager base URL: /api/v2/alerts is appended
        notifier = Notifier(
            (
                WebhookConfig("slack", "T_SLACK"),
                WebhookConfig("json", "T_JSON"),
                WebhookConfig("alertmanager", "T_AM"),
            ),
            "production",
        )
        notifier.send([_event("fired")])
        notifier.send([_event("resolved")])
        await _drain(lambda: len(server.requests) == 6)
        await notifier.close()
    bodies = {(r["path"], i): json.loads(r["body"]) for i, r in enumerate(server.requests)}
    slack = [b for (p, _), b in bodies.items() if p == "/slack"]
    assert slack[0]["text"].startswith("🚨 [FIRING] Connection Pool Full (critical) — production")
    assert slack[1]["text"].startswith("🚨 [RESOLVED]")
    generic = [b for (p, _), b in bodies.items() if p == "/json"][0]
    assert (
        generic["event"] == "fired"
        and generic["severity"] == "critical"
        and generic["value"] == 97.0
    )
    am = [b for (p, _), b in bodies.items() if p == "/api/v2/alerts"]
    assert am[0][0]["labels"] == {
        "alertname": "Connection Pool Full",
        "severity": "critical",
        "target": "production",
        "rule": "connection_pool_full",
    }
    assert am[1][0]["endsAt"] == "2026-11-29T03:12:00+00:00"  # resolved: ends now
    assert notifier.status == {
        "T_SLACK": "ok (HTTP 200)",
        "T_JSON": "ok (HTTP 200)",
        "T_AM": "ok (HTTP 200)",
    }


async def test_failing_and_slow_receivers_never_block_and_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports: list[str] = []
    with http_server() as server:
        server.routes["/broken"] = Route(500, "no", content_type="text/plain")
        server.routes["/slow"] = Route(200, "ok", delay=3, content_type="text/plain")
        monkeypatch.setenv("T_BROKEN", f"{server.base}/broken")
        monkeypatch.setenv("T_SLOW", f"{server.base}/slow")
        notifier = Notifier(
            (WebhookConfig("json", "T_BROKEN"), WebhookConfig("json", "T_SLOW")),
            "p",
            timeout=0.5,
            backoff=0.01,
            report=reports.append,
        )
        started = time.monotonic()
        notifier.send([_event()])
        assert time.monotonic() - started < 0.1, "send() only queues"
        await _drain(lambda: len(reports) == 2)
        await notifier.close()
    broken = [r for r in reports if "T_BROKEN" in r][0]
    assert "HTTP 500 after 3 attempts" in broken
    assert any("T_SLOW" in r and "no answer in time (deadline 0.5 s)" in r for r in reports)
    assert len([r for r in server.requests if r["path"] == "/broken"]) == 3
    assert notifier.status["T_BROKEN"].startswith("failed:")


async def test_webhook_with_unset_url_variable_is_reported() -> None:
    reports: list[str] = []
    notifier = Notifier((WebhookConfig("slack", "T_NOT_SET_ANYWHERE"),), "p", report=reports.append)
    notifier.send([_event()])
    await _drain(lambda: bool(reports))
    await notifier.close()
    assert "T_NOT_SET_ANYWHERE is not set" in reports[0]


async def test_many_events_of_one_poll_are_one_post_per_receiver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with http_server() as server:
        server.routes["/slack"] = Route(200, "ok", content_type="text/plain")
        server.routes["/api/v2/alerts"] = Route(200, "ok", content_type="text/plain")
        monkeypatch.setenv("T_SLACK", f"{server.base}/slack")
        monkeypatch.setenv("T_AM", server.base)
        notifier = Notifier(
            (WebhookConfig("slack", "T_SLACK"), WebhookConfig("alertmanager", "T_AM")), "p"
        )
        notifier.send([_event() for _ in range(25)])
        await _drain(lambda: len(server.requests) == 2)
        await notifier.close()
    slack = json.loads(next(r["body"] for r in server.requests if r["path"] == "/slack"))
    assert slack["text"].count("[FIRING]") == 10 and slack["text"].endswith("… and 15 more")
    am = json.loads(next(r["body"] for r in server.requests if r["path"] == "/api/v2/alerts"))
    assert len(am) == 25


async def test_database_down_reaches_the_json_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Database Down's value is +inf: JSON has no Infinity, the sender must not die on it."""
    from dataclasses import replace

    with http_server() as server:
        server.routes["/json"] = Route(200, "ok", content_type="text/plain")
        monkeypatch.setenv("T_JSON", f"{server.base}/json")
        notifier = Notifier((WebhookConfig("json", "T_JSON"),), "p")
        down = _event()
        down = AlertEvent(
            "fired", replace(down.alert, value=float("inf"), title="Database Down"), down.at
        )
        notifier.send([down])
        notifier.send([_event()])  # and the next event still goes out
        await _drain(lambda: len(server.requests) == 2)
        await notifier.close()
    assert json.loads(server.requests[0]["body"])["value"] is None


async def test_acknowledged_alerts_are_kept_alive_in_alertmanager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    with http_server() as server:
        server.routes["/api/v2/alerts"] = Route(200, "ok", content_type="text/plain")
        monkeypatch.setenv("T_AM", server.base)
        notifier = Notifier((WebhookConfig("alertmanager", "T_AM"),), "p")
        alert = _event().alert
        now = _event().at
        notifier.refresh_alertmanager((alert,), now)
        notifier.refresh_alertmanager((alert,), now + timedelta(seconds=10))  # too soon: not sent
        notifier.refresh_alertmanager((alert,), now + timedelta(seconds=61))
        await _drain(lambda: len(server.requests) == 2)
        await notifier.close()
    body = json.loads(server.requests[0]["body"])
    assert body[0]["endsAt"] == (now + timedelta(minutes=5)).isoformat()


def test_a_shown_fix_quotes_its_literal() -> None:
    """A replication slot named with a quote still gives a fix that can be pasted and run."""
    from engflow_tui.db import quote_literal

    assert quote_literal("ops'slot") == "'ops''slot'"
    assert quote_literal("plain") == "'plain'"


# ---------------------------------------------------------------- hostile and broken endpoints
# Each of these held the console, grew its memory or crashed its refresh before every request
# went through httpbounded (issue 16, items 11-15).


async def _within(seconds: float, work):  # type: ignore[no-untyped-def]
    """``work``'s result; fails the test (instead of hanging it) after ``seconds``."""
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        pytest.fail(f"still waiting after {seconds:g} s: nothing bounded the request")


async def test_a_dripping_health_endpoint_is_a_timeout_by_its_deadline() -> None:
    """One byte every 2 s never trips a per-read timeout: the deadline is for the whole answer."""
    with http_server() as server:
        server.routes["/health"] = Route(200, json.dumps(HEALTHY), drip=2)
        prober = HttpProber(target(app_health_url=f"{server.base}/health"), timeout=3)
        started = time.monotonic()
        (probe,) = await _within(20, prober.probe())
        took = time.monotonic() - started
        await prober.close()
    assert probe.state == "timeout"
    assert probe.is_error
    assert "no answer in time (deadline 3 s)" in probe.detail
    assert took < 3 + 2, f"TIMEOUT said after {took:.1f} s, deadline 3 s"


@pytest.mark.parametrize(
    "route",
    [
        Route(200, b" " * (1 << 20), repeat=200, chunked=True),  # 200 MB, size not announced
        Route(200, b" " * (1 << 20), repeat=200),  # 200 MB, Content-Length says so
        Route(200, b"[" * 65536, endless=True),  # never ends
    ],
    ids=["200MB-chunked", "200MB-announced", "endless"],
)
async def test_an_answer_past_the_cap_is_too_large_and_never_held_in_memory(route: Route) -> None:
    import tracemalloc

    with http_server() as server:
        server.routes["/health"] = route
        prober = HttpProber(target(app_health_url=f"{server.base}/health"), timeout=10)
        tracemalloc.start()
        try:
            (probe,) = await _within(20, prober.probe())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await prober.close()
    assert probe.state == "too_large"
    assert "answer too large (> 1,048,576 bytes)" in probe.detail
    assert peak < 8 * 1024 * 1024, f"{peak / 1e6:.0f} MB held for a 1 MB cap"


async def test_a_100000_deep_json_health_is_a_probe_state() -> None:
    with http_server() as server:
        server.routes["/health"] = Route(200, "[" * 100_000 + "]" * 100_000)
        prober = HttpProber(target(app_health_url=f"{server.base}/health"), timeout=5)
        (probe,) = await prober.probe()  # raised RecursionError: "refresh failed" every poll
        await prober.close()
    assert probe.state == "not_json"
    assert "not JSON" in probe.detail
    assert len(probe.detail) < 200


@pytest.mark.parametrize("which", ["rest", "health"])
async def test_a_redirect_is_not_ok(which: str) -> None:
    with http_server() as server:
        moved = Route(302, b"", headers={"Location": "https://login.example.com/sso?next=/"})
        server.routes["/rest/v1/clientes"] = server.routes["/health"] = moved
        prober = HttpProber(
            target(rest_url=f"{server.base}/rest/v1")
            if which == "rest"
            else target(app_health_url=f"{server.base}/health"),
            timeout=5,
        )
        (probe,) = await prober.probe()
        await prober.close()
    assert probe.state == "http_error"
    assert not probe.ok
    assert probe.detail == "HTTP 302 redirect to https://login.example.com/sso?next=/"
    assert len(server.requests) == 1, "never followed"


def _exposition(mem: str, fs: str) -> str:
    return (
        '# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total{cpu="0",mode="idle"} 10\n'
        'node_cpu_seconds_total{cpu="0",mode="user"} 5\n' + mem + fs
    )


@pytest.mark.parametrize(
    ("mem", "fs", "shown"),
    [
        (  # NaN from a broken collector
            "node_memory_MemTotal_bytes NaN\nnode_memory_MemAvailable_bytes 1e9\n",
            'node_filesystem_size_bytes{mountpoint="/"} +Inf\n'
            'node_filesystem_avail_bytes{mountpoint="/"} 1e9\n',
            "mem -  disk -",
        ),
        (  # two hosts in one exposition: MemAvailable of one, MemTotal of the other (-7900 %)
            'node_memory_MemTotal_bytes{instance="a"} 8e9\n'
            'node_memory_MemAvailable_bytes{instance="a"} 4e9\n'
            'node_memory_MemTotal_bytes{instance="b"} 1e9\n'
            'node_memory_MemAvailable_bytes{instance="b"} 8e10\n',
            'node_filesystem_size_bytes{mountpoint="/"} 1e9\n'
            'node_filesystem_avail_bytes{mountpoint="/"} 5e9\n',  # more free than the disk: -400 %
            "mem -  disk -",
        ),
        (
            "node_memory_MemTotal_bytes 8e9\nnode_memory_MemAvailable_bytes 2e9\n",
            'node_filesystem_size_bytes{mountpoint="/"} -1e9\n'
            'node_filesystem_avail_bytes{mountpoint="/"} 1e9\n',  # 200 %
            "mem 75%  disk -",
        ),
    ],
    ids=["nan-and-inf", "duplicated-series", "negative-size"],
)
async def test_impossible_host_figures_are_unknown_and_never_feed_alerts(
    mem: str, fs: str, shown: str
) -> None:
    from engflow_tui.alerts.metrics import MetricHistory, derive
    from engflow_tui.config import Thresholds
    from engflow_tui.widgets.render import host_line

    from ..fixed_source import sample_snapshot

    with http_server() as server:
        server.routes["/metrics"] = Route(200, _exposition(mem, fs), content_type="text/plain")
        scraper = HostScraper(target(metrics_url=f"{server.base}/metrics"), timeout=5)
        host = await scraper.scrape()
        await scraper.close()
    assert isinstance(host, HostMetrics)
    line = host_line(host).plain
    assert shown in line, line
    assert not re.search(r"(?i)(nan|inf|-\d+)%", line), line  # never "disk nan%", "mem -7900%"
    assert host.note is not None
    assert "unknown" in line
    snapshot = replace(sample_snapshot(), host=host)
    metrics = derive(MetricHistory(), snapshot, Thresholds())
    assert "host.disk_pct" not in metrics


def _junk_exposition(series: int) -> str:
    lines = ["# TYPE app_requests gauge"]
    lines += [f'app_requests{{route="/r/{i}",code="200"}} {i}' for i in range(series)]
    return "\n".join(lines) + "\n" + (DATA / "node_exporter_1.prom").read_text()


async def test_an_exposition_past_the_series_cap_is_refused_with_the_fix() -> None:
    with http_server() as server:
        server.routes["/metrics"] = Route(200, _junk_exposition(150_000), content_type="text/plain")
        server.routes["/huge"] = Route(  # 1 M series, 30 MB
            200, _junk_exposition(10_000).encode(), repeat=100, content_type="text/plain"
        )
        scraper = HostScraper(target(metrics_url=f"{server.base}/metrics"), timeout=20)
        many = await _within(30, scraper.scrape())
        await scraper.close()
        scraper = HostScraper(target(metrics_url=f"{server.base}/huge"), timeout=20)
        huge = await _within(60, scraper.scrape())
        await scraper.close()
    assert isinstance(many, Unavailable), many
    assert many.reason == "metrics endpoint: more than 100,000 series, not read"
    assert many.fix is not None
    assert "collect[]=cpu" in many.fix
    assert isinstance(huge, Unavailable), huge
    assert "answer too large (> 16,777,216 bytes)" in huge.reason


async def test_a_large_exposition_is_parsed_off_the_event_loop() -> None:
    """90,000 series (under the cap): the loop keeps ticking while they are read."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    with http_server() as server:
        server.routes["/metrics"] = Route(200, _junk_exposition(90_000), content_type="text/plain")
        scraper = HostScraper(target(metrics_url=f"{server.base}/metrics"), timeout=20)
        ticking = asyncio.create_task(ticker())
        host = await _within(30, scraper.scrape())
        done.set()
        await ticking
        await scraper.close()
    assert isinstance(host, HostMetrics)
    assert host.memory_pct is not None
    assert max(gaps) < 1.0, f"the event loop stood still for {max(gaps):.2f} s"


async def test_a_dripping_webhook_receiver_holds_its_sender_no_longer_than_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It answers 200 then drips its body a byte every half second (a per-read timeout never
    trips): the message counts as taken, and the sender moves on at the deadline."""
    reports: list[str] = []
    with http_server() as server:
        server.routes["/drip"] = Route(200, b"ok" * 50, drip=0.5, content_type="text/plain")
        monkeypatch.setenv("T_DRIP", f"{server.base}/drip")
        notifier = Notifier(
            (WebhookConfig("json", "T_DRIP"),), "p", timeout=1.5, report=reports.append
        )
        notifier.send([_event("fired")])
        notifier.send([_event("resolved")])
        await _drain(lambda: len(server.requests) == 2, timeout=10)
        await notifier.close()
    first, second = server.requests
    assert second["at"] - first["at"] < 1.5 + 2
    assert [json.loads(r["body"])["event"] for r in server.requests] == ["fired", "resolved"]
    assert notifier.status == {"T_DRIP": "ok (HTTP 200)"}
    assert reports == []


async def test_a_full_webhook_queue_is_said_with_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    reports: list[str] = []
    with http_server() as server:
        server.routes["/stuck"] = Route(200, b"ok", delay=30, content_type="text/plain")
        monkeypatch.setenv("T_STUCK", f"{server.base}/stuck")
        notifier = Notifier(
            (WebhookConfig("slack", "T_STUCK"),), "p", timeout=30, report=reports.append
        )
        for _ in range(205):  # the first is taken by the sender, 200 wait, 4 have no room
            notifier.send([_event()])
            await asyncio.sleep(0)
        await notifier.close()
    assert len(reports) == 4
    assert reports[0] == (
        "slack webhook (T_STUCK) is not keeping up: 200 messages waiting, this one dropped "
        "(Connection Pool Full); 1 dropped so far"
    )
    assert reports[-1].endswith("; 4 dropped so far")
    assert notifier.dropped == {"T_STUCK": 4}


async def test_retry_after_is_honoured_on_429(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without it the retry would come after the backoff (30 s here), far past this test."""
    reports: list[str] = []
    with http_server() as server:
        server.routes["/hook"] = Route(
            429,
            b"slow down",
            headers={"Retry-After": "1"},
            content_type="text/plain",
            then=Route(200, b"ok", content_type="text/plain"),
        )
        monkeypatch.setenv("T_HOOK", f"{server.base}/hook")
        notifier = Notifier(
            (WebhookConfig("slack", "T_HOOK"),), "p", backoff=30, report=reports.append
        )
        notifier.send([_event()])
        await _drain(lambda: notifier.status.get("T_HOOK") == "ok (HTTP 200)", timeout=10)
        await notifier.close()
    first, second = server.requests
    assert second["at"] - first["at"] >= 0.9, "retried before the receiver's Retry-After"
    assert reports == []


def test_retry_after_in_seconds_or_as_an_http_date_is_bounded() -> None:
    from engflow_tui.httpbounded import retry_after

    now = datetime(2026, 11, 29, 3, 12, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after("Sun, 29 Nov 2026 03:12:30 GMT", now) == 30.0
    assert retry_after("Sun, 29 Nov 2026 03:10:00 GMT", now) == 0.0  # already past
    assert retry_after("86400", now) == 300.0  # a day: 5 min at most
    assert retry_after("Mon, 30 Nov 2026 03:12:00 GMT", now) == 300.0
    assert retry_after("soon", now) is None
    assert retry_after("-5", now) is None
    assert retry_after(None, now) is None


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:99999/services/T0SECRET", "InvalidURL: port 99999 is out of range"),
        ("https://hooks.example.com:x/services/T0SECRET", "InvalidURL: Invalid port: 'x'"),
        ("hooks.example.com/services/T0SECRET", "InvalidURL: the scheme must be http or https"),
    ],
)
async def test_an_invalid_webhook_url_is_one_clear_line(
    url: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engflow_tui.incidents.webhook import post_text

    reports: list[str] = []
    monkeypatch.setenv("T_BAD", url)
    notifier = Notifier((WebhookConfig("slack", "T_BAD"),), "p", report=reports.append)
    notifier.send([_event()])
    notifier.send([_event()])
    await _drain(lambda: len(reports) == 2)
    await notifier.close()
    delivered, what = await post_text("T_BAD", "x", 2)
    assert reports[0].startswith(f"slack webhook (T_BAD) failed: {said}")
    assert "fix the URL in T_BAD" in reports[0]
    assert reports[1].endswith("; 2 not sent so far")
    assert not delivered
    assert what.startswith(said)
    for text in (*reports, what):
        assert "ExceptionGroup" not in text
        assert "TaskGroup" not in text
        assert "SECRET" not in text, "the URL (it may embed a secret) is never shown"
        assert "\n" not in text


async def test_an_incident_post_to_a_dripping_receiver_ends_by_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engflow_tui.incidents.webhook import post_text

    with http_server() as server:
        server.routes["/hook"] = Route(200, b"ok" * 50, drip=0.5, content_type="text/plain")
        server.routes["/huge"] = Route(500, b"e" * (1 << 20), repeat=200, chunked=True)
        monkeypatch.setenv("T_HOOK", f"{server.base}/hook")
        monkeypatch.setenv("T_HUGE", f"{server.base}/huge")
        started = time.monotonic()
        dripped = await _within(20, post_text("T_HOOK", "🚨 INCIDENT ALERT", 2))
        took = time.monotonic() - started
        huge = await _within(20, post_text("T_HUGE", "🚨 INCIDENT ALERT", 5))
    # The receiver answered 200 before dripping: it took the message.
    assert dripped == (True, "HTTP 200")
    assert took < 2 + 2
    assert huge[0] is False
    assert huge[1] == "HTTP 500: " + "e" * 199 + "…"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
async def test_a_private_ca_is_trusted_through_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README says: a certificate signed by a private CA is a tls_error until
    SSL_CERT_FILE names a bundle holding that CA (httpx reads it when a client is made)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)

    key = ("-newkey", "rsa:2048", "-nodes")
    openssl("req", "-x509", *key, "-days", "1", "-subj", "/CN=Test CA", "-keyout", "ca.key",
            "-out", "ca.pem")  # fmt: skip
    openssl("req", *key, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (tmp_path / "san.ext").write_text("subjectAltName = IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", "san.ext",
            "-out", "server.pem")  # fmt: skip
    tls = (str(tmp_path / "server.pem"), str(tmp_path / "server.key"))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with http_server(tls=tls) as server:
        server.routes["/health"] = Route(200, HEALTHY)
        untrusted = HttpProber(target(app_health_url=f"{server.base}/health"), timeout=5)
        (refused,) = await untrusted.probe()
        await untrusted.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        trusted = HttpProber(target(app_health_url=f"{server.base}/health"), timeout=5)
        (probe,) = await trusted.probe()
        await trusted.close()
    assert refused.state == "tls_error"
    assert "CERTIFICATE_VERIFY_FAILED" in refused.detail
    assert probe.state == "ok", probe.detail
