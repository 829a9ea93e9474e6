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

from .. import db
from ..config import Config, TargetConfig
from ..durations import format_age, format_duration
from ..errors import DatabaseError
from ..model import TableRls
from .audit import AuditLog
from .model import ActionError, ActionPlan, ActionResult, ActionTarget, TargetOutcome

TERMINATE_IDLE = "Terminate idle transactions"
TERMINATE_SESSION = "Terminate session"
CANCEL_QUERY = "Cancel query"
ENABLE_RLS = "Enable RLS"
RUN_ANALYZE = "Run ANALYZE"
EMERGENCY_FALLBACK = "Emergency fallback"
TEST_RESTORE = "Test restore"

SIGNAL_FIX = "GRANT pg_signal_backend TO <role>;  (or run as the session's own role)"
GONE = "already gone or changed"
FALLBACK_PATH = "/api/emergency/enable-fallback"


def _shown_sql(name: str) -> str:
    """The statement as it will run, without its leading comment lines."""
    lines = db.load_sql(name).splitlines()
    return "\n".join(line for line in lines if not line.startswith("--")).strip()


_SECRET_IN_SQL = re.compile(r"(?i)\b(password|secret|token)(\s*=?\s*)'[^']*'")


def redact_sql(text: str) -> str:
    """A session's last query may be ALTER ROLE … PASSWORD '…': never store or show the secret."""
    return _SECRET_IN_SQL.sub(r"\1\2'***'", text)


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
            "query": redact_sql(" ".join((row["query"] or "").split())[:500]),
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
            lambda c: c.fetch(db.load_sql("action_idle_in_transaction"), float(seconds))
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
        row = await self._with_conn(lambda c: c.fetchrow(db.load_sql("action_session"), pid))
        if row is None:
            raise ActionError(
                f"pid {pid} is not a client session any more (or it is this console's own)"
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
        return ActionPlan(
            action=action,
            target_name=self.target.name,
            targets=(_session_target(row),),
            statement=_shown_sql(name)
            + f"\n-- $1 = {pid}, $2 = {row['backend_start'].isoformat()} (its backend_start)",
            description=(
                "Ends the session: its open transaction is rolled back."
                if action == TERMINATE_SESSION
                else "Cancels the statement it is running; the session stays connected."
            ),
            params={"done_word": "terminated" if action == TERMINATE_SESSION else "cancelled"},
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
            warnings.append(f"RLS is already enabled on {qualified}: running it changes nothing.")
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
        if self.read_only and not plan.params.get("live_database_untouched"):
            result = ActionResult(
                plan,
                tuple(
                    TargetOutcome(t.label, "refused", "refused: read-only mode")
                    for t in plan.targets
                )
                or (TargetOutcome(plan.target_name, "refused", "refused: read-only mode"),),
                error=f"read-only: {plan.action} refused, the database was not touched",
            )
            self.audit.finished(result)
            return result
        self.audit.started(plan)  # raises ActionError if the log cannot be written: nothing runs
        started = time.monotonic()
        try:
            outcomes = await self._run(plan)
            result = ActionResult(plan, tuple(outcomes))
        except asyncio.CancelledError:
            # The operator gave up waiting (or closed the console): said in the audit log.
            self._gave_up(plan, time.monotonic() - started)
            raise
        except ActionError as exc:
            result = ActionResult(plan, (), error=self._redact(str(exc)), fix=exc.fix)
        except Exception as exc:  # noqa: BLE001 - whatever happened is recorded, never lost
            result = ActionResult(plan, (), error=self._redact(f"{type(exc).__name__}: {exc}"))
        try:
            self.audit.finished(result)
        except ActionError as exc:
            # The action ran: say so, and that its outcome could not be recorded.
            note = f"the action ran, but its outcome could not be recorded: {exc}"
            result = ActionResult(plan, result.outcomes, error=result.error or note, fix=exc.fix)
        return result

    def _gave_up(self, plan: ActionPlan, waited: float) -> None:
        message = f"gave up waiting after {format_age(waited)}" + (
            f": {plan.params['gave_up_hint']}" if plan.params.get("gave_up_hint") else ""
        )
        outcomes = tuple(TargetOutcome(t.label, "gave up", message) for t in plan.targets)
        with contextlib.suppress(ActionError):  # nothing more can be done about it here
            self.audit.finished(ActionResult(plan, outcomes, error=message))

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
            elif plan.action == TERMINATE_SESSION:
                args.append(_from_iso(target.details.get("state_change")))
            else:  # CANCEL_QUERY: only the confirmed statement
                args.append(_from_iso(target.details.get("query_start")))
            try:
                row = await conn.fetchrow(sql, *args)
            except Exception as exc:  # noqa: BLE001 - per target: one failure does not stop the others
                error = db.translate_error(exc)
                fix = SIGNAL_FIX if error.sqlstate == "42501" else error.fix
                outcomes.append(
                    TargetOutcome(target.label, "failed", f"{error}" + (f" — {fix}" if fix else ""))
                )
                continue
            if row is None:
                outcomes.append(TargetOutcome(target.label, "skipped", GONE))
            elif row["signalled"]:
                outcomes.append(TargetOutcome(target.label, "done", plan.params["done_word"]))
            else:
                outcomes.append(TargetOutcome(target.label, "skipped", "already gone"))
        return outcomes

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
                message = (
                    f"not enabled: another transaction holds a lock on {qualified} "
                    f"(gave up after lock_timeout {format_duration(self.config.actions.lock_timeout)})"
                )
            elif error.sqlstate == "42501":
                message = (
                    f"not enabled: {error} — only the table's owner (or a superuser) can ALTER it"
                )
            else:
                message = f"not enabled: {error}"
            return [TargetOutcome(target.label, "failed", message)]
        return [TargetOutcome(target.label, "done", f"RLS enabled on {qualified}")]

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
