"""Rate limits, the intake's load limits and the delivery breaker: right and bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from federation.delivery.breaker import HostBreaker
from federation.errors import TooManyRequests, Unavailable
from federation.inbox.guard import InboxGuard, TokenBuckets
from federation.settings import InboxSettings
from federation.vocab import limits
from federation.vocab.normalize import ProtocolError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, max_entries=10, monotonic=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now = 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0  # another key has its own bucket


def test_buckets_stay_bounded_whatever_the_number_of_senders() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, max_entries=100, monotonic=Clock())
    for i in range(100_000):
        buckets.take(f"sender-{i}")
    assert len(buckets) == 100


def test_recently_seen_sender_is_kept_over_older_ones() -> None:
    buckets = TokenBuckets(rate=0.001, burst=1, max_entries=2, monotonic=Clock())
    buckets.take("noisy")
    buckets.take("other")
    buckets.take("noisy")  # refused, and now the most recent
    buckets.take("third")  # pushes "other" out, not "noisy"
    assert buckets.take("noisy") > 0


def test_guard_refuses_with_retry_after() -> None:
    clock = Clock()
    settings = replace(InboxSettings(), per_actor_burst=1, per_actor_per_second=0.1)
    guard = InboxGuard(settings, monotonic=clock)
    guard.admit_sender("https://a.example/users/x", "a.example")
    with pytest.raises(TooManyRequests) as refused:
        guard.admit_sender("https://a.example/users/x", "a.example")
    assert refused.value.retry_after == 10


async def test_guard_sheds_load_beyond_its_slots_and_backlog() -> None:
    clock = Clock()
    settings = replace(InboxSettings(), max_concurrent=2, max_backlog=5)
    guard = InboxGuard(settings, monotonic=clock)
    with guard.slot(), guard.slot():
        with pytest.raises(Unavailable) as busy, guard.slot():
            pass
        assert busy.value.retry_after is not None
    assert guard.in_flight == 0
    reads = 0

    async def count() -> int:
        nonlocal reads
        reads += 1
        return 5

    with pytest.raises(Unavailable):
        await guard.check_backlog(count)
    with pytest.raises(Unavailable):
        await guard.check_backlog(count)
    assert reads == 1  # read at most once a second


T0 = datetime(2026, 11, 28, tzinfo=UTC)


def test_breaker_opens_after_failures_and_closes_on_success() -> None:
    breaker = HostBreaker(failures=3, cooldown=timedelta(seconds=60))
    for _ in range(2):
        assert not breaker.failure("bad.example", "timed out", T0)
    assert breaker.blocked_until("bad.example", T0) is None
    assert breaker.failure("bad.example", "timed out", T0)
    assert breaker.blocked_until("bad.example", T0) == T0 + timedelta(seconds=60)
    assert "timed out" in breaker.describe("bad.example")
    assert breaker.blocked_until("good.example", T0) is None
    # After the cooldown one try goes through; its failure opens it again at once.
    later = T0 + timedelta(seconds=61)
    assert breaker.blocked_until("bad.example", later) is None
    assert breaker.failure("bad.example", "timed out", later)
    breaker.success("bad.example")
    assert breaker.blocked_until("bad.example", later) is None and len(breaker) == 0


def test_breaker_memory_is_bounded() -> None:
    breaker = HostBreaker(failures=1, cooldown=timedelta(seconds=60), max_hosts=50)
    for i in range(10_000):
        breaker.failure(f"h{i}.example", "reset", T0)
    assert len(breaker) == 50


STRICT = limits.ShapeLimits(max_depth=4, max_entries=10, max_string_chars=8, max_recipients=2)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"a": [[[["x"]]]]}, "nested deeper"),
        ({f"k{i}": i for i in range(11)}, "keys and items"),
        ({"a": list(range(11))}, "keys and items"),
        ({"a": "x" * 9}, "longer than"),
        ({"x" * 9: 1}, "longer than"),
        ({"to": ["a", "b"], "cc": "c"}, "recipients"),
        ({"object": {"bcc": ["a", "b", "c"]}}, "recipients"),
    ],
)
def test_shape_limits(document: object, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        limits.check_shape(document, STRICT)


def test_shape_within_limits_passes() -> None:
    limits.check_shape({"to": ["a"], "cc": "b", "object": {"id": "x"}}, STRICT)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b"9" * 5000, "not valid JSON"),
        (b"\xff", "not valid JSON"),
    ],
)
def test_untrusted_json_refusals(raw: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        limits.loads(raw)
