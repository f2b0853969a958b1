"""Moderation of what others post on our objects: hide or show a reply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import CommandError
from federation.store.models import Interaction, LocalActor


async def replies(
    session: AsyncSession, actor: LocalActor, object_uri: str | None = None
) -> list[Interaction]:
    query = select(Interaction).where(
        Interaction.local_actor_id == actor.id, Interaction.kind == "reply"
    )
    if object_uri:
        query = query.where(Interaction.object_uri == object_uri)
    return list((await session.execute(query.order_by(Interaction.id))).scalars())


async def set_hidden(
    session: AsyncSession, actor: LocalActor, reply_id: int, hidden: bool
) -> Interaction:
    row = await session.get(Interaction, reply_id)
    if row is None or row.local_actor_id != actor.id or row.kind != "reply":
        raise CommandError(f"no reply #{reply_id} on our objects")
    row.hidden = hidden
    return row
