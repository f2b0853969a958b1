"""SigningThread: HTTP signatures computed beside the event loop, not on it.

An RSA-2048 signature costs about a quarter of a millisecond, and `cryptography`
releases the GIL while it computes one: in a thread of its own, signing runs on
another core while the event loop sends, reads and records. A fan-out then costs
about the time of its signatures instead of their time plus everything else.

One thread: the event loop keeps one core busy during a fan-out, the signatures a
second; more signing threads would take the loop's core on a small machine.

Jobs are taken in order and answered in batches: the thread wakes the event loop
once for all the results ready since its last wake-up, not once per signature. A
job is signed when the thread reaches it, so with the few dozen requests a worker
has in flight the Date it signs is milliseconds old when the request leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]
Outcome = tuple["asyncio.Future[Any]", bool, Any]  # future, failed, result or error


class SigningThread:
    def __init__(self, name: str = "declics-signing") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Results not handed back yet, per event loop (one in practice).
        self._done: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` computed in the signing thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put((loop, future, work))
        return await future

    def close(self) -> None:
        """Let the thread end once the jobs already queued are done."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, work = job
            try:
                outcome: Outcome = (future, False, work())
            except Exception as err:  # noqa: BLE001 - raised again in the awaiting task
                outcome = (future, True, err)
            with self._lock:
                waiting = self._done.setdefault(loop, [])
                waiting.append(outcome)
                first = len(waiting) == 1
            if first:
                # The loop may be closed already (shutdown): its results are moot.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._hand_back, loop)

    def _hand_back(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            outcomes = self._done.pop(loop, [])
        for future, failed, value in outcomes:
            if future.cancelled():
                continue
            if failed:
                future.set_exception(value)
            else:
                future.set_result(value)
