"""A snapshot source that always returns the same records: deterministic layout tests.

Not a database mock: it stands where the collector stands (SnapshotSource), and feeds the same
records a real probe produces.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engflow_tui.model import (
    ConnectionStats,
    DbState,
    Health,
    RlsStatus,
    SessionRow,
    SlowQueries,
    SlowQuery,
    Snapshot,
    TableRls,
)

TAKEN_AT = datetime(2026, 11, 29, 3, 12, 0, tzinfo=UTC)


def sample_snapshot() -> Snapshot:
    start = TAKEN_AT - timedelta(hours=3)

    def s(
        pid: int, user: str, app: str, state: str, age: float, query: str, wait: str | None = None
    ) -> SessionRow:
        return SessionRow(pid, user, app, "10.0.0.7", state, start, age, age, age, wait, query)

    sessions = (
        s(
            4242,
            "engflow_api",
            "engflow-batch",
            "idle in transaction",
            2712.0,
            "UPDATE public.clientes SET nome = $1 WHERE id = $2",
        ),
        s(
            4250,
            "engflow_api",
            "engflow-api",
            "idle in transaction",
            95.0,
            "SELECT * FROM public.orcamentos WHERE id = $1 FOR UPDATE",
        ),
        s(
            4301,
            "engflow_reports",
            "engflow-reports",
            "active",
            4.2,
            "SELECT c.nome, sum(o.valor) FROM public.clientes c JOIN public.projetos p ON p.cliente_id = c.id JOIN public.orcamentos o ON o.projeto_id = p.id GROUP BY 1",
            "IO:DataFileRead",
        ),
        s(
            4310,
            "engflow_api",
            "engflow-api",
            "active",
            0.1,
            "INSERT INTO public.anexos (projeto_id, arquivo) VALUES ($1, $2)",
        ),
        s(4400, "engflow_api", "engflow-api-pool", "idle", 61.0, "SELECT 1"),
        s(4401, "engflow_api", "engflow-api-pool", "idle", 59.0, "COMMIT"),
    )
    return Snapshot(
        target="production",
        taken_at=TAKEN_AT,
        health=Health(
            state=DbState.CONNECTED,
            latency_ms=3.2,
            server_version="18.6",
            server_version_num=180006,
            uptime_seconds=86400 * 12 + 3600 * 5,
            database="postgres",
            database_size_bytes=8_912_345_678,
            cache_hit_pct=97.4,
            xact_commit=1000,
            xact_rollback=3,
        ),
        connections=ConnectionStats(
            total=84,
            max_connections=100,
            reserved=3,
            by_state={"active": 2, "idle": 80, "idle in transaction": 2},
            oldest_idle_in_transaction_seconds=2712.0,
            sessions=sessions,
            sessions_truncated=78,
            # What the server counts over every session (the collector's activity probe).
            idle_in_transaction_over=1,
            idle_in_transaction_pids=(4242,),
            idle_threshold=1800.0,
            long_running=0,
            long_running_threshold=300.0,
        ),
        slow_queries=SlowQueries(
            threshold_ms=100.0,
            queries=(
                SlowQuery(
                    1,
                    "SELECT c.nome, sum(o.valor) FROM public.clientes c JOIN public.orcamentos o ON true GROUP BY 1",
                    120,
                    2450.5,
                    294060.0,
                    2400,
                ),
                SlowQuery(
                    2,
                    "SELECT * FROM public.anexos WHERE projeto_id = $1 ORDER BY enviado_em DESC",
                    98211,
                    180.2,
                    17697622.2,
                    982110,
                ),
            ),
            extension_version="1.12",
        ),
        rls=RlsStatus(
            schemas=("public",),
            tables=(
                TableRls("public", "Orçamentos Antigos", False, False, 0, "postgres"),
                TableRls("public", "anexos", True, False, 2, "postgres"),
                TableRls("public", "clientes", True, True, 2, "postgres"),
                TableRls("public", "projetos", True, False, 0, "postgres"),
            ),
        ),
    )


class FixedSource:
    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.snapshot = snapshot or sample_snapshot()

    async def collect(self) -> Snapshot:
        return self.snapshot

    async def close(self) -> None:
        return None

    def force_refresh(self) -> None:
        return None
