"""The delivery ledger: per activity and inbox, where it stands and why, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.delivery import queue
from federation.delivery.states import DeliveryState
from federation.store.models import Delivery, OutboxActivity


@dataclass(frozen=True)
class Entry:
    delivery_id: int
    activity_type: str
    activity_uri: str
    inbox_url: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    def as_json(self) -> dict[str, object]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.delivery_id,
            "activity": self.activity_uri,
            "type": self.activity_type,
            "inbox": self.inbox_url,
            "state": self.state,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "last_attempt_at": iso(self.last_attempt_at),
            "next_attempt_at": iso(self.next_attempt_at),
            "delivered_at": iso(self.delivered_at),
        }


async def entries(
    session: AsyncSession,
    local_actor_id: int,
    *,
    state: str | None,
    limit: int,
    activity_id: int | None = None,
) -> list[Entry]:
    query = (
        select(Delivery, OutboxActivity.activity_type, OutboxActivity.uri)
        .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
        .where(OutboxActivity.local_actor_id == local_actor_id)
        .order_by(Delivery.id.desc())
        .limit(max(1, limit))
    )
    if state:
        query = query.where(Delivery.state == state)
    if activity_id is not None:
        query = query.where(Delivery.activity_id == activity_id)
    rows = await session.execute(query)
    return [
        Entry(
            d.id,
            kind,
            uri,
            d.inbox_url,
            d.state,
            d.attempts,
            d.last_status,
            d.last_error,
            d.last_attempt_at,
            d.next_attempt_at if d.state == DeliveryState.PENDING else None,
            d.delivered_at,
        )
        for d, kind, uri in rows.all()
    ]


async def retry_failed(
    session: AsyncSession,
    local_actor_id: int,
    now: datetime,
    delivery_ids: list[int] | None = None,
    *,
    waiting: bool = False,
) -> int:
    """Retry our failed deliveries (all, or those of `delivery_ids` that are ours);
    `waiting`: pending and parked ones too, now."""
    query = (
        select(Delivery.id)
        .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
        .where(OutboxActivity.local_actor_id == local_actor_id)
    )
    if delivery_ids is not None:
        query = query.where(Delivery.id.in_(delivery_ids))
    ids = (await session.execute(query)).scalars()
    return await queue.retry(session, now, list(ids), waiting=waiting)


async def activities(
    session: AsyncSession, local_actor_id: int, limit: int = 50, object_uri: str | None = None
) -> list[tuple[OutboxActivity, dict[str, int]]]:
    """Our latest activities that had deliveries (about one object, if given), with
    their count per state."""
    query = (
        select(OutboxActivity)
        .where(
            OutboxActivity.local_actor_id == local_actor_id,
            OutboxActivity.id.in_(select(Delivery.activity_id)),
        )
        .order_by(OutboxActivity.id.desc())
        .limit(limit)
    )
    if object_uri:
        query = query.where(OutboxActivity.object_uri == object_uri)
    recent = (await session.execute(query)).scalars()
    out = []
    for activity in recent:
        counts: dict[str, int] = {}
        rows = await session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.activity_id == activity.id)
            .group_by(Delivery.state)
        )
        for state, count in rows.all():
            counts[state] = count
        out.append((activity, counts))
    return out


def _ago(moment: datetime, now: datetime) -> str:
    return _span(now - moment) + " ago"


def _span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def explain(entry: Entry, now: datetime) -> str:
    """One sentence on where a delivery stands."""
    state = entry.state
    if state == DeliveryState.DELIVERED and entry.delivered_at:
        return f"delivered {_ago(entry.delivered_at, now)}"
    if state == DeliveryState.PENDING:
        if entry.attempts == 0:
            return "waiting for its first try"
        when = entry.next_attempt_at
        later = f"next try in {_span(when - now)}" if when and when > now else "next try now"
        return f"{entry.last_error or 'failed'}; {later}"
    if state == DeliveryState.SENDING:
        return "being sent now"
    if state == DeliveryState.PARKED:
        return "host unreachable for days: parked until it answers again"
    if state == DeliveryState.GONE:
        return f"{entry.last_error or 'gone'}; follower dropped"
    return f"{entry.last_error or state} (not retried; 'declics deliveries --retry')"


def format_table(rows: list[Entry], now: datetime) -> str:
    if not rows:
        return "(no deliveries)"
    lines = [f"{'STATE':<10} {'TRIES':>5}  {'ACTIVITY':<8} INBOX — WHAT HAPPENED"]
    for entry in rows:
        lines.append(
            f"{entry.state:<10} {entry.attempts:>5}  {entry.activity_type:<8} "
            f"{entry.inbox_url} — {explain(entry, now)}"
        )
    return "\n".join(lines)
