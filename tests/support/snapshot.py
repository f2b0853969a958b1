"""What an inbound request could change, counted: compare before and after a refusal."""

from __future__ import annotations

from sqlalchemy import func, select

from federation.store import models
from tests.support.instance import Instance

WATCHED = (
    models.InboxItem,
    models.Follower,
    models.Following,
    models.Interaction,
    models.LibraryItem,
    models.LocalObject,
    models.Delivery,
    models.OutboxActivity,
    models.Block,
)


async def snapshot(instance: Instance) -> dict[str, int]:
    """Row counts of what an inbound activity could change, and who is cached."""
    counts: dict[str, int] = {}
    async with instance.rt.sessions() as session:
        for model in WATCHED:
            found = await session.execute(select(func.count()).select_from(model))
            counts[model.__tablename__] = int(found.scalar() or 0)
        cached = await session.execute(select(models.RemoteActor.uri))
        counts.update({f"actor {uri}": 1 for uri in cached.scalars()})
    return counts
