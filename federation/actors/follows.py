"""The follow graph in the database: followers and followings of local actors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.store.models import Follower, Following, RemoteActor

PENDING = "pending"
ACCEPTED = "accepted"
REJECTED = "rejected"


async def get_follower(session: AsyncSession, local_id: int, remote_id: int) -> Follower | None:
    return (
        await session.execute(
            select(Follower).where(
                Follower.local_actor_id == local_id,
                Follower.remote_actor_id == remote_id,
            )
        )
    ).scalar_one_or_none()


async def set_follower(
    session: AsyncSession,
    local_id: int,
    remote_id: int,
    follow_uri: str,
    state: str,
    now: datetime,
) -> Follower:
    row = await get_follower(session, local_id, remote_id)
    if row is None:
        row = Follower(local_actor_id=local_id, remote_actor_id=remote_id, created_at=now)
        session.add(row)
    row.follow_activity_uri = follow_uri
    if state == ACCEPTED and row.state != ACCEPTED:
        row.accepted_at = now
    row.state = state
    await session.flush()
    return row


async def remove_follower(session: AsyncSession, local_id: int, remote_id: int) -> bool:
    result = await session.execute(
        delete(Follower).where(
            Follower.local_actor_id == local_id, Follower.remote_actor_id == remote_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def followers(
    session: AsyncSession,
    local_id: int,
    state: str = ACCEPTED,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[tuple[Follower, RemoteActor]]:
    rows = await session.execute(
        select(Follower, RemoteActor)
        .join(RemoteActor, RemoteActor.id == Follower.remote_actor_id)
        .where(Follower.local_actor_id == local_id, Follower.state == state)
        .order_by(Follower.id)
        .offset(offset)
        .limit(limit)
    )
    return [(f, a) for f, a in rows.all()]


async def follower_inboxes(session: AsyncSession, local_id: int) -> list[str]:
    """One inbox per follower, shared inboxes first, so a host gets one request."""
    rows = await session.execute(
        select(RemoteActor.shared_inbox, RemoteActor.inbox)
        .join(Follower, RemoteActor.id == Follower.remote_actor_id)
        .where(
            Follower.local_actor_id == local_id,
            Follower.state == ACCEPTED,
            RemoteActor.gone_at.is_(None),
        )
    )
    return list(dict.fromkeys(shared or inbox for shared, inbox in rows.all()))


async def count_followers(session: AsyncSession, local_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    Follower.local_actor_id == local_id, Follower.state == ACCEPTED
                )
            )
        ).scalar_one()
    )


async def get_following(session: AsyncSession, local_id: int, remote_id: int) -> Following | None:
    return (
        await session.execute(
            select(Following).where(
                Following.local_actor_id == local_id,
                Following.remote_actor_id == remote_id,
            )
        )
    ).scalar_one_or_none()


async def following_by_follow_uri(session: AsyncSession, uri: str) -> Following | None:
    return (
        await session.execute(select(Following).where(Following.follow_activity_uri == uri))
    ).scalar_one_or_none()


async def followings(
    session: AsyncSession,
    local_id: int,
    states: tuple[str, ...] = (ACCEPTED,),
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[tuple[Following, RemoteActor]]:
    rows = await session.execute(
        select(Following, RemoteActor)
        .join(RemoteActor, RemoteActor.id == Following.remote_actor_id)
        .where(Following.local_actor_id == local_id, Following.state.in_(states))
        .order_by(Following.id)
        .offset(offset)
        .limit(limit)
    )
    return [(f, a) for f, a in rows.all()]


async def count_followings(session: AsyncSession, local_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    Following.local_actor_id == local_id, Following.state == ACCEPTED
                )
            )
        ).scalar_one()
    )


async def forget_actor(session: AsyncSession, actor: RemoteActor, now: datetime) -> None:
    """The remote actor is gone (deleted, or 410): drop every relation with it."""
    actor.gone_at = now
    await session.execute(delete(Follower).where(Follower.remote_actor_id == actor.id))
    await session.execute(delete(Following).where(Following.remote_actor_id == actor.id))
