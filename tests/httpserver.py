"""A real HTTP server on loopback for tests: each path answers what the test sets; stopped by
the test (its own server object), never by name.

Besides plain answers, a route can misbehave the way hostile or broken endpoints do: drip its
body one byte at a time, stream an endless chunked body, stream a body of any size without
holding it in memory, redirect, or answer with extra headers (Retry-After) and then change.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Route:
    status: int = 200
    body: bytes | str | Any = b""
    delay: float = 0.0
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers (Location, Retry-After…)."""
    drip: float = 0.0
    """> 0: send the headers at once, then one byte of the body every ``drip`` seconds."""
    drip_head: bool = False
    """With ``drip``: the status line and headers drip too (nothing is complete in time)."""
    repeat: int = 1
    """Send ``body`` this many times (a 200 MB answer from a 1 MB body, never held whole)."""
    chunked: bool = False
    """Send the body chunked, without a Content-Length (nothing tells the size in advance)."""
    endless: bool = False
    """Chunked, ``body`` again and again until the client goes away (or the server stops)."""
    then: Route | None = None
    """The route's answer after this one has been given once (a 429, then a 200)."""


@dataclass
class Recorder:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    """Set when the server shuts down: dripping and endless answers end."""


@contextmanager
def http_server(tls: tuple[str, str] | None = None) -> Iterator[Recorder]:
    """``tls``: (certificate file, key file) to answer over HTTPS."""
    recorder = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            recorder.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body.decode("utf-8", "replace"),
                    "at": time.monotonic(),
                }
            )
            route = recorder.routes.get(path, Route(404, b"not found", content_type="text/plain"))
            if route.then is not None:
                recorder.routes[path] = route.then
            if route.delay:
                recorder.stop.wait(route.delay)
            payload = route.body
            if not isinstance(payload, (bytes, str)):
                payload = json.dumps(payload)
            data = payload.encode() if isinstance(payload, str) else payload
            if route.drip and route.drip_head:
                self._drip_all(route, data)
                return
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                chunked = route.chunked or route.endless
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(data) * route.repeat))
                self.send_header("Connection", "close")
                self.end_headers()
                self._body(route, data, chunked)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _drip_all(self, route: Route, data: bytes) -> None:
            head = (
                f"HTTP/1.1 {route.status} X\r\nContent-Type: {route.content_type}\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
            ).encode()
            raw = head + data
            try:
                for index in range(len(raw)):
                    if recorder.stop.is_set():
                        break
                    self.wfile.write(raw[index : index + 1])
                    self.wfile.flush()
                    if recorder.stop.wait(route.drip):
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _write(self, data: bytes, chunked: bool) -> None:
            if chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                self.wfile.write(data)
            self.wfile.flush()

        def _body(self, route: Route, data: bytes, chunked: bool) -> None:
            if route.drip:
                for index in range(len(data) * route.repeat):
                    if recorder.stop.is_set():
                        return
                    self._write(data[index % len(data) : index % len(data) + 1], chunked)
                    if recorder.stop.wait(route.drip):
                        return
            elif route.endless:
                while not recorder.stop.is_set():
                    self._write(data, chunked)
                return
            else:
                for _ in range(route.repeat):
                    if recorder.stop.is_set():
                        return
                    if data:
                        self._write(data, chunked)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.base = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        recorder.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
