"""Plan and run the runbook's fixes against one target. No Textual.

Every action uses its own short-lived connection (the monitoring one stays read-only) with
``statement_timeout`` and ``lock_timeout``; terminations re-check each target in the statement
that acts; read-only refuses in one place (:meth:`ActionRunner.execute`); every confirmed
action, refusal and failure is written to the audit log before and after it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from .. import db, own_sessions
from ..config import Config, TargetConfig
from ..durations import format_age, format_duration
from ..errors import DatabaseError
from ..model import TableRls
from ..redact import redact_query
from .audit import AuditLog, new_audit_id
from .model import ActionError, ActionPlan, ActionResult, ActionTarget, TargetOutcome

TERMINATE_IDLE = "Terminate idle transactions"
TERMINATE_SESSION = "Terminate session"
CANCEL_QUERY = "Cancel query"
ENABLE_RLS = "Enable RLS"
RUN_ANALYZE = "Run ANALYZE"
EMERGENCY_FALLBACK = "Emergency fallback"
TEST_RESTORE = "Test restore"

SIGNAL_FIX = "GRANT pg_signal_backend TO <role>;  (or run as the session's own role)"
SUPERUSER_FIX = (
    "the session belongs to a superuser: only a superuser can end it (pg_signal_backend cannot) "
    "— set the target's action_dsn to a superuser role, or end it from its client"
)
GONE = "already gone or changed"
FALLBACK_PATH = "/api/emergency/enable-fallback"


def _shown_sql(name: str) -> str:
    """The statement as it will run, without its leading comment lines."""
    lines = db.load_sql(name).splitlines()
    return "\n".join(line for line in lines if not line.startswith("--")).strip()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _session_target(row: Any) -> ActionTarget:
    backend_start: datetime = row["backend_start"]
    return ActionTarget(
        key=f"pid:{row['pid']}@{backend_start.isoformat()}",
        label=f"pid {row['pid']}",
        details={
            "pid": row["pid"],
            "user": row["user"],
            "application": row["application"],
            "client_addr": row["client_addr"] or "local",
            "state": row["state"],
            "age": format_age(row["age_seconds"]),
            "age_seconds": round(row["age_seconds"] or 0.0, 1),
            "backend_start": backend_start.isoformat(),
            "state_change": _iso(row.get("state_change")),
            "query_start": _iso(row.get("query_start")),
            # A session's last query may carry credentials: never stored or shown.
            "query": redact_query(" ".join((row["query"] or "").split()))[:500],
            "superuser": bool(row.get("superuser")),
        },
    )


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class ActionRunner:
    def __init__(self, config: Config, target: TargetConfig, audit: AuditLog) -> None:
        self.config = config
        self.target = target
        self.audit = audit

    @property
    def read_only(self) -> bool:
        return self.config.console.read_only or self.target.read_only

    async def _connect(self, statement_timeout: float | None = None) -> Any:
        actions = self.config.actions
        return await db.connect(
            self.target.action_dsn or self.target.dsn,
            password=self.target.action_password(),
            timeout=self.config.console.connect_timeout,
            statement_timeout=statement_timeout or actions.statement_timeout,
            lock_timeout=actions.lock_timeout,
            read_only=False,
            application_name="engflow-tui-action",
        )

    async def _with_conn(
        self, work: Callable[[Any], Awaitable[Any]], statement_timeout: float | None = None
    ) -> Any:
        try:
            conn = await self._connect(statement_timeout)
        except DatabaseError as exc:
            raise ActionError(f"cannot connect to {self.target.name}: {exc}", exc.fix) from None
        try:
            return await work(conn)
        except DatabaseError as exc:
            raise ActionError(str(exc), exc.fix) from None
        except Exception as exc:  # noqa: BLE001 - driver errors become one message
            error = db.translate_error(exc)
            raise ActionError(str(error), error.fix) from None
        finally:
            try:
                await conn.close(timeout=2)
            except Exception:  # noqa: BLE001
                conn.terminate()

    # ------------------------------------------------------------------ plans

    async def plan_terminate_idle(self, threshold: float | None = None) -> ActionPlan:
        seconds = self.config.thresholds.idle_in_transaction if threshold is None else threshold
        rows = await self._with_conn(
            lambda c: c.fetch(
                db.load_sql("action_idle_in_transaction"), float(seconds), *own_sessions.params()
            )
        )
        return ActionPlan(
            action=TERMINATE_IDLE,
            target_name=self.target.name,
            targets=tuple(_session_target(r) for r in rows),
            statement=(
                _shown_sql("action_terminate_idle")
                + f"\n-- run once per session listed: $1 = pid, $2 = its backend_start, $3 = {float(seconds):g} (seconds)"
            ),
            description=(
                f"Sessions idle in transaction for longer than {format_duration(seconds)} "
                "(runbook: High Response Times, immediate fix)."
            ),
            params={"threshold": float(seconds), "done_word": "terminated"},
        )

    async def plan_session(
        self, action: str, pid: int, backend_start: str | None = None
    ) -> ActionPlan:
        """``backend_start`` is the one the operator saw: a pid reused since is refused."""
        if action not in (TERMINATE_SESSION, CANCEL_QUERY):
            raise ValueError(action)
        row = await self._with_conn(
            lambda c: c.fetchrow(db.load_sql("action_session"), pid, *own_sessions.params())
        )
        if row is None:
            raise ActionError(
                f"pid {pid} is not a client session any more (or it is one of this console's own "
                "connections)"
            )
        if backend_start is not None and row["backend_start"] != datetime.fromisoformat(
            backend_start
        ):
            raise ActionError(
                f"pid {pid} is now a different session (started {row['backend_start']:%H:%M:%S}): "
                "the one you selected is gone; nothing was run",
                "look at the refreshed Connections panel and select again",
            )
        name = "action_terminate_session" if action == TERMINATE_SESSION else "action_cancel_query"
        warnings: tuple[str, ...] = ()
        if action == CANCEL_QUERY and row["state"] != "active":
            warnings = (
                f"pid {pid} is {row['state'] or 'not running anything'}: no statement is "
                "running, there is nothing to cancel right now.",
            )
        return ActionPlan(
            action=action,
            target_name=self.target.name,
            targets=(_session_target(row),),
            statement=_shown_sql(name)
            + f"\n-- $1 = {pid}, $2 = {row['backend_start'].isoformat()} (its backend_start)"
            + (
                ""
                if action == TERMINATE_SESSION
                else ", $3 = the confirmed statement's query_start"
            ),
            description=(
                "Ends the session whatever it is doing by then (the dialog shows what it does, "
                "re-read every second): its open transaction is rolled back."
                if action == TERMINATE_SESSION
                else "Cancels the statement shown (only that one: a statement started since is "
                "left alone); the session stays connected."
            ),
            warnings=warnings,
            params={
                "done_word": "terminated" if action == TERMINATE_SESSION else "cancelled",
                "pid": pid,
                "backend_start": row["backend_start"].isoformat(),
            },
        )

    async def rls_candidates(self) -> list[TableRls]:
        """Tables of the exposed schemas whose RLS is off."""
        rows = await self._with_conn(
            lambda c: c.fetch(db.load_sql("rls_status"), list(self.target.exposed_schemas))
        )
        return [
            TableRls(
                r["schema"],
                r["table"],
                r["rls_enabled"],
                r["rls_forced"],
                r["policy_count"],
                r["owner"],
            )
            for r in sorted(rows, key=lambda r: (r["schema"], r["table"]))
            if not r["rls_enabled"]
        ]

    async def plan_enable_rls(self, schema: str, table: str) -> ActionPlan:
        row = await self._with_conn(
            lambda c: c.fetchrow(db.load_sql("action_table_state"), schema, table)
        )
        qualified = db.quote_qualified(schema, table)
        ddl = (
            f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY"  # ok-sql: identifier quoted by db
        )
        if row is None:
            raise ActionError(f"table {qualified} does not exist (any more)")
        policies = json.loads(row["policies"] or "[]")
        warnings: list[str] = []
        if row["rls_enabled"]:
            # Read now, at the confirmation: the list may have re-sorted under the cursor, or
            # another console enabled it meanwhile. Nothing to confirm.
            return ActionPlan(
                action=ENABLE_RLS,
                target_name=self.target.name,
                targets=(),
                statement=f"-- not run: RLS is already enabled on {qualified}\n{ddl};",
                description=f"RLS is already enabled on {qualified}: nothing to do.",
                warnings=(f"RLS is already enabled on {qualified}.",),
                params={"sql": ddl, "qualified": qualified, "done_word": "RLS enabled"},
            )
        if not policies:
            warnings.append(
                f"{qualified} has NO policies: enabling RLS will deny every non-owner role "
                '(anon, authenticated…) all rows — the runbook\'s "403 on authorised operations". '
                "Create its policies first unless that is what you want."
            )
        return ActionPlan(
            action=ENABLE_RLS,
            target_name=self.target.name,
            targets=(
                ActionTarget(
                    key=qualified,
                    label=qualified,
                    details={"schema": schema, "table": table, "policies": policies},
                ),
            ),
            statement=f"-- lock_timeout = {format_duration(self.config.actions.lock_timeout)}\n{ddl};",
            description="Row-level security makes the table's policies apply (runbook: RLS Policy Errors).",
            warnings=tuple(warnings),
            params={"sql": ddl, "qualified": qualified, "done_word": "RLS enabled"},
        )

    async def analyze_candidates(self) -> list[tuple[str, str]]:
        rows = await self._with_conn(
            lambda c: c.fetch(db.load_sql("action_tables"), list(self.target.exposed_schemas))
        )
        return [(r["schema"], r["table"]) for r in rows]

    def plan_analyze(self, schema: str | None = None, table: str | None = None) -> ActionPlan:
        timeout = format_duration(self.config.actions.analyze_timeout)
        if schema is None or table is None:
            target = ActionTarget(
                key="database", label=f"the whole database of target {self.target.name}"
            )
            sql = "ANALYZE"
        else:
            qualified = db.quote_qualified(schema, table)
            target = ActionTarget(
                key=qualified, label=qualified, details={"schema": schema, "table": table}
            )
            sql = f"ANALYZE {qualified}"  # ok-sql: identifier quoted by db.quote_qualified
        return ActionPlan(
            action=RUN_ANALYZE,
            target_name=self.target.name,
            targets=(target,),
            statement=f"-- statement_timeout = {timeout}\n{sql};",
            description="Refreshes the planner statistics (runbook: weekly maintenance). Reads every "
            "table it covers; it takes no lock that blocks reads or writes.",
            params={"sql": sql, "done_word": "analyzed"},
        )

    def plan_emergency_fallback(self) -> ActionPlan:
        if not self.target.app_url:
            raise ActionError(
                f"no app_url for target {self.target.name}",
                f"set targets.{self.target.name}.app_url (and emergency_token_env) in the config",
            )
        if not self.target.emergency_token_env:
            raise ActionError(
                f"no emergency_token_env for target {self.target.name}",
                f"set targets.{self.target.name}.emergency_token_env to the NAME of the variable holding the token",
            )
        token = os.environ.get(self.target.emergency_token_env)
        if not token:
            raise ActionError(
                f"environment variable {self.target.emergency_token_env} is not set",
                "export it with the emergency token before starting the console",
            )
        if not re.fullmatch(r"[\x21-\x7e]+", token):
            # e.g. a trailing \r from a CRLF .env file: it would be refused by the HTTP client,
            # whose error message would repeat the token.
            raise ActionError(
                f"the token in {self.target.emergency_token_env} contains spaces, control or "
                "non-ASCII characters",
                "export it again without a trailing newline / carriage return",
            )
        url = self.target.app_url.rstrip("/") + FALLBACK_PATH
        return ActionPlan(
            action=EMERGENCY_FALLBACK,
            target_name=self.target.name,
            targets=(ActionTarget(key=url, label=url),),
            statement=f"POST {url}\nAuthorization: Bearer ${self.target.emergency_token_env}  (token not shown)",
            description="Switches the application to its localStorage fallback (runbook: SEVERITY 1, 0-2 min).",
            params={
                "url": url,
                "done_word": "accepted",
                "gave_up_hint": "the request may still reach the application; the app probe "
                "says FALLBACK MODE ON once it switched",
            },
        )

    def plan_test_restore(self) -> ActionPlan:
        from .restore import plan_test_restore

        return plan_test_restore(self.config, self.target)

    # ------------------------------------------------------------------ execute

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Run a confirmed plan. Refuses in read-only mode. Failures are results (and audit
        records); it raises ActionError only when the audit log cannot be written before the
        action, in which case nothing ran."""
        audit_id = new_audit_id()
        if self.read_only and not plan.params.get("live_database_untouched"):
            untouched = (
                f"nothing was sent (POST {plan.params['url']} was not made)"
                if plan.action == EMERGENCY_FALLBACK
                else "the database was not touched"
            )
            result = ActionResult(
                plan,
                tuple(
                    TargetOutcome(t.label, "refused", "refused: read-only mode")
                    for t in plan.targets
                )
                or (TargetOutcome(plan.target_name, "refused", "refused: read-only mode"),),
                error=f"read-only: {plan.action} refused, {untouched}",
                audit_id=audit_id,
            )
            self.audit.finished(result)
            return result
        # Raises ActionError if the log cannot be written: nothing runs.
        self.audit.started(plan, audit_id)
        started = time.monotonic()
        try:
            outcomes = await self._run(plan)
            result = ActionResult(plan, tuple(outcomes), audit_id=audit_id)
        except asyncio.CancelledError:
            # The operator gave up waiting (or closed the console): said in the audit log.
            self._gave_up(plan, time.monotonic() - started, audit_id)
            raise
        except ActionError as exc:
            result = ActionResult(
                plan, (), error=self._redact(str(exc)), fix=exc.fix, audit_id=audit_id
            )
        except Exception as exc:  # noqa: BLE001 - whatever happened is recorded, never lost
            error = self._redact(f"{type(exc).__name__}: {exc}")
            result = ActionResult(plan, (), error=error, audit_id=audit_id)
        try:
            self.audit.finished(result)
        except ActionError as exc:
            # The action ran: say so, and that its outcome could not be recorded.
            note = f"the action ran, but its outcome could not be recorded: {exc}"
            result = ActionResult(
                plan, result.outcomes, error=result.error or note, fix=exc.fix, audit_id=audit_id
            )
        return result

    def _gave_up(self, plan: ActionPlan, waited: float, audit_id: str) -> None:
        message = f"gave up waiting after {format_age(waited)}" + (
            f": {plan.params['gave_up_hint']}" if plan.params.get("gave_up_hint") else ""
        )
        outcomes = tuple(TargetOutcome(t.label, "gave up", message) for t in plan.targets)
        with contextlib.suppress(ActionError):  # nothing more can be done about it here
            self.audit.finished(ActionResult(plan, outcomes, error=message, audit_id=audit_id))

    def _redact(self, text: str) -> str:
        token = (
            os.environ.get(self.target.emergency_token_env or "")
            if self.target.emergency_token_env
            else None
        )
        return text.replace(token, "***") if token else text

    async def _run(self, plan: ActionPlan) -> list[TargetOutcome]:
        if plan.action == TEST_RESTORE:
            from .restore import run_test_restore

            return await run_test_restore(self.config, self.target, plan)
        if plan.action == EMERGENCY_FALLBACK:
            return [await self._post_fallback(plan)]
        if plan.action == RUN_ANALYZE:
            return await self._with_conn(
                lambda c: self._analyze(c, plan), self.config.actions.analyze_timeout
            )
        if plan.action == ENABLE_RLS:
            return await self._with_conn(lambda c: self._enable_rls(c, plan))
        return await self._with_conn(lambda c: self._signal(c, plan))

    async def _signal(self, conn: Any, plan: ActionPlan) -> list[TargetOutcome]:
        name = {
            TERMINATE_IDLE: "action_terminate_idle",
            TERMINATE_SESSION: "action_terminate_session",
            CANCEL_QUERY: "action_cancel_query",
        }[plan.action]
        sql = db.load_sql(name)
        outcomes = []
        for target in plan.targets:
            args: list[Any] = [
                target.details["pid"],
                datetime.fromisoformat(target.details["backend_start"]),
            ]
            if plan.action == TERMINATE_IDLE:
                args.append(plan.params["threshold"])
            elif plan.action == CANCEL_QUERY:  # only the confirmed statement
                args.append(_from_iso(target.details.get("query_start")))
            try:
                row = await conn.fetchrow(sql, *args, *own_sessions.params())
            except Exception as exc:  # noqa: BLE001 - per target: one failure does not stop the others
                error = db.translate_error(exc)
                fix = error.fix
                if error.sqlstate == "42501":
                    # pg_signal_backend never reaches a superuser's session: say what does.
                    fix = SUPERUSER_FIX if target.details.get("superuser") else SIGNAL_FIX
                outcomes.append(
                    TargetOutcome(target.label, "failed", f"{error}" + (f" — {fix}" if fix else ""))
                )
                continue
            if row is None and plan.action == CANCEL_QUERY:
                outcomes.append(await self._cancel_missed(conn, target))
            elif row is None:
                outcomes.append(TargetOutcome(target.label, "skipped", GONE))
            elif plan.action == CANCEL_QUERY and row["state"] != "active":
                outcomes.append(
                    TargetOutcome(
                        target.label,
                        "skipped",
                        f"nothing was running (the session is {row['state'] or 'not active'}): "
                        "nothing was cancelled",
                    )
                )
            elif row["signalled"]:
                outcomes.append(TargetOutcome(target.label, "done", plan.params["done_word"]))
            else:
                outcomes.append(TargetOutcome(target.label, "skipped", "already gone"))
        return outcomes

    async def _cancel_missed(self, conn: Any, target: ActionTarget) -> TargetOutcome:
        """Why a confirmed Cancel query did not act: the session is gone, or it runs another
        statement now (the outcome says which; the flow offers to cancel that one)."""
        pid = target.details["pid"]
        row = await conn.fetchrow(db.load_sql("action_session"), pid, *own_sessions.params())
        if row is None or row["backend_start"] != datetime.fromisoformat(
            target.details["backend_start"]
        ):
            return TargetOutcome(target.label, "skipped", "the session is gone: nothing to cancel")
        if row["state"] != "active":
            return TargetOutcome(
                target.label,
                "skipped",
                f"the statement you confirmed has ended and pid {pid} is {row['state']}: "
                "nothing was cancelled",
            )
        now_running = redact_query(" ".join((row["query"] or "").split()))[:200]
        return TargetOutcome(
            target.label,
            "skipped",
            f"the statement you confirmed has ended; pid {pid} now runs another one, not "
            f"cancelled: {now_running}",
            follow_up=CANCEL_QUERY,
            follow_up_target={"pid": pid, "backend_start": target.details["backend_start"]},
        )

    async def _enable_rls(self, conn: Any, plan: ActionPlan) -> list[TargetOutcome]:
        qualified = plan.params["qualified"]
        target = plan.targets[0]
        try:
            # Exactly the statement the operator confirmed (DDL takes no bind parameters; the
            # identifier was quoted by db.quote_qualified when the plan was made).
            await conn.execute(plan.params["sql"])
        except Exception as exc:  # noqa: BLE001
            error = db.translate_error(exc)
            if error.sqlstate == "55P03":
                return [await self._lock_timeout(conn, plan, target)]
            elif error.sqlstate == "42501":
                message = (
                    f"not enabled: {error} — only the table's owner (or a superuser) can ALTER it"
                )
            else:
                message = f"not enabled: {error}"
            return [TargetOutcome(target.label, "failed", message)]
        return [TargetOutcome(target.label, "done", f"RLS enabled on {qualified}")]

    async def _lock_timeout(
        self, conn: Any, plan: ActionPlan, target: ActionTarget
    ) -> TargetOutcome:
        """Enable RLS gave up on a lock: who holds it, since when, and Terminate session on the
        longest holder one key away."""
        waited = format_duration(self.config.actions.lock_timeout)
        qualified = plan.params["qualified"]
        schema, table = target.details["schema"], target.details["table"]
        try:
            holders = await conn.fetch(db.load_sql("action_lock_holders"), schema, table)
        except Exception:  # noqa: BLE001 - the failure itself is what must be said
            holders = []
        if not holders:
            return TargetOutcome(
                target.label,
                "failed",
                f"not enabled: another transaction holds a lock on {qualified} "
                f"(gave up after lock_timeout {waited}; it was released since)",
            )
        named = "; ".join(
            f"pid {h['pid']} ({h['user']}, {h['application'] or 'no application'}, "
            f"{h['state'] or '?'}, transaction open for {format_age(h['held_seconds'])}, "
            f"{h['modes']})"
            for h in holders
        )
        first = holders[0]
        return TargetOutcome(
            target.label,
            "failed",
            f"not enabled: gave up after lock_timeout {waited}: {qualified} is locked by {named}",
            follow_up=TERMINATE_SESSION,
            follow_up_target={
                "pid": first["pid"],
                "backend_start": first["backend_start"].isoformat(),
            },
        )

    async def _analyze(self, conn: Any, plan: ActionPlan) -> list[TargetOutcome]:
        target = plan.targets[0]
        try:
            await conn.execute(plan.params["sql"])  # exactly the statement confirmed
        except Exception as exc:  # noqa: BLE001
            error = db.translate_error(exc)
            return [TargetOutcome(target.label, "failed", f"{error}")]
        return [TargetOutcome(target.label, "done", "analyzed")]

    async def _post_fallback(self, plan: ActionPlan) -> TargetOutcome:
        from ..httpbounded import Answer, new_client, request  # httpx: startup time

        url = plan.params["url"]
        token = os.environ.get(self.target.emergency_token_env or "", "")
        timeout = self.config.actions.http_timeout
        async with new_client(timeout) as client:
            answer = await request(
                client,
                "POST",
                url,
                headers={"Authorization": f"Bearer {token}"},
                deadline=timeout,
            )
        if not isinstance(answer, Answer):
            said = f"timed out: {answer.detail}" if answer.kind == "timeout" else answer.detail
            return TargetOutcome(url, "failed", self._redact(said))
        said = f"HTTP {answer.status} {answer.reason}"
        if answer.cut is not None:
            said += f" ({answer.cut_detail})"
        body = self._redact(answer.snippet())
        if body:
            said += f": {body}"
        if 200 <= answer.status < 300:
            return TargetOutcome(url, "done", said)
        if 300 <= answer.status < 400:
            said += f" — redirect to {answer.headers.get('location', '?')[:120]}, not followed"
        return TargetOutcome(url, "failed", said)
