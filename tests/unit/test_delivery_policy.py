"""Retry policy of deliveries: backoff curve, classification of outcomes, wording."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from federation.delivery import policy
from federation.delivery.policy import (
    MAX_RETRY_AFTER,
    Outcome,
    backoff,
    classify,
    parse_retry_after,
)
from federation.delivery.states import DeliveryState

S = DeliveryState
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MAX_AGE = timedelta(hours=72)
HOST = "b.example"


def outcome(
    status: int | None,
    *,
    error: str | None = None,
    attempts: int = 1,
    age: timedelta = timedelta(0),
    retry_after: str | None = None,
    permanent_error: bool = False,
) -> Outcome:
    return classify(
        status=status,
        error=error,
        host=HOST,
        attempts=attempts,
        created_at=T0 - age,
        now=T0,
        max_age=MAX_AGE,
        retry_after=retry_after,
        permanent_error=permanent_error,
    )


# --- backoff ---------------------------------------------------------------------


@pytest.mark.parametrize("attempts", [0, 1, 2, 3, 5, 8, 12, 16, 20])
def test_backoff_is_n4_plus_15_with_bounded_jitter(attempts: int) -> None:
    rng = random.Random(attempts)
    base = attempts**4 + 15
    seen = {backoff(attempts, rng).total_seconds() for _ in range(200)}
    assert min(seen) >= base
    assert max(seen) <= base + 10 * (attempts + 1)
    assert len(seen) > 1  # there is jitter


def test_backoff_grows_with_each_attempt() -> None:
    rng = random.Random(7)
    delays = [backoff(n, rng) for n in range(1, 20)]
    assert delays == sorted(delays)
    assert timedelta(seconds=16) <= delays[0] <= timedelta(seconds=36)
    assert timedelta(hours=36) <= delays[-1] <= timedelta(hours=37)


@pytest.mark.parametrize("seed", range(5))
def test_schedule_gives_up_after_about_three_days(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    real_backoff = policy.backoff
    monkeypatch.setattr(policy, "backoff", lambda attempts: real_backoff(attempts, rng))

    now, attempts, total = T0, 0, timedelta(0)
    while True:
        attempts += 1
        result = classify(
            status=503,
            error=None,
            host=HOST,
            attempts=attempts,
            created_at=T0,
            now=now,
            max_age=MAX_AGE,
        )
        if result.state is S.DEAD:
            break
        assert result.state is S.PENDING
        assert result.next_attempt_at is not None
        assert result.next_attempt_at > now
        total += result.next_attempt_at - now
        now = result.next_attempt_at
        assert attempts < 100, "never gave up"

    assert 14 <= attempts <= 20
    assert timedelta(days=2) <= total <= timedelta(days=3.5)
    assert total <= MAX_AGE
    assert result.reason == f"gave up: {HOST} had a server error (HTTP 503)"
    assert result.next_attempt_at is None


# --- classify ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert outcome(status) == Outcome(S.DELIVERED, None, "")


def test_2xx_is_delivered_even_when_old() -> None:
    assert outcome(202, age=timedelta(days=30)).state is S.DELIVERED


def test_410_is_gone() -> None:
    result = outcome(410, attempts=3, age=timedelta(days=30))
    assert result == Outcome(S.GONE, None, f"the account on {HOST} is gone (HTTP 410)")


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 422])
def test_client_errors_fail_without_retry(status: int) -> None:
    result = outcome(status)
    assert result.state is S.FAILED
    assert result.next_attempt_at is None
    assert f"HTTP {status}" in result.reason
    assert HOST in result.reason


@pytest.mark.parametrize("status", [401, 408, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses_come_back_later(status: int) -> None:
    result = outcome(status, attempts=2)
    assert result.state is S.PENDING
    assert result.next_attempt_at is not None
    delay = result.next_attempt_at - T0
    assert timedelta(seconds=2**4 + 15) <= delay <= timedelta(seconds=2**4 + 15 + 30)
    assert f"HTTP {status}" in result.reason


def test_transport_error_is_retried_with_its_message() -> None:
    result = outcome(None, error="connection refused", attempts=1)
    assert result.state is S.PENDING
    assert result.reason == "connection refused"
    assert result.next_attempt_at is not None
    assert timedelta(seconds=16) <= result.next_attempt_at - T0 <= timedelta(seconds=36)


def test_transport_error_without_message() -> None:
    assert outcome(None, error=None).reason == "unknown error"
    assert outcome(None, error="").reason == "unknown error"


def test_permanent_error_fails_at_once() -> None:
    result = outcome(None, error="b.example is a private or loopback address", permanent_error=True)
    assert result == Outcome(S.FAILED, None, "b.example is a private or loopback address")


@pytest.mark.parametrize("status", [None, 401, 429, 500, 503])
def test_too_old_is_dead(status: int | None) -> None:
    result = outcome(status, error="timeout", attempts=15, age=MAX_AGE - timedelta(minutes=1))
    assert result.state is S.DEAD
    assert result.next_attempt_at is None
    assert result.reason.startswith("gave up: ")


def test_just_young_enough_is_retried() -> None:
    result = outcome(500, attempts=1, age=MAX_AGE - timedelta(hours=1))
    assert result.state is S.PENDING


# --- Retry-After ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(status: int) -> None:
    result = outcome(status, attempts=1, retry_after="120")
    assert result.next_attempt_at == T0 + timedelta(seconds=120)
    result = outcome(status, attempts=1, retry_after=" 3600 ")
    assert result.next_attempt_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_http_date_is_honoured(status: int) -> None:
    when = format_datetime(T0 + timedelta(minutes=30), usegmt=True)
    result = outcome(status, attempts=1, retry_after=when)
    assert result.next_attempt_at == T0 + timedelta(minutes=30)


@pytest.mark.parametrize("value", ["999999", format_datetime(T0 + timedelta(days=2), usegmt=True)])
def test_retry_after_is_capped(value: str) -> None:
    result = outcome(429, attempts=1, retry_after=value)
    assert result.next_attempt_at == T0 + MAX_RETRY_AFTER
    assert timedelta(hours=6) == MAX_RETRY_AFTER


def test_retry_after_that_outlives_max_age_gives_up() -> None:
    result = outcome(503, attempts=3, age=MAX_AGE - timedelta(hours=1), retry_after="7200")
    assert result.state is S.DEAD


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "soon",
        "-5",
        "1.5",
        "Mon, 02 Mar 2026 10:00:00",  # no zone: ambiguous, ignored
        format_datetime(T0 - timedelta(hours=1), usegmt=True),  # in the past
    ],
)
def test_unusable_retry_after_falls_back_to_backoff(value: str | None) -> None:
    result = outcome(429, attempts=1, retry_after=value)
    assert result.next_attempt_at is not None
    assert timedelta(seconds=16) <= result.next_attempt_at - T0 <= timedelta(seconds=36)


@pytest.mark.parametrize("status", [500, 502, 401])
def test_retry_after_ignored_on_other_statuses(status: int) -> None:
    result = outcome(status, attempts=1, retry_after="3600")
    assert result.next_attempt_at is not None
    assert result.next_attempt_at - T0 <= timedelta(seconds=36)


def test_parse_retry_after_values() -> None:
    parse = policy.parse_retry_after
    assert parse("0", T0) == timedelta(0)
    assert parse("60", T0) == timedelta(minutes=1)
    assert parse("Mon, 02 Mar 2026 09:35:00 GMT", T0) == timedelta(minutes=5)
    assert parse("Mon, 02 Mar 2026 09:00:00 GMT", T0) == timedelta(0)
    assert parse("garbage", T0) is None
    assert parse(None, T0) is None


# --- wording ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (401, "b.example refused our signature (HTTP 401)"),
        (403, "b.example refuses our activities (HTTP 403)"),
        (404, "b.example has no such inbox (HTTP 404)"),
        (410, "the account on b.example is gone (HTTP 410)"),
        (429, "b.example asks us to slow down (HTTP 429)"),
        (500, "b.example had a server error (HTTP 500)"),
        (503, "b.example had a server error (HTTP 503)"),
        (400, "b.example answered HTTP 400"),
        (422, "b.example answered HTTP 422"),
        (302, "b.example answered HTTP 302"),
    ],
)
def test_describe_status(status: int, text: str) -> None:
    assert policy.describe_status(status, HOST) == text
    if not 200 <= status < 300:
        assert outcome(status).reason.removeprefix("gave up: ") == text


def test_retry_after_digits_are_ascii_only() -> None:
    # "²" is a digit for str.isdigit() but not for int(): once a crashed delivery.
    now = datetime(2026, 11, 29, tzinfo=UTC)
    assert parse_retry_after("²", now) is None
    assert parse_retry_after("30", now) == timedelta(seconds=30)
