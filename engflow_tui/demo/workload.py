"""Synthetic EngFlow workload for the demo: API traffic, slow reports, an idle pool, a session
that sits idle in transaction, and the odd rolled-back transaction.

Run as ``python -m engflow_tui.demo.workload DSN_TEMPLATE`` (``{user}`` in the DSN is replaced by
the role). Stops by itself when its parent process goes away. Must not import Textual.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Awaitable, Callable

import asyncpg

REPORT_SQL = """
WITH pause AS MATERIALIZED (SELECT pg_sleep($1))  -- once per report, not once per group
SELECT c.nome, count(DISTINCT p.id) AS projetos, sum(o.valor) AS total,
       sum(i.quantidade * i.preco_unitario) AS materiais
  FROM pause, public.clientes c
  JOIN public.projetos p ON p.cliente_id = c.id
  JOIN public.orcamentos o ON o.projeto_id = p.id
  LEFT JOIN public.itens_orcamento i ON i.orcamento_id = o.id
 GROUP BY c.nome
 ORDER BY total DESC
 LIMIT 20
"""


async def _connect(dsn_template: str, user: str, app: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn_template.format(user=user), server_settings={"application_name": app}, timeout=5
    )


async def api_worker(dsn: str, n: int) -> None:
    conn = await _connect(dsn, "engflow_api", "engflow-api")
    rnd = random.Random(n)
    while True:
        kind = rnd.random()
        try:
            if kind < 0.6:
                await conn.fetch(
                    "SELECT o.id, o.descricao, o.valor FROM public.orcamentos o WHERE o.projeto_id = $1",
                    rnd.randint(1, 1000),
                )
            elif kind < 0.85:
                await conn.execute(
                    "UPDATE public.orcamentos SET valor = valor + 1, atualizado_em = now() WHERE id = $1",
                    rnd.randint(1, 5000),
                )
            elif kind < 0.97:
                await conn.execute(
                    "INSERT INTO public.anexos (projeto_id, arquivo, tamanho_bytes) VALUES ($1, $2, $3)",
                    rnd.randint(1, 1000), f"foto-{rnd.randint(1, 10**6)}.jpg", rnd.randint(1000, 10**6),
                )
            else:
                async with conn.transaction():
                    await conn.execute("UPDATE public.projetos SET status = status WHERE id = $1", rnd.randint(1, 1000))
                    await conn.execute("SELECT 1/0")  # a failing request: counts as a rollback
        except asyncpg.PostgresError:
            pass
        await asyncio.sleep(rnd.uniform(0.05, 0.4))


async def report_worker(dsn: str) -> None:
    conn = await _connect(dsn, "engflow_reports", "engflow-reports")
    while True:
        await conn.fetch(REPORT_SQL, random.uniform(0.15, 0.6))
        await asyncio.sleep(random.uniform(2, 6))


async def idle_in_transaction_worker(dsn: str) -> None:
    """A buggy client: opens a transaction, touches a row, then forgets about it for a while."""
    conn = await _connect(dsn, "engflow_api", "engflow-batch")
    while True:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("UPDATE public.clientes SET nome = nome WHERE id = $1", random.randint(1, 200))
        await asyncio.sleep(random.uniform(45, 90))
        await tx.rollback()
        await asyncio.sleep(random.uniform(5, 15))


async def idle_pool(dsn: str, size: int) -> None:
    conns = [await _connect(dsn, "engflow_api", "engflow-api-pool") for _ in range(size)]
    while True:  # a pool pings its idle connections now and then; a killed one is replaced
        await asyncio.sleep(5)
        for i, conn in enumerate(conns):
            if conn.is_closed():
                conns[i] = await _connect(dsn, "engflow_api", "engflow-api-pool")


async def resilient(name: str, worker: Callable[[], Awaitable[None]]) -> None:
    """Run a worker forever, reconnecting like an application pool when its session is killed
    (e.g. by the console's Terminate actions) or the server restarts."""
    while True:
        try:
            await worker()
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError,
                asyncpg.AdminShutdownError, asyncpg.QueryCanceledError) as exc:
            print(f"{name}: {type(exc).__name__}, reconnecting", file=sys.stderr)
            await asyncio.sleep(1.0)


async def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(1)
    raise SystemExit(0)


async def main(dsn: str) -> None:
    parent = os.getppid()
    tasks = [
        asyncio.create_task(watch_parent(parent)),
        asyncio.create_task(resilient("pool", lambda: idle_pool(dsn, 12))),
    ]
    tasks += [asyncio.create_task(resilient("api", lambda n=n: api_worker(dsn, n))) for n in range(4)]
    tasks += [asyncio.create_task(resilient("reports", lambda: report_worker(dsn))) for _ in range(2)]
    tasks.append(asyncio.create_task(resilient("batch", lambda: idle_in_transaction_worker(dsn))))
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        task.result()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except (KeyboardInterrupt, SystemExit):
        pass
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"demo workload stopped: {exc}", file=sys.stderr)
