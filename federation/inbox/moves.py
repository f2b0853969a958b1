"""An inbound `Move`: a member we follow changed host.

Checked as Mastodon checks it (the signer moves itself; the target, fetched again
from its origin, lists the old actor in `alsoKnownAs`). Then every organisation here
that followed the old actor follows the new one, and the library, the directory and
the interactions name the new ids. A Déclics import keeps the paths of a member's
objects, so an item's new id is the same path on the new actor's host; the backfill
that follows the new Accept refreshes the documents from there.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows, local, remote, trust
from federation.inbox.handlers import Context, Retry
from federation.outbox import follow as follow_use_cases
from federation.store.models import (
    DirectoryMember,
    DirectoryVouch,
    Following,
    Interaction,
    LibraryItem,
    RemoteActor,
)
from federation.transport.client import FetchError
from federation.vocab.normalize import Activity, ProtocolError, host_of, parse_actor


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def moved_id(uri: str, old: str, new: str) -> str:
    """The id an object of the old actor has on the new host (same path)."""
    if uri == old:
        return new
    prefix = _origin(old) + "/"
    return _origin(new) + uri[len(prefix) - 1 :] if uri.startswith(prefix) else uri


async def _rewrite_library(session: AsyncSession, old: str, new: str) -> int:
    items = list(
        (await session.execute(select(LibraryItem).where(LibraryItem.actor_uri == old))).scalars()
    )
    for item in items:
        target = moved_id(item.uri, old, new)
        taken = (
            await session.execute(select(LibraryItem.id).where(LibraryItem.uri == target))
        ).scalar_one_or_none()
        if taken is not None and taken != item.id:
            await session.delete(item)  # the new copy arrived first
            continue
        item.uri = target
        item.actor_uri = new
        if item.url:
            item.url = moved_id(item.url, old, new)
    await session.flush()
    return len(items)


async def _rewrite_directory(session: AsyncSession, old: str, new: str) -> None:
    member = (
        await session.execute(select(DirectoryMember).where(DirectoryMember.uri == old))
    ).scalar_one_or_none()
    if member is not None:
        exists = (
            await session.execute(select(DirectoryMember.id).where(DirectoryMember.uri == new))
        ).scalar_one_or_none()
        if exists is None:
            member.uri = new
            member.host = host_of(new)
            if member.url:
                member.url = moved_id(member.url, old, new)
            if member.directory_url:
                member.directory_url = moved_id(member.directory_url, old, new)
        else:
            await session.execute(
                delete(DirectoryVouch).where(DirectoryVouch.voucher_id == member.id)
            )
            await session.delete(member)
    already = select(DirectoryVouch.voucher_id).where(DirectoryVouch.member_uri == new)
    await session.execute(
        delete(DirectoryVouch).where(
            DirectoryVouch.member_uri == old, DirectoryVouch.voucher_id.in_(already)
        )
    )
    await session.execute(
        update(DirectoryVouch).where(DirectoryVouch.member_uri == old).values(member_uri=new)
    )


async def _switch_follows(
    session: AsyncSession, old_row: RemoteActor, target: RemoteActor, now: datetime
) -> int:
    rows = list(
        (
            await session.execute(
                select(Following).where(
                    Following.remote_actor_id == old_row.id,
                    Following.state.in_((follows.ACCEPTED, follows.PENDING)),
                )
            )
        ).scalars()
    )
    for row in rows:
        org = await local.by_id(session, row.local_actor_id)
        if org is None or await trust.is_blocked(session, org.id, target.uri):
            continue  # a blocked target is not followed: the old follow stays
        await follow_use_cases.follow(session, org, target, now)
        await follow_use_cases.unfollow(session, org, old_row, now)
    return len(rows)


async def on_move(ctx: Context, activity: Activity) -> str:
    old = activity.actor
    if activity.object_id != old:
        return "ignored: a Move must move its own actor"
    if not activity.target or activity.target == old:
        return "ignored: Move without a target"
    async with ctx.rt.sessions() as session:
        old_row = await remote.get_cached(session, old)
        followed = (
            old_row is not None
            and (
                await session.execute(
                    select(Following.id).where(
                        Following.remote_actor_id == old_row.id,
                        Following.state.in_((follows.ACCEPTED, follows.PENDING)),
                    )
                )
            ).first()
            is not None
        )
    if old_row is None or not followed:
        return "ignored: Move of an actor we do not follow"
    try:
        target = await remote.resolve(ctx.rt, activity.target, ctx.signer, refresh=True)
    except FetchError as err:
        raise Retry(f"cannot fetch the Move's target: {err.reason}") from err
    try:
        aliases = parse_actor(target.document).also_known_as
    except ProtocolError:
        return "ignored: the Move's target is not a usable actor"
    if old not in aliases:
        return "ignored: the Move's target does not list the old actor in alsoKnownAs"
    now = ctx.rt.clock.now()
    async with ctx.rt.sessions.begin() as session:
        old_row = await remote.get_cached(session, old)
        target_row = await remote.get_cached(session, target.uri)
        if old_row is None or target_row is None:  # pragma: no cover - read just above
            raise Retry("actor rows vanished")
        count = await _switch_follows(session, old_row, target_row, now)
        items = await _rewrite_library(session, old, target.uri)
        await _rewrite_directory(session, old, target.uri)
        await session.execute(
            update(Interaction).where(Interaction.actor_uri == old).values(actor_uri=target.uri)
        )
    ctx.rt.delivery_wakeup.set()
    return f"processed: {old} moved to {target.uri}; {count} follows moved, {items} library items"
