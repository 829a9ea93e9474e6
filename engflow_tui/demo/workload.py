"""Synthetic EngFlow workload for the demo: API traffic, slow reports, an idle pool, a session
that sits idle in transaction, and the odd rolled-back transaction.

Run as ``python -m engflow_tui.demo.workload DSN_TEMPLATE`` (``{user}`` in the DSN is replaced by
the role). Stops by itself when its parent process goes away. Must not import Textual.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

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
                    rnd.randint(1, 1000),
                    f"foto-{rnd.randint(1, 10**6)}.jpg",
                    rnd.randint(1000, 10**6),
                )
            else:
                async with conn.transaction():
                    await conn.execute(
                        "UPDATE public.projetos SET status = status WHERE id = $1",
                        rnd.randint(1, 1000),
                    )
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
        await conn.execute(
            "UPDATE public.clientes SET nome = nome WHERE id = $1", random.randint(1, 200)
        )
        await asyncio.sleep(random.uniform(120, 240))  # past the demo's 30 s threshold: try T
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
        except Exception as exc:  # noqa: BLE001 - a pool survives whatever a killed session raises
            # Not only connection errors: a session terminated in the middle of a statement can
            # surface as asyncpg's InternalClientError ("cannot switch to state …"); the demo's
            # workload must outlive every Terminate the operator tries on it.
            print(f"{name}: {type(exc).__name__}, reconnecting", file=sys.stderr)
            await asyncio.sleep(1.0)


class FakeApplication:
    """The EngFlow application as the console sees it: /health, a REST count and the emergency
    fallback endpoint, on a loopback port (stdlib HTTP server in a thread)."""

    def __init__(self, port: int, db_port: int, token: str) -> None:
        self.clientes = 0
        self.fallback = False
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                time.sleep(random.uniform(0.01, 0.06))  # a plausible response time
                if self.path == "/health":
                    up = _port_open(db_port)
                    self._send(
                        200 if up else 503,
                        {
                            "status": "healthy" if up else "unhealthy",
                            "database": "connected" if up else "disconnected",
                            "version": "2.0.0",
                            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "fallback": app.fallback,
                        },
                    )
                elif self.path.startswith("/rest/v1/clientes"):
                    self._send(200, [{"count": app.clientes}])
                else:
                    self._send(404, {"message": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                if self.path != "/api/emergency/enable-fallback":
                    self._send(404, {"message": "not found"})
                elif self.headers.get("Authorization") != f"Bearer {token}":
                    self._send(401, {"message": "invalid emergency token"})
                else:
                    app.fallback = True
                    self._send(200, {"fallback": "enabled", "mode": "localStorage"})

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def count_clientes(self, dsn: str) -> None:
        conn = await _connect(dsn, "engflow_reports", "engflow-rest")
        while True:
            self.clientes = await conn.fetchval("SELECT count(*) FROM public.clientes")
            await asyncio.sleep(5)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(1)
    raise SystemExit(0)


async def main(dsn: str, app_port: int | None = None) -> None:
    parent = os.getppid()
    app_tasks = []
    if app_port:
        db_port = int(dsn.split("@127.0.0.1:", 1)[1].split("/", 1)[0])
        fake = FakeApplication(
            app_port, db_port, os.environ.get("ENGFLOW_DEMO_TOKEN", "demo-token")
        )
        app_tasks.append(asyncio.create_task(resilient("rest", lambda: fake.count_clientes(dsn))))
    tasks = app_tasks + [
        asyncio.create_task(watch_parent(parent)),
        asyncio.create_task(resilient("pool", lambda: idle_pool(dsn, 12))),
    ]
    tasks += [
        asyncio.create_task(resilient("api", lambda n=n: api_worker(dsn, n))) for n in range(4)
    ]
    tasks += [
        asyncio.create_task(resilient("reports", lambda: report_worker(dsn))) for _ in range(2)
    ]
    tasks.append(asyncio.create_task(resilient("batch", lambda: idle_in_transaction_worker(dsn))))
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        task.result()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
    except (KeyboardInterrupt, SystemExit):
        pass
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"demo workload stopped: {exc}", file=sys.stderr)
