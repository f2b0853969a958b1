"""Looking into an instance's database from a test: what arrived, who follows whom."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from federation.actors import follows
from federation.store.models import InboxItem
from tests.support.instance import Instance


def id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


async def inbox_items(instance: Instance, activity_type: str) -> list[InboxItem]:
    async with instance.rt.sessions() as session:
        rows = await session.execute(
            select(InboxItem).where(InboxItem.activity_type == activity_type)
        )
        return list(rows.scalars().all())


async def follower_uris(instance: Instance) -> set[str]:
    org = await instance.organisation()
    async with instance.rt.sessions() as session:
        rows = await follows.followers(session, org.id, follows.ACCEPTED)
    return {actor.uri for _row, actor in rows}


async def following_state(instance: Instance, target_uri: str) -> str | None:
    org = await instance.organisation()
    async with instance.rt.sessions() as session:
        rows = await follows.followings(
            session, org.id, (follows.ACCEPTED, follows.PENDING, follows.REJECTED)
        )
    return next((row.state for row, actor in rows if actor.uri == target_uri), None)
