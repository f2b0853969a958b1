"""The only SQL that touches delivery rows: plan, claim with leases, record, reclaim.

Claiming is one UPDATE … RETURNING over a sub-select of due rows; on PostgreSQL the
sub-select takes `FOR UPDATE SKIP LOCKED` so that several worker processes never
claim the same row. SQLite has a single writer, so the plain form is enough there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.delivery.states import DeliveryState
from federation.store.engine import dialect_name, insert_or_ignore
from federation.store.models import Delivery

S = DeliveryState


@dataclass(frozen=True)
class Claimed:
    id: int
    activity_id: int
    inbox_url: str
    host: str
    attempts: int
    created_at: datetime
    claimed_at: datetime


def inbox_host(url: str) -> str:
    return (urlsplit(url).netloc or "").lower()


def interleave(inboxes: Iterable[str]) -> list[tuple[str, str]]:
    """(inbox, host) pairs taking the hosts in turn: one from each, then again.

    A host's deliveries then come far apart in the queue: each reuses the connection
    the previous one left open, where back-to-back deliveries to one host would each
    open their own (up to `per_host_concurrency`) and leave other hosts waiting.
    """
    by_host: dict[str, list[str]] = {}
    for url in inboxes:
        by_host.setdefault(inbox_host(url), []).append(url)
    pairs: list[tuple[str, str]] = []
    left = list(by_host.items())
    turn = 0
    while left:
        pairs.extend((urls[turn], host) for host, urls in left)
        turn += 1
        left = [(host, urls) for host, urls in left if len(urls) > turn]
    return pairs


async def plan(
    session: AsyncSession, activity_id: int, inboxes: Iterable[str], now: datetime
) -> int:
    """Queue one delivery per distinct inbox; re-planning the same pair is a no-op.

    Rows are claimed in id order, so they are written taking each host in turn (see
    `interleave`)."""
    rows = [
        {
            "activity_id": activity_id,
            "inbox_url": url,
            "host": host,
            "state": S.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for url, host in interleave(dict.fromkeys(inboxes))
    ]
    if not rows:
        return 0
    stmt = insert_or_ignore(session, Delivery)
    for start in range(0, len(rows), 500):
        await session.execute(stmt, rows[start : start + 500])
    return len(rows)


async def claim_due(
    session: AsyncSession, owner: str, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    due = (
        select(Delivery.id)
        .where(
            Delivery.state == S.PENDING.value,
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            state=S.SENDING.value,
            lease_owner=owner,
            lease_expires_at=now + lease,
        )
        .returning(
            Delivery.id,
            Delivery.activity_id,
            Delivery.inbox_url,
            Delivery.host,
            Delivery.attempts,
            Delivery.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return [Claimed(*row, claimed_at=now) for row in result.all()]


async def renew_lease(session: AsyncSession, delivery_id: int, owner: str, until: datetime) -> bool:
    """Extend our lease before sending; False if the row is no longer ours."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.lease_owner == owner,
            Delivery.state == S.SENDING.value,
        )
        .values(lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record(
    session: AsyncSession,
    claimed: Claimed,
    owner: str,
    state: DeliveryState,
    *,
    now: datetime,
    status: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
    count_attempt: bool = True,
) -> None:
    values: dict[str, object] = {
        "state": state.value,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if count_attempt:
        values.update(
            attempts=claimed.attempts + 1,
            last_attempt_at=now,
            last_status=status,
            last_error=(error or None) and error[:500],
        )
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if state is S.DELIVERED:
        values["delivered_at"] = now
    await session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.id, Delivery.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def defer(
    session: AsyncSession,
    claimed: Claimed,
    owner: str,
    *,
    until: datetime,
    reason: str,
) -> None:
    """Give a claimed row back untried until `until`, saying why (the host's breaker)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.id, Delivery.lease_owner == owner)
        .values(
            state=S.PENDING.value,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=until,
            last_error=reason[:500],
        )
        .execution_options(synchronize_session=False)
    )


async def record_delivered(
    session: AsyncSession, delivered: Sequence[tuple[Claimed, int]], owner: str, now: datetime
) -> None:
    """Record many accepted deliveries (with their status) at once: one UPDATE per status."""
    by_status: dict[int, list[int]] = {}
    for claimed, status in delivered:
        by_status.setdefault(status, []).append(claimed.id)
    for status, ids in by_status.items():
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.lease_owner == owner)
            .values(
                state=S.DELIVERED.value,
                lease_owner=None,
                lease_expires_at=None,
                attempts=Delivery.attempts + 1,
                last_attempt_at=now,
                last_status=status,
                last_error=None,
                delivered_at=now,
            )
            .execution_options(synchronize_session=False)
        )


async def give_back(session: AsyncSession, delivery_ids: Sequence[int], owner: str) -> int:
    """Rows we claimed and never tried go back to `pending` at once (a worker that
    stops cleanly), rather than when their lease expires."""
    if not delivery_ids:
        return 0
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(delivery_ids),
            Delivery.lease_owner == owner,
            Delivery.state == S.SENDING.value,
        )
        .values(state=S.PENDING.value, lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def reclaim_expired(session: AsyncSession, now: datetime) -> int:
    """Give back rows whose worker died holding them (at-least-once delivery)."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.state == S.SENDING.value,
            Delivery.lease_expires_at < now,
        )
        .values(state=S.PENDING.value, lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def park_host(session: AsyncSession, host: str) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.host == host, Delivery.state == S.PENDING.value)
        .values(state=S.PARKED.value)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def unpark_host(session: AsyncSession, host: str, now: datetime) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.host == host, Delivery.state == S.PARKED.value)
        .values(state=S.PENDING.value, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def retry(
    session: AsyncSession,
    now: datetime,
    delivery_ids: Sequence[int] | None = None,
    *,
    waiting: bool = False,
) -> int:
    """Operator retry: failed, dead or gone rows go back to pending now; with `waiting`,
    pending and parked rows are also tried now instead of at their planned time."""
    states = [S.FAILED.value, S.DEAD.value, S.GONE.value]
    if waiting:
        states += [S.PENDING.value, S.PARKED.value]
    condition: ColumnElement[bool] = Delivery.state.in_(states)
    if delivery_ids is not None:
        condition = and_(condition, Delivery.id.in_(delivery_ids))
    result = await session.execute(
        update(Delivery)
        .where(condition)
        .values(state=S.PENDING.value, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def next_due_at(session: AsyncSession) -> datetime | None:
    return (
        await session.execute(
            select(func.min(Delivery.next_attempt_at)).where(Delivery.state == S.PENDING.value)
        )
    ).scalar_one_or_none()


async def counts_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {state: count for state, count in rows.all()}
