"""Security advisor (runbook troubleshooting 4 and the monthly security audit): RLS in the exposed
schemas, roles that bypass it, definer views, functions with a mutable search_path, and client
addresses outside ``[security] allowed_cidrs``.

Every finding has a stable key (``schema.table``, a role name, an address) so noise from objects
the user does not own can be excluded in ``[diagnose] exclude``. Must not import Textual.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from ..diagnose import Check
from ..model import Unavailable
from ..sqlident import quote_qualified
from .base import Context, Probe, finding, listed


async def check_rls_tables(ctx: Context) -> list[Check]:
    """From the snapshot's catalogue scan: policies that do not apply, RLS that denies everything."""
    rls = ctx.snapshot.rls
    if isinstance(rls, Unavailable):
        return [
            Check(c, "unknown", f"cannot check: {rls.reason}", fix=rls.fix)
            for c in ("rls.policy_without_rls", "rls.no_policies")
        ]
    schemas = ", ".join(rls.schemas)
    without = [
        {
            "key": f"{t.schema}.{t.table}",
            "schema": t.schema,
            "table": t.table,
            "policies": t.policy_count,
        }
        for t in rls.tables
        if not t.rls_enabled and t.policy_count > 0
    ]
    no_policies = [
        {"key": f"{t.schema}.{t.table}", "schema": t.schema, "table": t.table, "owner": t.owner}
        for t in rls.tables
        if t.rls_enabled and t.policy_count == 0
    ]
    return [
        finding(
            ctx,
            "rls.policy_without_rls",
            without,
            status="critical",
            found=lambda k: (
                f"{len(k)} table(s) have policies that do not apply (RLS off): "
                + listed([i["key"] for i in k])
            ),
            clean=f"no policy on a table without RLS in {schemas}",
            fix="ALTER TABLE <table> ENABLE ROW LEVEL SECURITY;  (its policies then apply)",
            action="Enable RLS",
        ),
        finding(
            ctx,
            "rls.no_policies",
            no_policies,
            status="warning",
            found=lambda k: (
                f"{len(k)} table(s) with RLS on and no policy (every API role is "
                "denied every row — the runbook's 403 on authorised operations): "
                + listed([i["key"] for i in k])
            ),
            clean=f"every table with RLS in {schemas} has a policy",
            fix="CREATE POLICY … ON <table> …;  (or disable RLS if the table is not served)",
        ),
    ]


async def check_always_true(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_always_true_policies", ctx.schemas)
    items = [
        {
            "key": f"{r['schema']}.{r['table']}.{r['policy']}",
            "table": f"{r['schema']}.{r['table']}",
            "policy": r["policy"],
            "command": r["cmd"],
            "roles": list(r["roles"] or []),
            "using": r["qual"],
            "with_check": r["with_check"],
        }
        for r in rows
    ]
    return [
        finding(
            ctx,
            "rls.always_true_policies",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} write policy(ies) that allow every row (USING/WITH CHECK true): "
                + listed([f"{i['table']}.{i['policy']}" for i in k])
            ),
            clean="no write policy is always true",
            fix="narrow USING / WITH CHECK (e.g. auth.uid() = user_id), or exclude the key if intended",
        )
    ]


async def check_bypass_roles(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_bypass_rls_roles")
    items = [
        {
            "key": r["role"],
            "role": r["role"],
            "superuser": r["superuser"],
            "bypassrls": r["bypassrls"],
        }
        for r in rows
    ]
    return [
        finding(
            ctx,
            "security.bypass_rls_roles",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} login role(s) ignore RLS (superuser or BYPASSRLS): "
                + listed([i["role"] for i in k], 8)
            ),
            clean="no login role bypasses RLS (besides the bootstrap superuser)",
            fix="ALTER ROLE <role> NOBYPASSRLS;  / NOSUPERUSER — or exclude the roles your platform needs",
        )
    ]


async def check_definer_views(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_definer_views", ctx.schemas)
    items = [
        {
            "key": f"{r['schema']}.{r['view']}",
            "view": f"{r['schema']}.{r['view']}",
            "owner": r["owner"],
            "fix": f"ALTER VIEW {quote_qualified(r['schema'], r['view'])} SET (security_invoker = true);",
        }
        for r in rows
    ]
    return [
        finding(
            ctx,
            "security.definer_views",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} view(s) run with their owner's rights and bypass the caller's RLS: "
                + listed([i["view"] for i in k])
            ),
            clean="every view in the exposed schemas runs with the caller's rights",
            fix="ALTER VIEW <view> SET (security_invoker = true);  (PostgreSQL 15+)",
        )
    ]


async def check_search_path(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_function_search_path", ctx.schemas)
    items = [
        {
            "key": f"{r['schema']}.{r['function']}",
            "function": f"{r['schema']}.{r['function']}({r['arguments']})",
            "security_definer": r["security_definer"],
            "fix": f"ALTER FUNCTION {quote_qualified(r['schema'], r['function'])}({r['arguments']}) "
            "SET search_path = '';",
        }
        for r in rows
    ]
    definer = sum(1 for i in items if i["security_definer"])
    return [
        finding(
            ctx,
            "security.function_search_path",
            items,
            status="critical" if definer else "warning",
            found=lambda k: (
                f"{len(k)} function(s) without a fixed search_path"
                + (f" ({definer} SECURITY DEFINER)" if definer else "")
                + ": "
                + listed([i["key"] for i in k])
            ),
            clean="every function in the exposed schemas fixes its search_path",
            fix="ALTER FUNCTION <fn>(<args>) SET search_path = '';  (and qualify the names it uses)",
        )
    ]


def _allowed(address: str, networks: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


async def check_unknown_clients(ctx: Context) -> list[Check]:
    check_id = "security.unknown_clients"
    cidrs = ctx.config.security.allowed_cidrs
    if not cidrs:
        return [
            Check(
                check_id,
                "unknown",
                "not checked: no [security] allowed_cidrs in the config",
                fix='set [security] allowed_cidrs = ["10.0.0.0/8", ...]: the networks your app and staff connect from',
            )
        ]
    networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    rows = await ctx.fetch("diag_client_addresses")
    items = [
        {
            "key": r["address"],
            "address": r["address"],
            "user": r["user"],
            "application": r["application"],
            "sessions": r["sessions"],
            "pid": r["pid"],
        }
        for r in rows
        if not _allowed(r["address"], networks)
    ]
    conns = ctx.snapshot.connections
    hidden = 0 if isinstance(conns, Unavailable) else conns.hidden
    note = (
        f"; {hidden} session(s) of other roles hidden (GRANT pg_read_all_stats)" if hidden else ""
    )

    def found(kept: list[dict[str, Any]]) -> str:
        # One row per address, user and application: the addresses are the distinct ones.
        addresses = sorted({i["address"] for i in kept})
        return (
            f"{sum(i['sessions'] for i in kept)} session(s) from {len(addresses)} address(es) "
            f"outside allowed_cidrs: " + listed(addresses) + note
        )

    check = finding(
        ctx,
        check_id,
        items,
        status="warning",
        found=found,
        clean=f"every client address is inside {', '.join(cidrs)}" + note,
        fix="check who they are (user, application); revoke access in pg_hba.conf / the "
        "provider's network restrictions, or add the network to [security] allowed_cidrs",
    )
    addresses = len({i["address"] for i in check.details})
    return [replace(check, value=addresses) if check.details else check]


PROBES = (
    Probe(("rls.policy_without_rls", "rls.no_policies"), check_rls_tables, quick=True),
    Probe(("security.unknown_clients",), check_unknown_clients, quick=True),
    Probe(("rls.always_true_policies",), check_always_true),
    Probe(("security.bypass_rls_roles",), check_bypass_roles),
    Probe(("security.definer_views",), check_definer_views),
    Probe(("security.function_search_path",), check_search_path),
)
