"""Politeness: at most so many requests per second to one host (a token bucket each).

A bucket holds up to `burst` tokens (one by default: requests are evenly spaced) and
refills at `rate` per second; a request takes one token, or waits for it. Over any
span of T seconds a host therefore gets at most `burst + rate × T` requests from this
process. Buckets live in memory: several
crawling processes each keep their own pace (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    updated: float


class HostRateLimiter:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else 1.0)
        self._monotonic = monotonic
        self._buckets: dict[str, Bucket] = {}
        self._swept = monotonic()

    def reserve(self, host: str) -> float:
        """Take a token for `host` now; the seconds to wait before using it (0: at once).

        Tokens may go negative: each caller reserves its own slot in the queue, so
        waiting callers are served in order and never more than the rate allows.
        """
        now = self._monotonic()
        bucket = self._buckets.get(host)
        if bucket is None:
            bucket = self._buckets[host] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        bucket.tokens -= 1.0
        self._forget_full(now)
        return 0.0 if bucket.tokens >= 0 else -bucket.tokens / self.rate

    async def acquire(self, host: str) -> None:
        delay = self.reserve(host)
        if delay > 0:
            await asyncio.sleep(delay)

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information (memory stays bounded).
        At most once a second, and only when there are many."""
        if len(self._buckets) < 1024 or now - self._swept < 1.0:
            return
        self._swept = now
        for host, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst:
                del self._buckets[host]
