"""The delivery state machine. Pure: no I/O.

pending ──claim──> sending ──2xx──> delivered
   ^  │               ├──retryable──> pending (attempts+1, backoff)
   │  │               ├──too old────> dead
   │  │               ├──4xx────────> failed
   │  │               ├──410────────> gone
   │  └─host parked─> parked <──────┘ (host failing for days)
   └──── lease expired (sending), host revived (parked), operator retry (failed, dead, gone)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"
    GONE = "gone"
    PARKED = "parked"


S = DeliveryState
TRANSITIONS: Mapping[DeliveryState, frozenset[DeliveryState]] = {
    S.PENDING: frozenset({S.SENDING, S.PARKED}),
    S.SENDING: frozenset({S.DELIVERED, S.PENDING, S.FAILED, S.DEAD, S.GONE, S.PARKED}),
    S.PARKED: frozenset({S.PENDING}),
    S.FAILED: frozenset({S.PENDING}),
    S.DEAD: frozenset({S.PENDING}),
    S.GONE: frozenset({S.PENDING}),
    S.DELIVERED: frozenset(),
}
TERMINAL = frozenset({S.DELIVERED, S.FAILED, S.DEAD, S.GONE})


class InvalidTransition(ValueError):
    pass


def check_transition(old: DeliveryState, new: DeliveryState) -> None:
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(f"delivery cannot go from {old} to {new}")
