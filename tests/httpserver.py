"""A real HTTP server on loopback for tests: each path answers what the test sets; stopped by
the test (its own server object), never by name."""

from __future__ import annotations

import http.server
import json
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


@dataclass
class Recorder:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""


@contextmanager
def http_server() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body.decode("utf-8", "replace"),
                }
            )
            route = recorder.routes.get(
                self.path.split("?")[0], Route(404, b"not found", content_type="text/plain")
            )
            if route.delay:
                time.sleep(route.delay)
            payload = route.body
            if not isinstance(payload, (bytes, str)):
                payload = json.dumps(payload)
            data = payload.encode() if isinstance(payload, str) else payload
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
