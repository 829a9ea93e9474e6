"""What every diagnostic section shares: the context a check runs in, exclusions, and turning a
failed query into an honest ``unknown`` check ("cannot see ...", with the GRANT that fixes it).

Must not import Textual.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import db
from ..config import Config, TargetConfig
from ..diagnose import Check, is_excluded
from ..durations import format_duration
from ..model import Snapshot

SYSTEM_GRANT = "GRANT pg_monitor TO <monitoring role>;"


@dataclass
class Context:
    """One diagnosis run: the diagnostic connection, the snapshot taken just before, the config."""

    conn: Any
    config: Config
    target: TargetConfig
    snapshot: Snapshot
    version_num: int
    quick: bool = False
    exclude: frozenset[str] = field(default_factory=frozenset)
    clock: Callable[[], float] = time.monotonic
    """For the time budgets (a test gives its own)."""

    @property
    def schemas(self) -> list[str]:
        return list(self.target.exposed_schemas)

    async def fetch(self, name: str, *args: Any) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(db.load_sql(name, self.version_num), *args)
        return [dict(r) for r in rows]

    async def fetchrow(self, name: str, *args: Any) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(db.load_sql(name, self.version_num), *args)
        return dict(row) if row is not None else None

    def keep(
        self, check_id: str, items: Iterable[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], int]:
        """The items not excluded by config (each item carries its stable ``key``), and how many were."""
        kept, dropped = [], 0
        for item in items:
            if is_excluded(self.exclude, check_id, item.get("key")):
                dropped += 1
            else:
                kept.append(item)
        return kept, dropped


def listed(names: Sequence[str], most: int = 5, sep: str = ", ") -> str:
    """The first ``most`` names and how many more ("a, b, c, d, e and 1 more"): a summary that
    counts 6 never names 5 as if they were all."""
    shown = sep.join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def fill_template(sql: str, values: dict[str, str]) -> str:
    """Put quoted identifiers into a template in one pass (a name containing ``{x}`` stays as is)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), sql)


def failed_check(check_id: str, exc: BaseException, config: Config) -> Check:
    """A check whose query failed: unknown, and why, in words an operator can act on."""
    error = db.translate_error(exc)
    if error.sqlstate == "42501":
        return Check(
            check_id,
            "unknown",
            f"cannot see: {error}",
            fix=SYSTEM_GRANT + "  (or GRANT SELECT on what it names)",
        )
    if error.sqlstate in ("57014", "timeout"):
        limit = format_duration(config.diagnose.statement_timeout)
        return Check(
            check_id,
            "unknown",
            f"timed out after {limit}: the server is busy or the catalogue is large",
            fix="raise diagnose.statement_timeout, or run the full diagnosis off-peak",
        )
    return Check(check_id, "unknown", f"check failed: {error}", fix=error.fix)


def finding(
    ctx: Context,
    check_id: str,
    items: Sequence[dict[str, Any]],
    *,
    status: str,
    found: Callable[[list[dict[str, Any]]], str],
    clean: str,
    fix: str | None = None,
    action: str | None = None,
    value: Any = None,
) -> Check:
    """The usual shape: a list of findings (after exclusions); any left -> ``status``."""
    kept, dropped = ctx.keep(check_id, items)
    suffix = f" ({dropped} excluded by config)" if dropped else ""
    return Check(
        check_id,
        status if kept else "ok",
        (found(kept) if kept else clean) + suffix,
        len(kept) if value is None else value,
        details=kept,
        fix=fix if kept else None,
        action=action if kept else None,
        excluded=dropped,
    )


CheckFn = Callable[[Context], Awaitable[list[Check]]]


@dataclass(frozen=True, slots=True)
class Probe:
    """One diagnostic function and the check ids it produces (to report them when it fails)."""

    ids: tuple[str, ...]
    run: CheckFn
    quick: bool = False
    """Cheap enough for ``diagnose --quick``."""


async def run_probe(ctx: Context, probe: Probe) -> list[Check]:
    try:
        return await probe.run(ctx)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - one failed check never stops the diagnosis
        return [failed_check(check_id, exc, ctx.config) for check_id in probe.ids]


def size_text(n: int | float | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
