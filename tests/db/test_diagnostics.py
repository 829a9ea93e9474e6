"""Each diagnostic check against a real server (pg18 and pg15): a fixture that creates exactly that
problem, the finding it produces, and the clean case once the problem is fixed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engflow_tui import db as engdb
from engflow_tui.config import (
    BackupsConfig,
    Config,
    DiagnoseConfig,
    IntegrityConfig,
    IntegrityRelation,
    SecurityConfig,
    TargetConfig,
)
from engflow_tui.diagnose import Check, Report
from engflow_tui.diagnostics import check_ids, run_diagnosis
from engflow_tui.diagnostics.backups import pg_tool, restore_dump
from engflow_tui.diagnostics.base import Context
from engflow_tui.diagnostics.integrity import check_orphans
from engflow_tui.model import DbState, Health, Snapshot, Unavailable

from ..pg import session, wait_for


def make_config(dsn: str, **sections: object) -> tuple[Config, TargetConfig]:
    target = TargetConfig(name="t", dsn=dsn)
    return Config(targets={"t": target}, **sections), target  # type: ignore[arg-type]


async def diagnose(dsn: str, *, quick: bool = False, **sections: object) -> dict[str, Check]:
    config, target = make_config(dsn, **sections)
    report = await run_diagnosis(config, target, quick=quick)
    assert report.reachable
    return {c.id: c for c in report.checks}


async def admin_sql(dsn: str, sql: str) -> None:
    async with session(dsn) as conn:
        await conn.execute(sql)
        # Statistics (scans, changes since analyze) reach shared memory before this returns, so
        # the diagnosis that follows sees them (PostgreSQL 15+ flushes them lazily otherwise).
        await conn.execute("SELECT pg_stat_force_next_flush()")


# ------------------------------------------------------------------------------------ integrity


ORC = '"Fin ança"."Orçamentos ""Antigos"""'


async def test_orphans_behind_not_valid_and_composite_keys_with_odd_names(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        f"""
        CREATE TABLE public.projetos (id int PRIMARY KEY);
        CREATE TABLE public.anexos (id int PRIMARY KEY, projeto_id int);
        INSERT INTO projetos VALUES (1), (2);
        INSERT INTO anexos VALUES (1, 1), (2, 7), (3, 8), (4, NULL);
        ALTER TABLE anexos ADD CONSTRAINT anexos_projeto_fk
            FOREIGN KEY (projeto_id) REFERENCES projetos (id) NOT VALID;
        CREATE SCHEMA "Fin ança";
        CREATE TABLE {ORC} ("Ano" int, "mês;" int, v text, PRIMARY KEY ("Ano", "mês;"));
        CREATE TABLE "Fin ança"."itens" (id int, "Ano" int, "mês;" int);
        INSERT INTO {ORC} VALUES (2024, 1, 'a');
        INSERT INTO "Fin ança".itens VALUES (1, 2024, 1), (2, 2024, 2), (3, NULL, 5);
        ALTER TABLE "Fin ança".itens ADD CONSTRAINT "itens→orc" FOREIGN KEY ("Ano", "mês;")
            REFERENCES {ORC} ("Ano", "mês;") NOT VALID;
        """,
    )
    checks = await diagnose(dsn)
    orphans = checks["integrity.orphans"]
    assert orphans.status == "critical"
    assert orphans.value == 3
    by_key = {d["key"]: d for d in orphans.details}
    simple = by_key["public.anexos.anexos_projeto_fk"]
    assert simple["orphans"] == 2 and sorted(simple["samples"]) == ["[7]", "[8]"]
    assert simple["references"] == "public.projetos(id)" and simple["validated"] is False
    composite = by_key["Fin ança.itens.itens→orc"]
    assert composite["orphans"] == 1 and composite["samples"] == ["[2024, 2]"]
    not_valid = checks["integrity.not_valid_constraints"]
    assert not_valid.status == "warning" and not_valid.value == 2
    assert any(
        'VALIDATE CONSTRAINT "itens→orc"' in d["fix"] and '"Fin ança"."itens"' in d["fix"]
        for d in not_valid.details
    )

    await admin_sql(
        dsn,
        """
        DELETE FROM anexos WHERE projeto_id > 2;
        DELETE FROM "Fin ança".itens WHERE "mês;" = 2;
        ALTER TABLE anexos VALIDATE CONSTRAINT anexos_projeto_fk;
        ALTER TABLE "Fin ança".itens VALIDATE CONSTRAINT "itens→orc";
        """,
    )
    checks = await diagnose(dsn)
    assert checks["integrity.orphans"].status == "ok"
    assert "2 relation(s)" in checks["integrity.orphans"].summary
    assert checks["integrity.not_valid_constraints"].status == "ok"


async def test_match_full_key_partly_null_is_a_violation(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.p (a int, b int, PRIMARY KEY (a, b));
        CREATE TABLE public.c (a int, b int);
        INSERT INTO public.p VALUES (1, 1);
        INSERT INTO public.c VALUES (1, 1), (1, NULL), (NULL, NULL);
        ALTER TABLE public.c ADD CONSTRAINT c_full FOREIGN KEY (a, b) REFERENCES public.p (a, b)
            MATCH FULL NOT VALID;
        """,
    )
    check = (await diagnose(dsn))["integrity.orphans"]
    assert check.status == "critical"
    assert check.details[0]["orphans"] == 1 and check.details[0]["samples"] == ["[1, null]"]
    await admin_sql(dsn, "DELETE FROM public.c WHERE b IS NULL AND a IS NOT NULL")
    assert (await diagnose(dsn))["integrity.orphans"].status == "ok"


async def test_relations_declared_in_config_without_a_foreign_key(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.projetos (id int PRIMARY KEY);
        CREATE TABLE public.anexos (id int, projeto_id int);
        INSERT INTO projetos VALUES (1);
        INSERT INTO anexos VALUES (1, 1), (2, 99);
        """,
    )
    relation = IntegrityRelation("public.anexos.projeto_id", "public.projetos.id")
    integrity = IntegrityConfig(relations=(relation,))
    checks = await diagnose(dsn, integrity=integrity)
    orphans = checks["integrity.orphans"]
    assert orphans.status == "critical"
    assert orphans.details[0]["key"] == "public.anexos.projeto_id->public.projetos.id"
    assert orphans.details[0]["samples"] == ["[99]"]
    # A wrong column name in the config is that relation's error, not a crash.
    bad = IntegrityConfig(
        relations=(IntegrityRelation("public.anexos.nope", "public.projetos.id"),)
    )
    checks = await diagnose(dsn, integrity=bad)
    assert checks["integrity.orphans"].status == "unknown"
    assert "nope" in checks["integrity.orphans"].details[0]["error"]
    await admin_sql(dsn, "DELETE FROM anexos WHERE projeto_id = 99")
    checks = await diagnose(dsn, integrity=integrity)
    assert checks["integrity.orphans"].status == "ok"


async def test_orphan_count_is_bounded_and_says_it_was_cut_short(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int, p_id int REFERENCES p (id));
        """,
    )
    async with session(dsn, "migration") as locker:
        # A migration holds the child table: the count cannot even start, so it must give up.
        await locker.execute("BEGIN; LOCK TABLE public.c IN ACCESS EXCLUSIVE MODE")
        conn = await engdb.connect(dsn, statement_timeout=5)
        try:
            config, target = make_config(dsn, diagnose=DiagnoseConfig(orphan_count_timeout=0.2))
            snapshot = Snapshot("t", None, Health(DbState.CONNECTED), *(Unavailable("x"),) * 3)  # type: ignore[arg-type]
            ctx = Context(conn, config, target, snapshot, 180000)
            [check] = await check_orphans(ctx)
        finally:
            await conn.close()
        await locker.execute("ROLLBACK")
    assert check.status == "unknown"
    assert "1 count(s) cut short after 200ms" in check.summary
    assert check.details[0]["cut_short"] is True and check.details[0]["orphans"] is None
    assert check.details[0]["reason"] == "another transaction locks it"
    assert "orphan_count_timeout" in (check.fix or "")


async def test_all_orphan_counts_share_one_budget(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.a (p_id int REFERENCES p (id));
        CREATE TABLE public.b (p_id int REFERENCES p (id));
        CREATE TABLE public.c (p_id int REFERENCES p (id));
        """,
    )
    ticks = iter(range(0, 1000, 10))  # every look at the clock: 10 s later
    conn = await engdb.connect(dsn, statement_timeout=5)
    try:
        config, target = make_config(dsn, diagnose=DiagnoseConfig(orphan_total_timeout=25.0))
        snapshot = Snapshot("t", None, Health(DbState.CONNECTED), *(Unavailable("x"),) * 3)  # type: ignore[arg-type]
        ctx = Context(conn, config, target, snapshot, 180000, clock=lambda: float(next(ticks)))
        [check] = await check_orphans(ctx)
    finally:
        await conn.close()
    assert check.status == "unknown"
    assert [d["table"] for d in check.details] == ["public.c"]
    assert check.details[0]["not_counted"] is True
    assert "1 relation(s) not counted (orphan_total_timeout 25s spent)" in check.summary
    assert "2 of 3 relation(s) fully checked" in check.summary


async def test_disabled_foreign_key_triggers(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int, p_id int REFERENCES p (id));
        ALTER TABLE public.c DISABLE TRIGGER ALL;
        """,
    )
    check = (await diagnose(dsn))["integrity.fk_triggers_disabled"]
    assert check.status == "critical"
    assert check.details[0]["table"] == "public.c"
    assert check.details[0]["fix"] == 'ALTER TABLE "public"."c" ENABLE TRIGGER ALL;'
    await admin_sql(dsn, "ALTER TABLE public.c ENABLE TRIGGER ALL")
    assert (await diagnose(dsn))["integrity.fk_triggers_disabled"].status == "ok"


# ------------------------------------------------------------------------------------- security


async def test_policy_on_a_table_without_rls_and_rls_without_policies(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.orcamentos (id int);
        CREATE POLICY own ON public.orcamentos FOR SELECT USING (id > 0);
        CREATE TABLE public.logs (id int);
        ALTER TABLE public.logs ENABLE ROW LEVEL SECURITY;
        """,
    )
    checks = await diagnose(dsn, quick=True)
    without = checks["rls.policy_without_rls"]
    assert without.status == "critical" and without.action == "Enable RLS"
    assert without.details == [
        {"key": "public.orcamentos", "schema": "public", "table": "orcamentos", "policies": 1}
    ]
    assert checks["rls.no_policies"].status == "warning"
    assert checks["rls.no_policies"].details[0]["key"] == "public.logs"
    await admin_sql(
        dsn,
        """
        ALTER TABLE public.orcamentos ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own ON public.logs FOR SELECT USING (id > 0);
        """,
    )
    checks = await diagnose(dsn, quick=True)
    assert checks["rls.policy_without_rls"].status == "ok"
    assert checks["rls.no_policies"].status == "ok"
    assert checks["rls.disabled"].status == "ok"


async def test_rls_disabled_excluded_by_schema_table(db) -> None:
    dsn = db.dsn()
    await admin_sql(dsn, "CREATE TABLE public.audit_trail (id int); CREATE TABLE public.x (id int)")
    exclude = DiagnoseConfig(exclude=("rls.disabled:public.audit_trail",))
    check = (await diagnose(dsn, quick=True, diagnose=exclude))["rls.disabled"]
    assert check.status == "critical" and check.excluded == 1
    assert check.details == [{"schema": "public", "table": "x", "policies": 0}]
    both = DiagnoseConfig(exclude=("rls.disabled:public.audit_trail", "rls.disabled:public.x"))
    check = (await diagnose(dsn, quick=True, diagnose=both))["rls.disabled"]
    assert check.status == "ok" and check.excluded == 2
    assert "(2 excluded)" in check.summary


async def test_always_true_write_policy_and_exclusion_by_key(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.t (id int);
        ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
        CREATE POLICY read_all ON public.t FOR SELECT USING (true);
        CREATE POLICY write_all ON public.t FOR UPDATE USING (true);
        """,
    )
    check = (await diagnose(dsn))["rls.always_true_policies"]
    assert check.status == "warning"
    assert [d["policy"] for d in check.details] == ["write_all"]  # public read is not flagged
    excluded = DiagnoseConfig(exclude=("rls.always_true_policies:public.t.write_all",))
    check = (await diagnose(dsn, diagnose=excluded))["rls.always_true_policies"]
    assert check.status == "ok" and check.excluded == 1
    assert "1 excluded by config" in check.summary


async def test_bypass_rls_login_role(db) -> None:
    dsn = db.dsn()
    role = f"svc_{db.name}"
    await admin_sql(dsn, f"CREATE ROLE {role} LOGIN BYPASSRLS")
    try:
        check = (await diagnose(dsn))["security.bypass_rls_roles"]
        assert check.status == "warning"
        assert {"key": role, "role": role, "superuser": False, "bypassrls": True} in check.details
        await admin_sql(dsn, f"ALTER ROLE {role} NOBYPASSRLS")
        check = (await diagnose(dsn))["security.bypass_rls_roles"]
        assert role not in {d["role"] for d in check.details}
    finally:
        await admin_sql(dsn, f"DROP ROLE IF EXISTS {role}")
    # The bootstrap superuser every cluster has is not a finding: the clean case is ok.
    assert check.status == "ok"


async def test_definer_view_and_function_search_path(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.t (id int);
        CREATE VIEW public.v AS SELECT id FROM public.t;
        CREATE FUNCTION public.my_fn(a int) RETURNS int LANGUAGE sql AS 'SELECT a';
        """,
    )
    checks = await diagnose(dsn)
    views = checks["security.definer_views"]
    assert views.status == "warning" and views.details[0]["key"] == "public.v"
    assert "SET (security_invoker = true)" in views.details[0]["fix"]
    fns = checks["security.function_search_path"]
    assert fns.status == "warning" and fns.details[0]["key"] == "public.my_fn"
    assert fns.details[0]["function"] == "public.my_fn(a integer)"
    await admin_sql(dsn, "ALTER FUNCTION public.my_fn(int) SECURITY DEFINER")
    assert (await diagnose(dsn))["security.function_search_path"].status == "critical"
    # The key the report shows is the key the config excludes.
    excluded = DiagnoseConfig(exclude=("security.function_search_path:public.my_fn",))
    assert (await diagnose(dsn, diagnose=excluded))["security.function_search_path"].status == "ok"
    await admin_sql(
        dsn,
        """
        ALTER VIEW public.v SET (security_invoker = true);
        ALTER FUNCTION public.my_fn(int) SET search_path = '';
        """,
    )
    checks = await diagnose(dsn)
    assert checks["security.definer_views"].status == "ok"
    assert checks["security.function_search_path"].status == "ok"


async def test_client_from_an_address_outside_the_allowlist(db) -> None:
    dsn = db.dsn()
    async with session(dsn, "intruder-tool"):
        outside = SecurityConfig(allowed_cidrs=("10.0.0.0/8",))
        check = (await diagnose(dsn, quick=True, security=outside))["security.unknown_clients"]
        assert check.status == "warning"
        assert any(
            d["address"] == "127.0.0.1" and d["application"] == "intruder-tool"
            for d in check.details
        )
        inside = SecurityConfig(allowed_cidrs=("10.0.0.0/8", "127.0.0.1/32"))
        check = (await diagnose(dsn, quick=True, security=inside))["security.unknown_clients"]
        assert check.status == "ok"
    unset = (await diagnose(dsn, quick=True))["security.unknown_clients"]
    assert unset.status == "unknown" and "allowed_cidrs" in (unset.fix or "")


async def test_sessions_from_one_address_are_counted_as_one_address(db) -> None:
    """Three applications (and users) from 127.0.0.1: one address, however many rows."""
    dsn = db.dsn()
    async with (
        session(dsn, "intruder-a"),
        session(dsn, "intruder-b"),
        session(dsn, "intruder-c"),
    ):
        outside = SecurityConfig(allowed_cidrs=("10.0.0.0/8",))
        check = (await diagnose(dsn, quick=True, security=outside))["security.unknown_clients"]
    addresses = {d["address"] for d in check.details}
    assert addresses == {"127.0.0.1"}
    assert len(check.details) >= 3, "one row per user and application"
    sessions = sum(d["sessions"] for d in check.details)
    assert check.summary.startswith(
        f"{sessions} session(s) from 1 address(es) outside allowed_cidrs: 127.0.0.1"
    ), check.summary
    assert check.value == 1


# ---------------------------------------------------------------------------------- performance


async def test_blocking_chain_of_three_sessions_names_the_root_blocker(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        "CREATE TABLE public.t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)",
    )
    async with (
        session(dsn, "root-batch") as a,
        session(dsn, "middle") as b,
        session(dsn, "victim") as c,
    ):
        pid_a = await a.fetchval("SELECT pg_backend_pid()")
        pid_b = await b.fetchval("SELECT pg_backend_pid()")
        pid_c = await c.fetchval("SELECT pg_backend_pid()")
        await a.execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1")
        await b.execute("BEGIN; UPDATE t SET v = 2 WHERE id = 2")
        b_wait = asyncio.create_task(b.execute("UPDATE t SET v = 2 WHERE id = 1"))
        c_wait = asyncio.create_task(c.execute("UPDATE t SET v = 3 WHERE id = 2"))

        async def chain_formed() -> bool:
            async with session(dsn) as probe:
                return bool(
                    await probe.fetchval(
                        "SELECT cardinality(pg_blocking_pids($1)) > 0 AND "
                        "cardinality(pg_blocking_pids($2)) > 0",
                        pid_b,
                        pid_c,
                    )
                )

        await wait_for(chain_formed)
        check = (await diagnose(dsn, quick=True))["locks.blocking"]
        assert check.status in ("warning", "critical")
        assert check.value == 2
        tree = [(n["pid"], n["depth"], n["root"]) for n in check.details]
        assert tree == [(pid_a, 0, pid_a), (pid_b, 1, pid_a), (pid_c, 2, pid_a)]
        assert f"root blocker pid {pid_a}" in check.summary and "chain depth 2" in check.summary
        assert check.action == "Terminate session"
        assert check.action_target is not None and check.action_target["pid"] == pid_a
        await a.execute("ROLLBACK")
        await b_wait
        await b.execute("ROLLBACK")
        await c_wait
    check = (await diagnose(dsn, quick=True))["locks.blocking"]
    assert check.status == "ok" and check.details == []


async def test_long_running_statement(db) -> None:
    dsn = db.dsn()
    async with session(dsn, "report-job") as slow:
        pid = await slow.fetchval("SELECT pg_backend_pid()")
        task = asyncio.create_task(slow.execute("SELECT pg_sleep(30)"))

        async def running_long() -> bool:
            async with session(dsn) as probe:
                return bool(
                    await probe.fetchval(
                        "SELECT now() - query_start > interval '300 ms' FROM pg_stat_activity "
                        "WHERE pid = $1 AND state = 'active'",
                        pid,
                    )
                )

        await wait_for(running_long)
        limit = DiagnoseConfig(long_running_query=0.3)
        checks = await diagnose(dsn, quick=True, diagnose=limit)
        await admin_sql(dsn, f"SELECT pg_cancel_backend({pid})")
        with pytest.raises(Exception, match="cancel"):
            await task
    long = checks["queries.long_running"]
    assert long.status == "warning" and long.details[0]["pid"] == pid
    assert long.action == "Cancel query" and long.action_target["pid"] == pid  # type: ignore[index]
    assert checks["connections.by_state"].details.get("active", 0) >= 1
    assert (await diagnose(dsn, quick=True, diagnose=limit))["queries.long_running"].status == "ok"


# ---------------------------------------------------------------------------------- maintenance


async def test_unindexed_foreign_keys_summary_accounts_for_every_one(db) -> None:
    """The demo's six unindexed foreign keys: a summary saying 6 must not name only 5 as if
    they were all of them."""
    dsn = db.dsn()
    children = ["anexos", "clientes", "itens", "orcamentos", "projetos", "tarefas"]
    await admin_sql(
        dsn,
        "CREATE TABLE public.p (id int PRIMARY KEY);"
        + "".join(
            f"CREATE TABLE public.{c} (id int, p_id int REFERENCES p (id));" for c in children
        ),
    )
    fk = (await diagnose(dsn))["maintenance.unindexed_foreign_keys"]
    assert len(fk.details) == 6 and fk.value == 6
    assert fk.summary.startswith("6 foreign key(s) without an index"), fk.summary
    named = [c for c in children if f"public.{c}(p_id)" in fk.summary]
    assert len(named) == 5 and fk.summary.endswith(" and 1 more"), fk.summary


async def test_duplicate_unused_and_unindexed_foreign_key(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int PRIMARY KEY, p_id int REFERENCES p (id), n int);
        CREATE INDEX c_n_1 ON public.c (n);
        CREATE INDEX c_n_2 ON public.c (n);
        """,
    )
    checks = await diagnose(dsn)
    dup = checks["maintenance.duplicate_indexes"]
    assert dup.status == "warning" and dup.details[0]["indexes"] == ["c_n_1", "c_n_2"]
    assert dup.details[0]["fix"] == 'DROP INDEX CONCURRENTLY "public"."c_n_2";'
    unused = checks["maintenance.unused_indexes"]
    assert {d["index"] for d in unused.details} == {"public.c_n_1", "public.c_n_2"}
    fk = checks["maintenance.unindexed_foreign_keys"]
    assert fk.status == "warning" and fk.details[0]["columns"] == ["p_id"]
    assert fk.details[0]["fix"] == 'CREATE INDEX CONCURRENTLY ON "public"."c" ("p_id");'

    await admin_sql(
        dsn,
        """
        DROP INDEX public.c_n_2;
        CREATE INDEX c_p_id_n ON public.c (p_id, n);
        SET enable_seqscan = off;
        SELECT count(*) FROM public.c WHERE n = 1;
        SELECT count(*) FROM public.c WHERE p_id = 1;
        """,
    )
    checks = await diagnose(dsn)
    assert checks["maintenance.duplicate_indexes"].status == "ok"
    assert checks["maintenance.unindexed_foreign_keys"].status == "ok"
    assert checks["maintenance.unused_indexes"].status == "ok", checks[
        "maintenance.unused_indexes"
    ].details


async def test_stale_statistics_dead_tuples_and_bloat(db) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.events (id int, pad text) WITH (autovacuum_enabled = off);
        INSERT INTO public.events SELECT g, repeat('x', 100) FROM generate_series(1, 60000) g;
        """,
    )
    check = (await diagnose(dsn))["maintenance.vacuum"]
    assert check.status == "warning" and check.action == "Run ANALYZE"
    [item] = check.details
    assert item["key"] == "public.events" and item["stale_statistics"] is True
    assert "never analyzed" in item["problem"] and item["fix"] == 'ANALYZE "public"."events";'

    await admin_sql(dsn, "DELETE FROM public.events WHERE id % 10 <> 0")
    await admin_sql(dsn, "ANALYZE public.events")  # its own transaction: counts the delete
    checks = await diagnose(dsn)
    vacuum = checks["maintenance.vacuum"]
    assert vacuum.status == "warning" and "dead tuples" in vacuum.details[0]["problem"]
    assert vacuum.details[0]["stale_statistics"] is False
    bloat = checks["maintenance.bloat"]
    assert bloat.status == "warning" and bloat.details[0]["key"] == "public.events"
    assert bloat.details[0]["bloat_pct"] >= 80

    await admin_sql(dsn, "VACUUM FULL ANALYZE public.events")
    checks = await diagnose(dsn)
    assert checks["maintenance.vacuum"].status == "ok"
    assert checks["maintenance.bloat"].status == "ok"


# ------------------------------------------------------------------------- replication, backups


async def test_inactive_replication_slot_retaining_wal(db) -> None:
    dsn = db.dsn()
    slot = f"slot_{db.name}"
    await admin_sql(dsn, f"SELECT pg_create_physical_replication_slot('{slot}', true)")
    try:
        checks = await diagnose(dsn, quick=True)
    finally:
        await admin_sql(dsn, f"SELECT pg_drop_replication_slot('{slot}')")
    slots = checks["replication.slots"]
    assert slots.status == "warning"
    assert [d["slot"] for d in slots.details] == [slot] and slots.details[0]["active"] is False
    assert checks["replication.lag"].status == "ok"
    assert (await diagnose(dsn, quick=True))["replication.slots"].status == "ok"


async def test_archiver_off_is_said_not_hidden(db) -> None:
    check = (await diagnose(db.dsn(), quick=True))["backup.archiver"]
    assert check.status == "unknown" and "archive_mode is off" in check.summary


async def test_failing_wal_archiving_is_critical(tmp_path: Path) -> None:
    from engflow_tui.pgserver import temporary_server

    server = await asyncio.to_thread(
        temporary_server,
        None,
        "engflow-test-archive-",
        extra_settings={"archive_mode": "on", "archive_command": "'exit 1'"},
    )
    try:
        dsn = server.dsn()
        await admin_sql(
            dsn, "CREATE TABLE t (id int); INSERT INTO t VALUES (1); SELECT pg_switch_wal()"
        )

        async def failed() -> bool:
            async with session(dsn) as conn:
                return bool(await conn.fetchval("SELECT failed_count > 0 FROM pg_stat_archiver"))

        await wait_for(failed, timeout=30)
        check = (await diagnose(dsn, quick=True))["backup.archiver"]
    finally:
        await asyncio.to_thread(server.remove)
    assert check.status == "critical" and "WAL archiving is failing" in check.summary


def _dump(dsn: str, path: Path) -> None:
    tool = pg_tool("pg_dump")
    assert tool is not None
    subprocess.run([str(tool), "-Fc", "-f", str(path), dsn], check=True, capture_output=True)


async def test_backup_files_age_size_and_readability(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    await admin_sql(dsn, "CREATE TABLE public.t (id int); INSERT INTO t VALUES (1)")
    backups = tmp_path / "backups"
    backups.mkdir()
    await asyncio.to_thread(_dump, dsn, backups / "nightly-1.dump")
    config = BackupsConfig(path=str(backups))
    check = (await diagnose(dsn, backups=config))["backup.files"]
    assert check.status == "ok", check.summary
    assert "readable" in check.details["pg_restore_list"] and check.action == "Test restore"

    old = time.time() - 3 * 86400
    os.utime(backups / "nightly-1.dump", (old, old))
    check = (await diagnose(dsn, backups=config))["backup.files"]
    assert check.status == "warning" and "older than 26h" in check.summary

    (backups / "nightly-2.dump").write_bytes(b"not a dump at all")
    check = (await diagnose(dsn, backups=config))["backup.files"]
    assert check.status == "critical" and "not readable" in check.summary
    assert "pg_restore --list failed" in check.details["pg_restore_list"]

    missing = BackupsConfig(path=str(tmp_path / "nowhere"))
    check = (await diagnose(dsn, backups=missing))["backup.files"]
    assert check.status == "critical" and "does not exist" in check.summary
    empty = BackupsConfig(path=str(backups), glob="*.sql.gz")
    assert (await diagnose(dsn, backups=empty))["backup.files"].status == "critical"


async def test_restore_of_the_newest_dump_into_a_scratch_server(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.clientes (id int PRIMARY KEY);
        INSERT INTO public.clientes SELECT generate_series(1, 500);
        CREATE TABLE public."Orçamentos" (id int);
        INSERT INTO public."Orçamentos" VALUES (1), (2);
        ANALYZE;
        """,
    )
    dump = tmp_path / "x.dump"
    await asyncio.to_thread(_dump, dsn, dump)
    await admin_sql(dsn, "CREATE TABLE public.after_dump (id int)")
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("engflow-restore-*"))
    report = await restore_dump(
        dump,
        {
            ("public", "clientes"): 500.0,
            ("public", "Orçamentos"): 2.0,
            ("public", "after_dump"): -1.0,
        },
    )
    tables = {(t["schema"], t["table"]): t for t in report.tables}
    assert tables[("public", "clientes")] == {
        "schema": "public",
        "table": "clientes",
        "restored": 500,
        "live_estimate": 500,
    }
    assert tables[("public", "Orçamentos")]["restored"] == 2
    assert tables[("public", "after_dump")]["restored"] is None  # in the live DB, not in the dump
    assert report.rows == 502
    assert "1 live table(s) missing from the dump" in report.summary()
    # The scratch server is gone: its directory removed, nothing left behind.
    after = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("engflow-restore-*"))
    assert after == before


async def dump_with_policies(db, tmp_path: Path, extra_sql: str = "") -> tuple[Path, str, str]:
    """A real dump whose policies name roles the scratch server does not have: (dump, role,
    awkward role). Roles are cluster-wide: named after the test's database."""
    dsn = db.dsn()
    role, weird = f"authenticated_{db.name}", f'Weird "Role", {db.name}'
    quoted = '"' + weird.replace('"', '""') + '"'
    await admin_sql(
        dsn,
        f"""
        CREATE ROLE {role}; CREATE ROLE {quoted};
        CREATE TABLE public.orcamentos (id int, owner text);
        INSERT INTO public.orcamentos SELECT g, 'ana' FROM generate_series(1, 30) g;
        ALTER TABLE public.orcamentos ENABLE ROW LEVEL SECURITY;
        CREATE POLICY p_read ON public.orcamentos FOR SELECT TO {role}, {quoted}
            USING (owner = current_user);
        CREATE POLICY p_all ON public.orcamentos USING (true);
        {extra_sql}
        ANALYZE;
        """,
    )
    dump = tmp_path / "with-policies.dump"
    await asyncio.to_thread(_dump, dsn, dump)
    return dump, role, weird


async def test_restore_creates_the_roles_the_dumps_policies_name(db, tmp_path: Path) -> None:
    """pg_restore fails on `CREATE POLICY … TO authenticated` when the role is missing: the
    scratch server gets the roles first, so the policies restore and nothing is an error."""
    dump, role, weird = await dump_with_policies(db, tmp_path)
    report = await restore_dump(dump, {("public", "orcamentos"): 30.0})
    assert report.errors == ()
    assert set(report.roles_created) == {role, weird}
    assert [t["restored"] for t in report.tables] == [30]
    assert "error" not in report.summary()


async def test_restore_retries_once_it_created_a_role_an_error_names(db18, tmp_path: Path) -> None:
    """A role named elsewhere than a policy (a user mapping): the error names it, the scratch
    server gets it and the restore runs again; nothing is left failed."""
    dsn = db18.dsn()
    role = f"reporter_{db18.name}"
    await admin_sql(
        dsn,
        f"""
        CREATE ROLE {role};
        CREATE EXTENSION postgres_fdw;
        CREATE SERVER other FOREIGN DATA WRAPPER postgres_fdw;
        CREATE USER MAPPING FOR {role} SERVER other OPTIONS (user 'r');
        CREATE TABLE public.t (id int); INSERT INTO public.t VALUES (1), (2);
        """,
    )
    dump = tmp_path / "mapping.dump"
    await asyncio.to_thread(_dump, dsn, dump)
    report = await restore_dump(dump, {})
    assert report.errors == ()
    assert report.roles_created == (role,)
    assert report.rows == 2


# ------------------------------------------------------------------------- privileges, contract


async def test_pg_monitor_only_role_gets_useful_output_and_honest_gaps(db) -> None:
    dsn = db.dsn()
    role = f"mon_{db.name}"
    await admin_sql(
        dsn,
        f"""
        CREATE ROLE {role} LOGIN;
        GRANT pg_monitor TO {role};
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int, p_id int REFERENCES p (id));
        """,
    )
    try:
        config, target = make_config(db.dsn(user=role))
        report: Report = await run_diagnosis(config, target)
    finally:
        await admin_sql(dsn, f"DROP OWNED BY {role}; DROP ROLE {role}")
    checks = {c.id: c for c in report.checks}
    assert report.reachable
    # Every check the full diagnosis knows is there, none failed with an error.
    expected = set(check_ids()) - {"connectivity.rest_api", "connectivity.app_health"}
    assert expected <= set(checks)
    assert not [c.id for c in report.checks if c.summary.startswith("check failed")]
    orphans = checks["integrity.orphans"]
    assert orphans.status == "unknown"
    assert "1 relation(s) this role cannot read" in orphans.summary
    assert 'GRANT SELECT ON "public"."c", "public"."p"' in orphans.details[0]["fix"]
    caps = checks["capabilities"]
    assert caps.status == "ok"  # pg_monitor brings pg_read_all_stats
    gaps = {d["capability"].split(" (")[0]: d for d in caps.details if not d["ok"]}
    assert "pg_signal_backend" in gaps and gaps["pg_signal_backend"]["fix"].startswith(
        f'GRANT pg_signal_backend TO "{role}";'
    )
    # The catalogue checks need no privilege at all.
    assert checks["maintenance.unindexed_foreign_keys"].status == "warning"


async def test_rls_never_turns_into_a_false_no_orphans(db) -> None:
    dsn = db.dsn()
    role = f"reader_{db.name}"
    await admin_sql(
        dsn,
        f"""
        CREATE ROLE {role} LOGIN IN ROLE pg_monitor;
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int, p_id int);
        INSERT INTO public.c VALUES (1, 42);
        ALTER TABLE public.c ADD FOREIGN KEY (p_id) REFERENCES public.p (id) NOT VALID;
        ALTER TABLE public.c ENABLE ROW LEVEL SECURITY;
        GRANT SELECT ON public.p, public.c TO {role};
        """,
    )
    try:
        as_reader = await diagnose(db.dsn(user=role))
        as_owner = await diagnose(dsn)
    finally:
        await admin_sql(dsn, f"DROP OWNED BY {role}; DROP ROLE {role}")
    # The reader's SELECT would see no row of c (no policy): it must not say "no orphans".
    reader = as_reader["integrity.orphans"]
    assert reader.status == "unknown"
    assert "row-level security hides rows" in reader.details[0]["cannot_see"]
    assert "BYPASSRLS" in reader.details[0]["fix"]
    assert as_owner["integrity.orphans"].status == "critical"
    assert as_owner["integrity.orphans"].details[0]["samples"] == ["[42]"]


def server_errors_since(db, offset: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The ERROR lines the server logged since ``offset`` of its log file."""
    with db.server.log_file.open(encoding="utf-8", errors="replace") as log:
        log.seek(offset)
        return [line for line in log.read().splitlines() if " ERROR: " in line]


async def test_a_pg_monitor_role_makes_the_server_log_no_error(db) -> None:
    """What the role cannot read is found in the catalogue and said, never tried: each refused
    count would be an ERROR in the server's log (and in the error figures diagnose watches)."""
    dsn = db.dsn()
    role = f"mon_{db.name}"
    await admin_sql(
        dsn,
        f"""
        CREATE ROLE {role} LOGIN IN ROLE pg_monitor;
        -- The console's advice for the active-users probe, followed (a Supabase-style database).
        CREATE SCHEMA auth;
        CREATE TABLE auth.users (last_sign_in_at timestamptz);
        GRANT USAGE ON SCHEMA auth TO {role};
        GRANT SELECT (last_sign_in_at) ON auth.users TO {role};
        CREATE TABLE public.p (id int PRIMARY KEY);
        GRANT SELECT ON public.p TO {role};
        -- RLS the role cannot bypass: neither owner nor BYPASSRLS.
        CREATE TABLE public.hidden_rows (id int, p_id int REFERENCES p (id));
        ALTER TABLE public.hidden_rows ENABLE ROW LEVEL SECURITY;
        GRANT SELECT ON public.hidden_rows TO {role};
        -- No SELECT at all, and SELECT on the key column only (enough to count).
        CREATE TABLE public.no_grant (id int, p_id int REFERENCES p (id));
        CREATE TABLE public.key_only (id int, secret text, p_id int REFERENCES p (id));
        GRANT SELECT (p_id) ON public.key_only TO {role};
        INSERT INTO public.key_only VALUES (1, 'x', NULL);
        -- A schema the role may not use.
        CREATE SCHEMA vault;
        CREATE TABLE vault.keys (id int, p_id int REFERENCES public.p (id));
        -- Its own table: RLS does not apply to the owner, unless forced.
        CREATE TABLE public.own (id int, p_id int);
        CREATE TABLE public.own_forced (id int, p_id int);
        ALTER TABLE public.own OWNER TO {role};
        ALTER TABLE public.own_forced OWNER TO {role};
        INSERT INTO public.own VALUES (1, 42);
        ALTER TABLE public.own ADD FOREIGN KEY (p_id) REFERENCES public.p (id) NOT VALID;
        ALTER TABLE public.own_forced ADD FOREIGN KEY (p_id) REFERENCES public.p (id);
        ALTER TABLE public.own ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.own_forced ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.own_forced FORCE ROW LEVEL SECURITY;
        """,
    )
    relations = IntegrityConfig(
        relations=(IntegrityRelation("public.gone.p_id", "public.p.id"),)  # no such table
    )
    try:
        offset = db.server.log_file.stat().st_size
        checks = await diagnose(db.dsn(user=role), integrity=relations)
        errors = server_errors_since(db, offset)
    finally:
        await admin_sql(dsn, f"DROP OWNED BY {role}; DROP ROLE {role}")
    assert errors == []
    orphans = checks["integrity.orphans"]
    assert orphans.status == "critical"  # its own table's orphan is still found
    by_table = {d["table"]: d for d in orphans.details}
    assert by_table["public.own"]["orphans"] == 1
    assert "public.key_only" not in by_table  # counted: no orphans
    assert by_table["public.hidden_rows"]["cannot_see"] == (
        "cannot see (row-level security): row-level security hides rows of public.hidden_rows "
        "from this role (neither its owner nor BYPASSRLS)"
    )
    assert "BYPASSRLS" in by_table["public.hidden_rows"]["fix"]
    assert by_table["public.own_forced"]["cannot_see"].startswith(
        "cannot see (row-level security): row-level security hides rows of public.own_forced "
        "from this role (FORCE ROW LEVEL SECURITY"
    )
    assert by_table["public.no_grant"]["cannot_see"] == (
        "cannot see: no SELECT on public.no_grant (p_id)"
    )
    assert by_table["public.no_grant"]["fix"] == (
        'GRANT SELECT ON "public"."no_grant", "public"."p" TO <monitoring role>;'
    )
    assert by_table["vault.keys"]["cannot_see"] == "cannot see: no USAGE on schema vault"
    assert by_table["public.gone"]["error"] == "no table public.gone"
    assert "4 relation(s) this role cannot read" in orphans.summary
    assert "1 relation(s) failed to count" in orphans.summary


async def test_role_without_monitoring_grants_is_told_which_grant(db) -> None:
    dsn = db.dsn()
    role = f"plain_{db.name}"
    await admin_sql(dsn, f"CREATE ROLE {role} LOGIN")
    try:
        config, target = make_config(db.dsn(user=role))
        report = await run_diagnosis(config, target, quick=True)
    finally:
        await admin_sql(dsn, f"DROP ROLE {role}")
    caps = next(c for c in report.checks if c.id == "capabilities")
    assert caps.status == "warning"
    assert f'GRANT pg_read_all_stats TO "{role}";' in (caps.fix or "")


async def test_clean_database_every_check_ok(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    backups = tmp_path / "b"
    backups.mkdir()
    await asyncio.to_thread(_dump, dsn, backups / "n.dump")
    config, target = make_config(
        dsn,
        security=SecurityConfig(allowed_cidrs=("127.0.0.0/8",)),
        backups=BackupsConfig(path=str(backups)),
        diagnose=DiagnoseConfig(exclude=("cache.hit_rate", "backup.archiver")),
    )
    report = await run_diagnosis(config, target)
    bad = {c.id: c.summary for c in report.checks if c.status != "ok"}
    assert bad == {}
    assert report.status == "ok" and report.exit_code == 0
    assert "cache.hit_rate" not in {c.id for c in report.checks}  # excluded as a whole
    data = report.as_dict()
    assert {c["section"] for c in data["checks"]} >= {
        "Connectivity",
        "Performance",
        "Security",
        "Integrity",
        "Maintenance",
        "Backups",
        "Replication",
        "Privileges",
    }
    quick = await run_diagnosis(replace(config), target, quick=True)
    assert "integrity.orphans" not in {c.id for c in quick.checks}
    assert "locks.blocking" in {c.id for c in quick.checks}


# ---------------------------------------------------------------------------- checklist auto items


async def test_checklist_auto_items_read_the_diagnostic_checks(db, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from engflow_tui.checklists.loader import load_catalog
    from engflow_tui.checklists.run import ChecklistRun, RunStore
    from engflow_tui.checklists.session import ChecklistSession
    from engflow_tui.diagnostics import checks_for
    from engflow_tui.monitor import live_monitor

    dsn = db.dsn()
    await admin_sql(
        dsn,
        """
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int, p_id int);
        INSERT INTO public.c VALUES (1, 9);
        ALTER TABLE public.c ADD FOREIGN KEY (p_id) REFERENCES public.p (id) NOT VALID;
        ALTER TABLE public.p ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.c ENABLE ROW LEVEL SECURITY;
        """,
    )
    config, target = make_config(dsn)
    checklist = load_catalog().checklists["daily-morning"]

    async def verify() -> ChecklistRun:
        monitor = live_monitor(config, target, light_first_cycle=False)
        run_ = ChecklistRun.start(checklist, "t", "alice", datetime.now(UTC))
        session_ = ChecklistSession(
            checklist,
            run_,
            RunStore(tmp_path),
            monitor,
            "alice",
            diagnose=lambda ids, snap: checks_for(config, target, ids, snap),
        )
        try:
            await monitor.poll()
            await session_.verify([i.id for i in checklist.items if i.verify])
        finally:
            await monitor.close()
        return run_

    item = (await verify()).item("fk-violations")
    assert item.status == "fail" and "1 orphan row(s)" in (item.detail or "")
    await admin_sql(dsn, "DELETE FROM public.c")
    assert (await verify()).item("fk-violations").status == "pass"
    # Only the checks asked for run.
    monitor = live_monitor(config, target, light_first_cycle=False)
    try:
        snapshot = (await monitor.poll()).snapshot
    finally:
        await monitor.close()
    found = await checks_for(config, target, {"integrity.orphans", "rls.disabled"}, snapshot)
    assert set(found) == {"integrity.orphans", "rls.disabled"}
    assert await checks_for(config, target, {"integrity.orphans"}, None) == {}


async def test_restore_of_an_unreadable_dump_fails_clearly_and_cleans_up(tmp_path: Path) -> None:
    from engflow_tui.pgserver import ServerError

    bad = tmp_path / "broken.dump"
    bad.write_bytes(b"PGDMP but not really")
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("engflow-restore-*"))
    with pytest.raises(ServerError, match="pg_restore failed"):
        await restore_dump(bad, {})
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("engflow-restore-*")) == before


def test_test_restore_plan_says_what_is_missing(tmp_path: Path) -> None:
    from engflow_tui.actions.model import ActionError
    from engflow_tui.actions.test_restore import plan_test_restore

    config, target = make_config("postgresql://h/db")
    with pytest.raises(ActionError, match="no backup directory configured") as info:
        plan_test_restore(config, target)
    assert "[backups] path" in (info.value.fix or "")
    empty = replace(config, backups=BackupsConfig(path=str(tmp_path)))
    with pytest.raises(ActionError, match=r"no file matching \*\.dump"):
        plan_test_restore(empty, target)
    (tmp_path / "old.dump").write_bytes(b"x")
    (tmp_path / "new.dump").write_bytes(b"yy")
    old = time.time() - 3600
    os.utime(tmp_path / "old.dump", (old, old))
    plan = plan_test_restore(empty, target)
    assert plan.params["dump"] == str(tmp_path / "new.dump")  # the newest
    assert plan.params["live_database_untouched"] is True
    assert plan.targets[0].details["files"] == 2


async def test_a_pg_monitor_role_on_rls_tables_is_told_both_grants_at_once(db) -> None:
    """No SELECT and RLS on: GRANT SELECT alone would only move the problem — the fix names
    both the GRANT and BYPASSRLS / owner."""
    dsn = db.dsn()
    role = f"mon2_{db.name}"
    await admin_sql(
        dsn,
        f"""
        CREATE ROLE {role} LOGIN;
        GRANT pg_monitor TO {role};
        CREATE TABLE public.p (id int PRIMARY KEY);
        CREATE TABLE public.c (id int, p_id int REFERENCES p (id));
        ALTER TABLE public.p ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.c ENABLE ROW LEVEL SECURITY;
        """,
    )
    try:
        config, target = make_config(db.dsn(user=role))
        report: Report = await run_diagnosis(config, target)
    finally:
        await admin_sql(dsn, f"DROP OWNED BY {role}; DROP ROLE {role}")
    orphans = {c.id: c for c in report.checks}["integrity.orphans"]
    assert orphans.status == "unknown"
    assert 'GRANT SELECT ON "public"."c", "public"."p"' in orphans.details[0]["fix"]
    assert "BYPASSRLS" in orphans.details[0]["fix"]
    assert "GRANT SELECT" in (orphans.fix or "") and "BYPASSRLS" in (orphans.fix or "")
