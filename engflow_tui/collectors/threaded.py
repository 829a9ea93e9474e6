"""A snapshot source that runs on an event loop of its own, in a thread.

The console's collector lives there: connecting, waiting on the server and decoding its answers
never hold up the UI's loop, and the first connection and query can start before the UI has
even been imported (see ``start``), so that they overlap the start-up instead of following it.

Everything the UI calls goes through this wrapper: coroutines are run on the collector's loop
(their result, exception or cancellation comes back), plain calls are handed to that loop.

Must not import Textual.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from ..model import Snapshot


class ThreadedSource:
    """Runs ``make()``'s source on a private event loop in a daemon thread."""

    def __init__(self, make: Callable[[], Any], *, name: str = "collector") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._first: concurrent.futures.Future[Snapshot] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, args=(make,), name=name, daemon=True)
        self._thread.start()

    def _run(self, make: Callable[[], Any]) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            source = make()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the source
            self._ready.set_exception(exc)
        else:
            self._ready.set_result(source)
        try:
            self._loop.run_forever()
            # Stopped by close(): whatever is still under way is cancelled, then the loop ends.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self._loop.close()

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def start(self) -> ThreadedSource:
        """Begin the first collect now; the first ``collect()`` returns it."""
        if self._first is None:
            self._first = self._submit(self._collect_inner())
        return self

    async def _collect_inner(self) -> Snapshot:
        # Set before the loop runs, so this never blocks (and raises what make() raised).
        return await self._ready.result().collect()

    async def collect(self) -> Snapshot:
        if self._closed:
            raise RuntimeError("the collector is closed")
        first, self._first = self._first, None
        future = first if first is not None else self._submit(self._collect_inner())
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._first is not None:
            self._first.cancel()
            self._first = None
        try:
            try:
                source = await asyncio.wrap_future(self._ready)
            except Exception:  # noqa: BLE001 - never built: nothing to close
                source = None
            if source is not None:
                await asyncio.wrap_future(self._submit(source.close()))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 5.0)

    def _call(self, name: str, *args: Any) -> None:
        if self._closed:
            return

        def call() -> None:
            getattr(self._ready.result(), name)(*args)

        self._loop.call_soon_threadsafe(call)

    def force_refresh(self) -> None:
        self._call("force_refresh")

    def set_session_filter(self, text: str) -> None:
        self._call("set_session_filter", text)

    @property
    def connected(self) -> bool:
        ready = self._ready
        return bool(ready.done() and ready.exception() is None and ready.result().connected)
