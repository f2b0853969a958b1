"""Counting inbox POSTs by outcome, and 401s by the kind of signature failure."""

from __future__ import annotations

from federation.observability.metrics import INBOX_REQUESTS, SIGNATURE_FAILURES
from federation.observability.reasons import signature_failure_kind

OUTCOMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    410: "gone",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}


def accepted(*, duplicate: bool) -> None:
    INBOX_REQUESTS.inc("duplicate" if duplicate else "accepted")


def refused(status: int, reason: str) -> None:
    INBOX_REQUESTS.inc(OUTCOMES.get(status, "error" if status >= 500 else "refused"))
    if status == 401:
        SIGNATURE_FAILURES.inc(signature_failure_kind(reason))
