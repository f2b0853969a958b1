"""Follow use-cases that send activities: follow, unfollow, accept, reject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows, local
from federation.errors import CommandError
from federation.outbox.publish import new_uri, send
from federation.store.models import Follower, Following, LocalActor, RemoteActor
from federation.vocab import build


async def follow(
    session: AsyncSession,
    actor: LocalActor,
    target: RemoteActor,
    now: datetime,
    followed: str | None = None,
) -> str:
    """Ask to follow `target`; returns the Follow id. Re-following re-sends it.

    `followed` is what the Follow names: the target itself, or for a LitePub relay
    the Public collection."""
    urls = local.urls_of(actor)
    existing = await follows.get_following(session, actor.id, target.id)
    follow_uri = new_uri(actor, "activities")
    document = build.activity(
        "Follow", follow_uri, urls.id, followed or target.uri, to=[target.uri]
    )
    if existing is None:
        session.add(
            Following(
                local_actor_id=actor.id,
                remote_actor_id=target.id,
                follow_activity_uri=follow_uri,
                state=follows.PENDING,
                created_at=now,
            )
        )
    else:
        existing.follow_activity_uri = follow_uri
        if existing.state != follows.ACCEPTED:
            existing.state = follows.PENDING
    await send(session, actor, document, inboxes=[target.inbox], now=now)
    return follow_uri


async def unfollow(
    session: AsyncSession, actor: LocalActor, target: RemoteActor, now: datetime
) -> None:
    row = await follows.get_following(session, actor.id, target.id)
    if row is None:
        raise CommandError(f"{actor.username} does not follow {target.uri}")
    urls = local.urls_of(actor)
    undo = build.activity(
        "Undo",
        f"{row.follow_activity_uri}#undo",
        urls.id,
        {
            "id": row.follow_activity_uri,
            "type": "Follow",
            "actor": urls.id,
            "object": target.uri,
        },
        to=[target.uri],
    )
    await session.delete(row)
    await send(session, actor, undo, inboxes=[target.inbox], now=now)


def _follow_echo(follower: Follower, remote: RemoteActor, actor_id: str) -> dict[str, Any]:
    """The Follow as Mastodon matches it: its own id, actor and object."""
    return {
        "id": follower.follow_activity_uri,
        "type": "Follow",
        "actor": remote.uri,
        "object": actor_id,
    }


async def respond(
    session: AsyncSession,
    actor: LocalActor,
    follower: Follower,
    remote: RemoteActor,
    now: datetime,
    *,
    accept: bool,
) -> None:
    """Accept or reject a follow request, telling the follower's own inbox."""
    urls = local.urls_of(actor)
    kind = "Accept" if accept else "Reject"
    document = build.activity(
        kind,
        new_uri(actor, "activities"),
        urls.id,
        _follow_echo(follower, remote, urls.id),
        to=[remote.uri],
    )
    if accept:
        follower.state = follows.ACCEPTED
        follower.accepted_at = now
    else:
        await session.delete(follower)
    await send(session, actor, document, inboxes=[remote.inbox], now=now)


async def follow_back(
    session: AsyncSession, actor: LocalActor, member: RemoteActor, now: datetime
) -> bool:
    """Follow a member that follows us, unless we already do (or asked to)."""
    existing = await follows.get_following(session, actor.id, member.id)
    if existing is not None and existing.state in (follows.ACCEPTED, follows.PENDING):
        return False
    await follow(session, actor, member, now)
    return True
