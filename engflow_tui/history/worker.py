"""The store's own thread: every read and write of a target's history runs there, so neither the
UI nor the poll loop ever waits on disk. ``submit(fn)`` returns a concurrent Future; async callers
``await asyncio.wrap_future(...)`` or check ``done()`` at the next poll.

Must not import Textual.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ..config import HistoryConfig
from .store import HistoryStore, StoreUnavailable, _utcnow

T = TypeVar("T")


class StoreThread:
    def __init__(
        self,
        path: Path,
        settings: HistoryConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.path = path
        self._settings = settings
        self._clock = clock
        self._queue: queue.Queue[tuple[Callable[[HistoryStore], Any], Future[Any]] | None] = (
            queue.Queue()
        )
        self._problems: list[str] = []
        self._reported: set[str] = set()
        """Problems already handed out: a broken disk says so once, not at every sample."""
        self._lock = threading.Lock()
        self.store: HistoryStore | None = None
        self._thread = threading.Thread(target=self._run, name=f"history-{path.name}", daemon=True)
        self._thread.start()

    def _report(self, problem: str | None) -> None:
        if problem:
            with self._lock:
                if problem not in self._reported:
                    self._reported.add(problem)
                    self._problems.append(problem)

    def take_problems(self) -> list[str]:
        with self._lock:
            out, self._problems = self._problems, []
        return out

    def _run(self) -> None:
        try:
            self.store = HistoryStore(self.path, self._settings, clock=self._clock)
            self._report(self.store.problem)
            self.store.problem = None
        except StoreUnavailable as exc:
            self._report(f"{exc}: history is not kept this session")
        while True:
            item = self._queue.get()
            if item is None:
                break
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            if self.store is None:
                future.set_result(None)
                continue
            try:
                future.set_result(fn(self.store))
            except Exception as exc:  # noqa: BLE001 - a failed read must not stop the thread
                future.set_exception(exc)
            self._report(self.store.problem)
            self.store.problem = None
        if self.store is not None:
            self.store.close()

    def submit(self, fn: Callable[[HistoryStore], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((fn, future))
        return future

    def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued, then close the file (blocking: call it via to_thread)."""
        self._queue.put(None)
        self._thread.join(timeout)

    async def ask(self, fn: Callable[[HistoryStore], T]) -> T:
        """Run ``fn(store)`` on the store's thread and await its result (None when the store
        could not be opened), e.g. ``await thread.ask(lambda s: user_activity(s, now))``."""
        import asyncio

        return await asyncio.wrap_future(self.submit(fn))
