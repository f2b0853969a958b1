"""The per-host token bucket: a burst, then the rate, host by host."""

from __future__ import annotations

import pytest

from federation.network.politeness import HostRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_request_per_interval_per_host() -> None:
    clock = Clock()
    limiter = HostRateLimiter(rate=2.0, burst=3.0, monotonic=clock)
    # Three at once, then each waits its turn: 0.5 s apart.
    assert [limiter.reserve("a.example") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [limiter.reserve("a.example") for _ in range(3)] == [0.5, 1.0, 1.5]
    # Another host has its own bucket.
    assert limiter.reserve("b.example") == 0.0
    # After the queue has drained, the bucket refills to the burst, no further.
    clock.now = 100.0
    assert [limiter.reserve("a.example") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_never_more_than_burst_plus_rate_times_span() -> None:
    clock = Clock()
    limiter = HostRateLimiter(rate=5.0, monotonic=clock)
    sent: list[float] = []
    for _ in range(200):
        clock.now += 0.013
        sent.append(clock.now + limiter.reserve("h"))
    for start in sent:
        within = [t for t in sent if start <= t < start + 1.0]
        assert len(within) <= limiter.burst + limiter.rate * 1.0


def test_idle_buckets_are_forgotten_and_rate_must_be_positive() -> None:
    clock = Clock()
    limiter = HostRateLimiter(rate=1.0, monotonic=clock)
    for i in range(2000):
        limiter.reserve(f"h{i}")
        clock.now += 0.01
    clock.now += 10
    limiter.reserve("last")
    assert len(limiter._buckets) < 1024
    with pytest.raises(ValueError, match="positive"):
        HostRateLimiter(rate=0)


async def test_acquire_waits_for_its_turn() -> None:
    clock = Clock()
    limiter = HostRateLimiter(rate=1000.0, burst=1.0, monotonic=clock)
    await limiter.acquire("h")  # at once
    await limiter.acquire("h")  # about a millisecond later
