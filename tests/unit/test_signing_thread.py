"""SigningThread: work done beside the event loop, answered in order, errors raised."""

from __future__ import annotations

import asyncio
import threading
from functools import partial

import pytest

from federation.transport.signing import SigningThread


async def test_results_come_back_to_their_callers() -> None:
    signing = SigningThread()
    loop_thread = threading.get_ident()

    def job(n: int) -> tuple[int, bool]:
        return n * n, threading.get_ident() != loop_thread

    try:
        results = await asyncio.gather(*(signing.run(partial(job, n)) for n in range(50)))
    finally:
        signing.close()
    assert results == [(n * n, True) for n in range(50)]


async def test_an_error_is_raised_in_the_caller_and_the_thread_goes_on() -> None:
    signing = SigningThread()

    def broken() -> str:
        raise ValueError("keyId must not contain quotes")

    try:
        with pytest.raises(ValueError, match="keyId"):
            await signing.run(broken)
        assert await signing.run(lambda: "next") == "next"
    finally:
        signing.close()


async def test_a_closed_thread_starts_again_when_needed() -> None:
    signing = SigningThread()
    assert await signing.run(lambda: 1) == 1
    signing.close()
    assert await signing.run(lambda: 2) == 2
    signing.close()
