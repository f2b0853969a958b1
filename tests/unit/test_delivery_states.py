"""The delivery state machine as declared in TRANSITIONS."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from federation.delivery.states import (
    TERMINAL,
    TRANSITIONS,
    DeliveryState,
    InvalidTransition,
    check_transition,
)

S = DeliveryState


def reachable_from(start: DeliveryState) -> set[DeliveryState]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in TRANSITIONS[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_declared() -> None:
    assert set(TRANSITIONS) == set(DeliveryState)
    for targets in TRANSITIONS.values():
        assert targets <= set(DeliveryState)


def test_every_state_is_reachable_from_pending() -> None:
    assert reachable_from(S.PENDING) == set(DeliveryState)


def test_every_state_but_delivered_can_come_back_to_pending() -> None:
    for state in DeliveryState:
        if state is S.DELIVERED:
            assert reachable_from(state) == {S.DELIVERED}
        else:
            assert S.PENDING in reachable_from(state), state


def test_delivered_has_no_exits() -> None:
    assert TRANSITIONS[S.DELIVERED] == frozenset()
    for state in DeliveryState:
        with pytest.raises(InvalidTransition):
            check_transition(S.DELIVERED, state)


def test_only_sending_reaches_outcomes() -> None:
    outcomes = {S.DELIVERED, S.FAILED, S.DEAD, S.GONE}
    for state, targets in TRANSITIONS.items():
        if state is not S.SENDING:
            assert not targets & outcomes, state
    assert TRANSITIONS[S.SENDING] >= outcomes | {S.PENDING}
    assert outcomes == TERMINAL


def test_terminal_states_leave_only_by_operator_retry() -> None:
    for state in TERMINAL - {S.DELIVERED}:
        assert TRANSITIONS[state] == {S.PENDING}


@pytest.mark.parametrize(
    ("old", "new"), list(itertools.product(list(DeliveryState), list(DeliveryState)))
)
def test_check_transition_follows_the_table(old: DeliveryState, new: DeliveryState) -> None:
    if new in TRANSITIONS[old]:
        check_transition(old, new)
    else:
        with pytest.raises(InvalidTransition, match=f"from {old} to {new}"):
            check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.PENDING, S.DELIVERED),
        (S.PENDING, S.FAILED),
        (S.PENDING, S.PENDING),
        (S.PARKED, S.SENDING),
        (S.FAILED, S.SENDING),
        (S.DELIVERED, S.PENDING),
        (S.SENDING, S.SENDING),
    ],
)
def test_undeclared_moves_raise(old: DeliveryState, new: DeliveryState) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(old, new)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == f"delivery cannot go from {old.value} to {new.value}"


def test_states_are_their_database_strings() -> None:
    assert [s.value for s in DeliveryState] == [
        "pending",
        "sending",
        "delivered",
        "failed",
        "dead",
        "gone",
        "parked",
    ]
    assert S("parked") is S.PARKED
