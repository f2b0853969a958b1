"""Library items as if a followed member had sent them: each organisation sees the
items of the members it follows, so a test that stores items directly follows first."""

from __future__ import annotations

from federation.store.models import Following, RemoteActor
from tests.support.instance import Instance


async def followed(instance: Instance, actor_uri: str) -> None:
    """An accepted follow of `actor_uri` by the instance's organisation, in the database."""
    org = await instance.organisation()
    now = instance.rt.clock.now()
    async with instance.rt.sessions.begin() as session:
        actor = RemoteActor(
            uri=actor_uri,
            host=actor_uri.split("/")[2].split(":")[0],
            actor_type="Organization",
            inbox=f"{actor_uri}/inbox",
            document={},
            fetched_at=now,
        )
        session.add(actor)
        await session.flush()
        session.add(
            Following(
                local_actor_id=org.id,
                remote_actor_id=actor.id,
                follow_activity_uri=f"{instance.base_url}/activities/follow-{actor.id}",
                state="accepted",
                created_at=now,
                accepted_at=now,
            )
        )
