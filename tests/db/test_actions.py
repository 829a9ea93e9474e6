"""The runbook's fixes against a real PostgreSQL: who is touched, who is not, and the audit trail."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from engflow_tui.actions.audit import AuditLog
from engflow_tui.actions.cancel_query import NAME as CANCEL_QUERY
from engflow_tui.actions.model import ActionError, ActionTarget
from engflow_tui.actions.runner import ActionRunner
from engflow_tui.actions.terminate_session import NAME as TERMINATE_SESSION
from engflow_tui.config import ActionsConfig, Config, ConsoleConfig, TargetConfig, Thresholds

from ..pg import session, wait_for

NASTY = ["Orçamentos Antigos", 'a"b', "semi;colon", "Dots.In.Name"]


def make_runner(
    dsn: str,
    tmp_path: Path,
    *,
    read_only: bool = False,
    app_url: str | None = None,
    lock_timeout: float = 0.5,
    http_timeout: float = 1.0,
) -> ActionRunner:
    target = TargetConfig(
        name="prod", dsn=dsn, app_url=app_url, emergency_token_env="ENGFLOW_TEST_TOKEN"
    )
    config = Config(
        console=ConsoleConfig(read_only=read_only, operator="ana"),
        actions=ActionsConfig(lock_timeout=lock_timeout, http_timeout=http_timeout),
        targets={"prod": target},
        thresholds=Thresholds(idle_in_transaction=0.5),
    )
    return ActionRunner(config, target, AuditLog(tmp_path / "state" / "audit.jsonl", "ana"))


def audit_records(runner: ActionRunner) -> list[dict]:
    return [json.loads(line) for line in runner.audit.path.read_text().splitlines()]


async def alive(dsn: str, pid: int) -> bool:
    async with session(dsn) as conn:
        return bool(
            await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
        )


async def test_terminate_idle_transactions_touches_only_the_old_ones(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    async with (
        session(dsn, "old-tx") as old,
        session(dsn, "aborted-tx") as aborted,
        session(dsn, "young-tx") as young,
        session(dsn, "busy") as busy,
        session(dsn, "idle") as idle,
    ):
        pids = {
            name: await c.fetchval("SELECT pg_backend_pid()")
            for name, c in (
                ("old", old),
                ("aborted", aborted),
                ("young", young),
                ("busy", busy),
                ("idle", idle),
            )
        }
        await old.execute("BEGIN; SELECT 1")
        await aborted.execute("BEGIN")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await aborted.execute("SELECT 1/0")
        await asyncio.sleep(0.7)
        await young.execute("BEGIN; SELECT 1")
        running = asyncio.create_task(busy.execute("SELECT pg_sleep(3)"))
        await asyncio.sleep(0.1)

        runner = make_runner(dsn, tmp_path)
        plan = await runner.plan_terminate_idle()
        assert {t.details["pid"] for t in plan.targets} == {pids["old"], pids["aborted"]}
        details = next(t.details for t in plan.targets if t.details["pid"] == pids["old"])
        assert details["application"] == "old-tx" and details["query"] == "BEGIN; SELECT 1"
        assert {"pid", "user", "application", "client_addr", "age", "query"} <= set(details)
        assert "pg_terminate_backend" in plan.statement and "$3 = 0.5" in plan.statement

        result = await runner.execute(plan)
        assert result.ok, result
        assert result.summary() == "2 terminated"
        for name in ("old", "aborted"):
            await wait_for(lambda n=name: _not(alive(dsn, pids[n])))
        for name in ("young", "busy", "idle"):
            assert await alive(dsn, pids[name]), name
        running.cancel()
        with pytest.raises(
            (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError, ConnectionError, OSError)
        ):
            await old.execute("SELECT 1")
    records = audit_records(runner)
    assert [r["event"] for r in records] == ["started", "finished"]
    assert records[1]["summary"] == "2 terminated" and records[1]["operator"] == "ana"
    assert {t["pid"] for t in records[1]["targets"]} == {pids["old"], pids["aborted"]}
    assert stat.S_IMODE(os.stat(runner.audit.path).st_mode) == 0o600


async def _not(awaitable) -> bool:  # type: ignore[no-untyped-def]
    return not await awaitable


async def test_reused_pid_or_committed_session_is_left_alone(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    async with session(dsn, "stuck") as stuck, session(dsn, "stuck2") as stuck2:
        await stuck.execute("BEGIN; SELECT 1")
        await stuck2.execute("BEGIN; SELECT 1")
        await asyncio.sleep(0.7)
        runner = make_runner(dsn, tmp_path)
        plan = await runner.plan_terminate_idle()
        assert len(plan.targets) == 2
        # Target 1 now looks like a different session (another backend_start for the same pid);
        # target 2 committed since the confirmation.
        first, second = plan.targets
        forged = ActionTarget(
            first.key, first.label, {**first.details, "backend_start": "2001-01-01T00:00:00+00:00"}
        )
        plan = replace(plan, targets=(forged, second))
        second_conn = stuck if second.details["application"] == "stuck" else stuck2
        await second_conn.execute("COMMIT")
        result = await runner.execute(plan)
        assert result.summary() == "2 already gone or changed"
        assert await stuck.fetchval("SELECT 1") == 1
        assert await stuck2.fetchval("SELECT 1") == 1


async def test_enable_rls_on_nasty_table_names(db, tmp_path: Path) -> None:
    from engflow_tui.db import quote_ident

    async with session(db.dsn()) as admin:
        for name in NASTY:
            await admin.execute(
                f"CREATE TABLE public.{quote_ident(name)} (id int)"
            )  # ok-sql: quoted
    runner = make_runner(db.dsn(), tmp_path)
    candidates = {t.table for t in await runner.rls_candidates()}
    assert set(NASTY) <= candidates
    for name in NASTY:
        plan = await runner.plan_enable_rls("public", name)
        assert plan.targets[0].label == f'"public".{quote_ident(name)}'
        assert any("NO policies" in w and "deny every non-owner role" in w for w in plan.warnings)
        result = await runner.execute(plan)
        assert result.ok, result
        assert result.summary() == f'RLS enabled on "public".{quote_ident(name)}'
    async with session(db.dsn()) as admin:
        enabled = await admin.fetch(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY($1::text[])", NASTY
        )
    assert {r["relname"]: r["relrowsecurity"] for r in enabled} == dict.fromkeys(NASTY, True)


async def test_enable_rls_shows_existing_policies(db, tmp_path: Path) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.t (owner text)")
        await admin.execute(
            "CREATE POLICY own_rows ON public.t FOR SELECT USING (owner = current_user)"
        )
    plan = await make_runner(db.dsn(), tmp_path).plan_enable_rls("public", "t")
    policies = plan.targets[0].details["policies"]
    assert policies == [
        {
            "name": "own_rows",
            "command": "SELECT",
            "roles": "PUBLIC",
            "using": "(owner = CURRENT_USER)",
            "check": None,
        }
    ]
    assert not any("NO policies" in w for w in plan.warnings)


async def test_enable_rls_on_a_locked_table_fails_within_the_lock_timeout(
    db, tmp_path: Path
) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.busy_table (id int)")
    runner = make_runner(db.dsn(), tmp_path, lock_timeout=0.3)
    plan = await runner.plan_enable_rls("public", "busy_table")
    async with session(db.dsn(), "long-reader") as reader:
        reader_pid = await reader.fetchval("SELECT pg_backend_pid()")
        await reader.execute("BEGIN; SELECT * FROM public.busy_table")
        started = time.monotonic()
        result = await runner.execute(plan)
        elapsed = time.monotonic() - started
    assert not result.ok
    outcome = result.outcomes[0]
    assert outcome.status == "failed"
    # Who holds it, for how long, and Terminate session on it one key away.
    assert f"is locked by pid {reader_pid} (" in outcome.message
    assert "long-reader" in outcome.message and "idle in transaction" in outcome.message
    assert "AccessShareLock" in outcome.message
    assert outcome.follow_up == TERMINATE_SESSION
    assert outcome.follow_up_target["pid"] == reader_pid
    assert elapsed < 10, "it must fail fast, not queue behind the lock"
    assert audit_records(runner)[-1]["event"] == "finished"
    assert audit_records(runner)[-1]["outcomes"][0]["status"] == "failed"
    async with session(db.dsn()) as admin:
        assert (
            await admin.fetchval("SELECT relrowsecurity FROM pg_class WHERE relname = 'busy_table'")
            is False
        )


async def test_read_only_refuses_and_audits(db, tmp_path: Path) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.open_t (id int)")
    runner = make_runner(db.dsn(), tmp_path, read_only=True)
    plan = await runner.plan_enable_rls("public", "open_t")
    result = await runner.execute(plan)
    assert result.refused and "read-only" in (result.error or "")
    records = audit_records(runner)
    assert [r["event"] for r in records] == ["refused"]
    assert records[0]["outcomes"][0]["message"] == "refused: read-only mode"
    async with session(db.dsn()) as admin:
        assert (
            await admin.fetchval("SELECT relrowsecurity FROM pg_class WHERE relname = 'open_t'")
            is False
        )
    # The target's own read_only works too.
    target_ro = make_runner(db.dsn(), tmp_path)
    target_ro.target = replace(target_ro.target, read_only=True)
    assert (await target_ro.execute(plan)).refused


async def test_analyze_whole_database_and_one_table(db, tmp_path: Path) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute(
            'CREATE TABLE public."Big Table" AS SELECT g AS id FROM generate_series(1, 1000) g'
        )
    runner = make_runner(db.dsn(), tmp_path)
    assert ("public", "Big Table") in await runner.analyze_candidates()
    one = runner.plan_analyze("public", "Big Table")
    assert 'ANALYZE "public"."Big Table";' in one.statement
    assert (await runner.execute(one)).summary() == "1 analyzed"
    async with session(db.dsn()) as admin:
        assert await admin.fetchval(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'Big Table'"
        )
    whole = runner.plan_analyze()
    assert whole.targets[0].label.startswith("the whole database")
    assert (await runner.execute(whole)).ok


async def test_cancel_query_and_terminate_session(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    runner = make_runner(dsn, tmp_path)
    async with session(dsn, "runaway") as runaway:
        pid = await runaway.fetchval("SELECT pg_backend_pid()")
        task = asyncio.create_task(runaway.execute("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.2)
        plan = await runner.plan_session(CANCEL_QUERY, pid)
        assert plan.targets[0].details["query"] == "SELECT pg_sleep(30)"
        result = await runner.execute(plan)
        assert result.summary() == "1 cancelled"
        with pytest.raises(asyncpg.QueryCanceledError):
            await task
        assert await runaway.fetchval("SELECT 1") == 1  # still connected
        plan = await runner.plan_session(TERMINATE_SESSION, pid)
        assert (await runner.execute(plan)).summary() == "1 terminated"
        await wait_for(lambda: _not(alive(dsn, pid)))
    with pytest.raises(ActionError, match="not a client session"):
        await runner.plan_session(TERMINATE_SESSION, 999999)


async def test_console_never_targets_its_own_sessions(db, tmp_path: Path) -> None:
    from engflow_tui.collectors.postgres import PostgresCollector

    collector = PostgresCollector(TargetConfig(name="t", dsn=db.dsn()), Config())
    await collector.collect()
    own = await collector._conn.fetchval("SELECT pg_backend_pid()")
    runner = make_runner(db.dsn(), tmp_path)
    with pytest.raises(ActionError, match="this console's own"):
        await runner.plan_session(TERMINATE_SESSION, own)
    await collector.close()


async def test_missing_privilege_names_the_grant(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    async with session(dsn) as admin:
        await admin.execute(
            "DROP ROLE IF EXISTS weak_ops; CREATE ROLE weak_ops LOGIN IN ROLE pg_read_all_stats;"
            "DROP ROLE IF EXISTS app_user; CREATE ROLE app_user LOGIN"
        )
    try:
        async with session(db.dsn(user="app_user"), "victim") as victim:
            pid = await victim.fetchval("SELECT pg_backend_pid()")
            runner = make_runner(db.dsn(user="weak_ops"), tmp_path)
            result = await runner.execute(await runner.plan_session(TERMINATE_SESSION, pid))
            assert not result.ok
            assert result.outcomes[0].status == "failed"  # the server's reason differs by version
            assert "GRANT pg_signal_backend" in result.outcomes[0].message
            assert await victim.fetchval("SELECT 1") == 1
    finally:
        async with session(dsn) as admin:
            await admin.execute("DROP ROLE weak_ops; DROP ROLE app_user")


async def test_audit_log_unwritable_means_nothing_runs(db, tmp_path: Path) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.guarded (id int)")
    runner = make_runner(db.dsn(), tmp_path)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    runner.audit = AuditLog(blocker / "audit.jsonl", "ana")
    plan = await runner.plan_enable_rls("public", "guarded")
    with pytest.raises(ActionError, match="cannot write the audit log"):
        await runner.execute(plan)
    async with session(db.dsn()) as admin:
        assert (
            await admin.fetchval("SELECT relrowsecurity FROM pg_class WHERE relname = 'guarded'")
            is False
        )


# ---------------------------------------------------------------------------------------------
# Emergency fallback against a real HTTP server on loopback


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "ok"
    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
        if self.mode == "slow":
            time.sleep(2)
        status = 500 if self.mode == "error" else 200
        body = b'{"fallback": "enabled"}' if status == 200 else b'{"error": "database unreachable"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def app_server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"seen": [], "mode": "ok"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize("mode", ["ok", "error", "slow"])
async def test_emergency_fallback(
    app_server, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = app_server
    handler.mode = mode
    monkeypatch.setenv("ENGFLOW_TEST_TOKEN", "tok-123-secret")
    runner = make_runner(
        "postgresql://unused@127.0.0.1:1/x", tmp_path, app_url=url + "/", http_timeout=0.5
    )
    plan = runner.plan_emergency_fallback()
    assert plan.targets[0].label == f"{url}/api/emergency/enable-fallback"
    assert "POST" in plan.statement and "tok-123-secret" not in plan.statement
    result = await runner.execute(plan)
    assert handler.seen and handler.seen[0] == {
        "path": "/api/emergency/enable-fallback",
        "auth": "Bearer tok-123-secret",
    }
    outcome = result.outcomes[0]
    if mode == "ok":
        assert (
            outcome.status == "done" and outcome.message == 'HTTP 200 OK: {"fallback": "enabled"}'
        )
    elif mode == "error":
        assert (
            outcome.status == "failed"
            and "HTTP 500" in outcome.message
            and "database unreachable" in outcome.message
        )
    else:
        assert outcome.status == "failed" and "timed out" in outcome.message
    assert "tok-123-secret" not in runner.audit.path.read_text()


def test_emergency_fallback_needs_its_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENGFLOW_TEST_TOKEN", raising=False)
    with pytest.raises(ActionError, match="no app_url"):
        make_runner("postgresql://h/x", tmp_path).plan_emergency_fallback()
    with pytest.raises(ActionError, match="ENGFLOW_TEST_TOKEN is not set"):
        make_runner(
            "postgresql://h/x", tmp_path, app_url="http://127.0.0.1:9"
        ).plan_emergency_fallback()


async def test_actions_use_the_action_dsn_while_monitoring_stays_unprivileged(
    db, tmp_path: Path
) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute(
            "DROP ROLE IF EXISTS mon_only; CREATE ROLE mon_only LOGIN IN ROLE pg_monitor"
        )
    try:
        async with session(db.dsn(), "victim") as victim:
            pid = await victim.fetchval("SELECT pg_backend_pid()")
            weak = make_runner(db.dsn(user="mon_only"), tmp_path)
            refused = await weak.execute(await weak.plan_session(TERMINATE_SESSION, pid))
            assert (
                refused.outcomes[0].status == "failed"
                and "pg_signal_backend" in refused.outcomes[0].message
            )
            strong = make_runner(db.dsn(user="mon_only"), tmp_path)
            strong.target = replace(strong.target, action_dsn=db.dsn())
            result = await strong.execute(await strong.plan_session(TERMINATE_SESSION, pid))
            assert result.summary() == "1 terminated"
    finally:
        async with session(db.dsn()) as admin:
            await admin.execute("DROP ROLE mon_only")


async def test_cancel_never_hits_a_statement_started_after_the_confirmation(
    db, tmp_path: Path
) -> None:
    dsn = db.dsn()
    runner = make_runner(dsn, tmp_path)
    async with session(dsn, "reports") as client:
        pid = await client.fetchval("SELECT pg_backend_pid()")
        first = asyncio.create_task(client.execute("SELECT pg_sleep(0.4) AS report_query"))
        await asyncio.sleep(0.1)
        plan = await runner.plan_session(CANCEL_QUERY, pid)  # confirmed: the report query
        await first
        second = asyncio.create_task(
            client.execute("SELECT pg_sleep(0.5) AS important_payment_batch")
        )
        await asyncio.sleep(0.1)
        result = await runner.execute(plan)
        # Not cancelled, and said so: the flow offers to cancel the one running now.
        outcome = result.outcomes[0]
        assert outcome.status == "skipped"
        assert "now runs another one, not cancelled" in outcome.message
        assert "important_payment_batch" in outcome.message
        assert outcome.follow_up == CANCEL_QUERY
        await second  # not cancelled


async def test_cancel_query_on_an_idle_session_says_nothing_was_running(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    runner = make_runner(dsn, tmp_path)
    async with session(dsn, "idle-client") as client:
        pid = await client.fetchval("SELECT pg_backend_pid()")
        plan = await runner.plan_session(CANCEL_QUERY, pid)
        assert any("nothing to cancel" in w for w in plan.warnings)
        result = await runner.execute(plan)
        assert result.outcomes[0].status == "skipped"
        assert "nothing was running" in result.summary()
        assert "cancelled" not in result.summary().replace("nothing was cancelled", "")


async def test_terminate_session_ends_a_busy_session_that_ran_statements_meanwhile(
    db, tmp_path: Path
) -> None:
    """The runaway session an engineer wants gone keeps running statements while the dialog is
    open: Terminate checks it is the same backend, not that it stood still."""
    dsn = db.dsn()
    runner = make_runner(dsn, tmp_path)
    async with session(dsn, "runaway-batch") as client:
        pid = await client.fetchval("SELECT pg_backend_pid()")
        await client.execute("BEGIN; SELECT 1")
        plan = await runner.plan_session(TERMINATE_SESSION, pid)  # confirmed: idle in transaction
        await client.execute("SELECT 2; COMMIT; SELECT 3")  # it moved on, as a runaway does
        result = await runner.execute(plan)
        assert result.summary() == "1 terminated"
        await wait_for(lambda: _not(alive(dsn, pid)))


async def test_a_session_calling_itself_engflow_tui_is_not_immune(db, tmp_path: Path) -> None:
    """A name is the client's to choose: a session named like the console, holding an ACCESS
    EXCLUSIVE lock idle in transaction, is listed and terminated like any other; the console's
    own connections (known by pid and backend_start) are still never targets."""
    from engflow_tui.collectors.postgres import PostgresCollector

    dsn = db.dsn()
    runner = make_runner(dsn, tmp_path)
    collector = PostgresCollector(TargetConfig(name="t", dsn=dsn), Config())
    await collector.collect()
    own = collector._conn.get_server_pid()
    try:
        async with (
            session(dsn, "engflow-tui") as impostor,
            session(dsn, "engflow-tui-action") as other,
        ):
            await impostor.execute("CREATE TABLE held (id int)")
            pid = await impostor.fetchval("SELECT pg_backend_pid()")
            other_pid = await other.fetchval("SELECT pg_backend_pid()")
            await impostor.execute("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
            await other.execute("BEGIN; SELECT 1")
            await asyncio.sleep(0.7)
            plan = await runner.plan_terminate_idle()
            listed = {t.details["pid"] for t in plan.targets}
            assert {pid, other_pid} <= listed
            assert own not in listed
            single = await runner.plan_session(TERMINATE_SESSION, pid)  # x on it is not refused
            assert single.targets[0].details["application"] == "engflow-tui"
            result = await runner.execute(plan)
            assert result.summary() == "2 terminated"
            await wait_for(lambda: _not(alive(dsn, pid)))
        with pytest.raises(ActionError, match="this console's own"):
            await runner.plan_session(TERMINATE_SESSION, own)
        assert not collector._conn.is_closed()
    finally:
        await collector.close()


async def test_a_pid_reused_after_the_screen_was_drawn_is_refused(db, tmp_path: Path) -> None:
    runner = make_runner(db.dsn(), tmp_path)
    async with session(db.dsn(), "new-owner-of-the-pid") as client:
        pid = await client.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(ActionError, match="is now a different session"):
            await runner.plan_session(TERMINATE_SESSION, pid, "2001-01-01T00:00:00+00:00")
        assert await client.fetchval("SELECT 1") == 1


async def test_secrets_in_a_sessions_last_query_are_not_recorded(db, tmp_path: Path) -> None:
    async with session(db.dsn(), "admin-tool") as client:
        pid = await client.fetchval("SELECT pg_backend_pid()")
        await client.execute("CREATE ROLE leaky_pw_role LOGIN PASSWORD 'hunter2-secret'")
        runner = make_runner(db.dsn(), tmp_path)
        plan = await runner.plan_session(TERMINATE_SESSION, pid)
        assert "hunter2-secret" not in plan.targets[0].details["query"]
        await runner.execute(plan)
    assert "hunter2-secret" not in runner.audit.path.read_text()
    async with session(db.dsn()) as admin:
        await admin.execute("DROP ROLE leaky_pw_role")


def test_a_token_with_a_carriage_return_is_refused_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGFLOW_TEST_TOKEN", "s3cr3t-token\r")
    runner = make_runner("postgresql://h/x", tmp_path, app_url="http://127.0.0.1:9")
    with pytest.raises(ActionError, match="control or non-ASCII") as info:
        runner.plan_emergency_fallback()
    assert "s3cr3t" not in str(info.value) + str(info.value.fix)


async def test_a_read_only_refusal_of_the_fallback_says_what_was_not_sent(
    db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGFLOW_TEST_TOKEN", "t0ken-value")
    runner = make_runner(db.dsn(), tmp_path, read_only=True, app_url="http://127.0.0.1:9")
    result = await runner.execute(runner.plan_emergency_fallback())
    assert result.refused
    assert "nothing was sent" in (result.error or "")
    assert "/api/emergency/enable-fallback" in (result.error or "")
    assert "database" not in (result.error or "")
    assert audit_records(runner)[-1]["event"] == "refused"
    assert audit_records(runner)[-1]["id"].startswith("A-")


async def test_terminating_a_superusers_session_without_the_right_says_what_can(
    db, tmp_path: Path
) -> None:
    """pg_signal_backend cannot end a superuser's session: the fix says so, not the GRANT."""
    dsn = db.dsn()
    async with session(dsn) as admin:
        await admin.execute(
            "DROP ROLE IF EXISTS oncall_weak; CREATE ROLE oncall_weak LOGIN IN ROLE pg_signal_backend, pg_read_all_stats"
        )
    try:
        async with session(dsn, "superuser-tool") as victim:
            pid = await victim.fetchval("SELECT pg_backend_pid()")
            runner = make_runner(db.dsn(user="oncall_weak"), tmp_path)
            plan = await runner.plan_session(TERMINATE_SESSION, pid)
            result = await runner.execute(plan)
            message = result.outcomes[0].message
            assert result.outcomes[0].status == "failed"
            assert "only a superuser can end it" in message
            assert "GRANT pg_signal_backend" not in message
            assert await victim.fetchval("SELECT 1") == 1
    finally:
        async with session(dsn) as admin:
            await admin.execute("DROP ROLE IF EXISTS oncall_weak")
