"""Retry policy and classification of delivery outcomes. Pure: no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from federation.delivery.states import DeliveryState

# Statuses that say "try again later" although they are 4xx.
RETRYABLE_4XX = frozenset({401, 408, 429})
MAX_RETRY_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class Outcome:
    state: DeliveryState
    next_attempt_at: datetime | None
    reason: str


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Mastodon's (Sidekiq's) curve: attempt⁴ + 15 s plus jitter; ~3 days over 17 tries."""
    jitter = (rng or random).randint(0, 10) * (attempts + 1)
    return timedelta(seconds=attempts**4 + 15 + jitter)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when - now, timedelta(0)), MAX_RETRY_AFTER)


def describe_status(status: int, host: str) -> str:
    if status == 401:
        return f"{host} refused our signature (HTTP 401)"
    if status == 403:
        return f"{host} refuses our activities (HTTP 403)"
    if status == 404:
        return f"{host} has no such inbox (HTTP 404)"
    if status == 410:
        return f"the account on {host} is gone (HTTP 410)"
    if status == 429:
        return f"{host} asks us to slow down (HTTP 429)"
    if status >= 500:
        return f"{host} had a server error (HTTP {status})"
    return f"{host} answered HTTP {status}"


def classify(
    *,
    status: int | None,
    error: str | None,
    host: str,
    attempts: int,
    created_at: datetime,
    now: datetime,
    max_age: timedelta,
    retry_after: str | None = None,
    permanent_error: bool = False,
) -> Outcome:
    """Decide what a delivery attempt means; `attempts` is the count before this one."""
    if status is not None and 200 <= status < 300:
        return Outcome(DeliveryState.DELIVERED, None, "")
    reason = error if status is None else describe_status(status, host)
    reason = reason or "unknown error"
    if status == 410:
        return Outcome(DeliveryState.GONE, None, reason)
    if permanent_error or (
        status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX
    ):
        return Outcome(DeliveryState.FAILED, None, reason)
    delay = backoff(attempts)
    if status in (429, 503):
        delay = parse_retry_after(retry_after, now) or delay
    next_at = now + delay
    if next_at - created_at > max_age:
        return Outcome(DeliveryState.DEAD, None, f"gave up: {reason}")
    return Outcome(DeliveryState.PENDING, next_at, reason)
