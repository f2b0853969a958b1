"""Waiting for work: an event set by whoever queued it, or a poll interval."""

from __future__ import annotations

import asyncio


async def wait_for_work(event: asyncio.Event, poll_seconds: float) -> None:
    """Return when `event` is set or after `poll_seconds`, whichever comes first.

    `asyncio.timeout` rather than `wait_for`: on Python 3.11, wait_for can turn a
    cancellation that races with its timeout into a TimeoutError, and a loop that
    ignores timeouts would then never stop.
    """
    event.clear()
    try:
        async with asyncio.timeout(poll_seconds):
            await event.wait()
    except TimeoutError:
        return
