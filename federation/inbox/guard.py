"""Inbox load limits: rate per sender, requests in flight, and backlog. Pure, in memory.

Three token buckets, each a bounded LRU map (memory stays flat whatever the number of
senders; a sender pushed out starts again with a full bucket, which costs an attacker
`max_entries` other identities first):

- per client **address**, before anything is read: the one identity that cannot be
  forged, it protects the signature check and the key fetches it may cause;
- per remote **host** and per **actor** (the signing key's owner), after the signature
  is verified, so nobody can spend another's budget.

A refusal is 429 with Retry-After. Besides, at most `max_concurrent` requests are
inside intake at once, and intake stops taking activities when `max_backlog` wait for
the inbox worker: both answer 503 with Retry-After at once rather than queueing.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from federation.errors import TooManyRequests, Unavailable
from federation.settings import InboxSettings

# How long a backlog count is trusted before it is read again.
BACKLOG_REFRESH_SECONDS = 1.0
BUSY_RETRY_AFTER = 5


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per key, at most `max_entries` keys (least recently used go)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        max_entries: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.max_entries = max(1, max_entries)
        self._monotonic = monotonic
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one token for `key`: 0 when allowed, else the seconds until one is free."""
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            while len(self._buckets) > self.max_entries:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def _refuse_if_waiting(wait: float, who: str) -> None:
    if wait > 0:
        raise TooManyRequests(f"too many requests from {who}; slow down", math.ceil(wait))


class InboxGuard:
    def __init__(
        self, settings: InboxSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._monotonic = monotonic
        entries = settings.rate_limit_entries
        self.addresses = TokenBuckets(
            settings.per_address_per_second, settings.per_address_burst, entries, monotonic
        )
        self.hosts = TokenBuckets(
            settings.per_host_per_second, settings.per_host_burst, entries, monotonic
        )
        self.actors = TokenBuckets(
            settings.per_actor_per_second, settings.per_actor_burst, entries, monotonic
        )
        self.in_flight = 0
        self._backlog = 0
        self._backlog_read_at = -math.inf

    def admit_address(self, address: str) -> None:
        _refuse_if_waiting(self.addresses.take(address), "this address")

    def admit_sender(self, actor: str, host: str) -> None:
        _refuse_if_waiting(self.hosts.take(host), host)
        _refuse_if_waiting(self.actors.take(actor), "this actor")

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the `max_concurrent` intake places, or refuse with 503 at once."""
        if self.in_flight >= self._settings.max_concurrent:
            raise Unavailable("the server is busy; try again later", BUSY_RETRY_AFTER)
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def check_backlog(self, count: Callable[[], Awaitable[int]]) -> None:
        """503 when too many received activities wait; `count` is read once a second."""
        now = self._monotonic()
        if now - self._backlog_read_at >= BACKLOG_REFRESH_SECONDS:
            self._backlog_read_at = now
            self._backlog = await count()
        if self._backlog >= self._settings.max_backlog:
            raise Unavailable(
                "too many activities wait to be processed; try again later", BUSY_RETRY_AFTER
            )
