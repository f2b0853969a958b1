"""The crawler's write transactions: tried again when the database is busy, and
carried to their end when the worker is stopped.

Many visits write at once. SQLite lets one writer in at a time and may refuse a
transaction at once ("database is locked"); PostgreSQL may pick a transaction as a
deadlock victim. Both are worth a second try: every crawler transaction is short and
can be run again. A worker is stopped by cancelling its task; a transaction cancelled
halfway could leave its connection (and SQLite's write lock) held until the engine is
disposed, so each one is shielded and finishes (commit or rollback) on its own.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.runtime import Runtime

T = TypeVar("T")
ATTEMPTS = 8


async def write(rt: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in its own transaction, again (after a short random pause) if busy."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await _shielded(rt, work)
        except OperationalError:
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


async def _shielded(rt: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def transaction() -> T:
        async with rt.sessions.begin() as session:
            return await work(session)

    task = asyncio.ensure_future(transaction())
    # If we are cancelled, the transaction still ends; its outcome is then nobody's.
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return await asyncio.shield(task)
