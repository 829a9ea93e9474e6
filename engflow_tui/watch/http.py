"""The watcher's HTTP endpoint: ``GET /metrics`` (Prometheus) and ``GET /healthz``.

A small HTTP/1.1 server on asyncio (one request per connection, then closed): a request line
and headers of at most 8 KiB, read within 5 seconds, at most 32 connections at once; anything
else is answered 400, 404, 405, 408 or 503 and closed. It serves the watcher's own state only,
reads no body and runs no query. No Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

HEADER_LIMIT = 8192
READ_DEADLINE = 5.0
MAX_CONNECTIONS = 32
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


Route = Callable[[], Reply | Awaitable[Reply]]
"""Makes the reply; a coroutine function may do its work off the event loop."""


class Endpoint:
    """Serves ``routes`` (path -> a function making the reply) on ``host:port``."""

    def __init__(self, host: str, port: int, routes: dict[str, Route]) -> None:
        self.host, self.port, self.routes = host, port, routes
        self._server: asyncio.Server | None = None
        self._open = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, reuse_address=True, limit=HEADER_LIMIT
        )
        sockets = self._server.sockets or ()
        if sockets:
            self.port = sockets[0].getsockname()[1]  # port 0: the one the system chose

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open += 1
        try:
            if self._open > MAX_CONNECTIONS:
                reply, head = Reply(503, b"too many connections\n"), False
            else:
                reply, head = await self._answer(reader)
            await self._write(writer, reply, head)
        except (ConnectionError, OSError):
            pass  # the client went away
        finally:
            self._open -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[Reply, bool]:
        try:
            async with asyncio.timeout(READ_DEADLINE):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            return Reply(408, b"request timeout\n"), False
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return Reply(400, b"bad request\n"), False
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return Reply(400, b"bad request\n"), False
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        route = self.routes.get(path)
        if route is None:
            return Reply(404, b"not found: try /metrics or /healthz\n"), method == "HEAD"
        if method not in ("GET", "HEAD"):
            return Reply(405, b"method not allowed\n"), False
        try:
            reply = route()
            if inspect.isawaitable(reply):
                reply = await reply
            return reply, method == "HEAD"
        except Exception as exc:  # noqa: BLE001 - a bug must not end the server
            return Reply(500, f"{type(exc).__name__}\n".encode()), method == "HEAD"

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, reply: Reply, head_only: bool) -> None:
        reason = REASONS.get(reply.status, "Error")
        headers = (
            f"HTTP/1.1 {reply.status} {reason}\r\n"
            f"Content-Type: {reply.content_type}\r\n"
            f"Content-Length: {len(reply.body)}\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(headers.encode("latin-1") + (b"" if head_only else reply.body))
        await asyncio.wait_for(writer.drain(), READ_DEADLINE)
