"""Key rotation without a move, the way Mastodon followers keep verifying us:

1. `rotate`: new keys are published beside the current ones (the actor document lists
   both; the current key still signs) and a signed `Update` of the actor tells every
   follower to fetch them.
2. `drop_old`, after a grace period: the new keys sign from now on, the old ones leave
   the document, and another `Update` (signed with the new key) says so. A peer that
   missed the first Update fetches the key id it does not know, and finds it.

Each key keeps its own id (`#main-key`, `#main-key-1`…), so a cached key is never
silently replaced by another under the same id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation import keypairs
from federation.actors import local
from federation.content import identity
from federation.errors import CommandError
from federation.outbox.publish import new_uri, to_followers
from federation.settings import ContentSettings
from federation.store.models import LocalActor, OutboxActivity
from federation.vocab import build
from federation.vocab.constants import AS_PUBLIC


async def announce(
    session: AsyncSession, actor: LocalActor, content: ContentSettings, now: datetime
) -> OutboxActivity:
    """`Update` of the actor, to its followers (signed at send time)."""
    urls = local.urls_of(actor)
    document = await identity.actor_document(session, actor, content, now)
    update = build.activity(
        "Update",
        new_uri(actor, "activities"),
        urls.id,
        document,
        to=[AS_PUBLIC],
        cc=[urls.followers],
        published=now,
    )
    update["@context"] = document["@context"]
    return await to_followers(session, actor, update, now, public=False)


async def rotate(
    session: AsyncSession, actor: LocalActor, content: ContentSettings, now: datetime
) -> OutboxActivity:
    if actor.next_rsa_private_pem or actor.next_ed25519_private_pem:
        raise CommandError("a rotation is under way: run 'declics keys drop-old' first")
    actor.next_rsa_private_pem = keypairs.private_to_pem(keypairs.generate_rsa())
    actor.next_ed25519_private_pem = keypairs.private_to_pem(keypairs.generate_ed25519())
    await session.flush()
    return await announce(session, actor, content, now)


async def drop_old(
    session: AsyncSession, actor: LocalActor, content: ContentSettings, now: datetime
) -> OutboxActivity:
    if not actor.next_rsa_private_pem or not actor.next_ed25519_private_pem:
        raise CommandError("no key rotation under way: run 'declics keys rotate' first")
    actor.rsa_private_pem = actor.next_rsa_private_pem
    actor.ed25519_private_pem = actor.next_ed25519_private_pem
    actor.next_rsa_private_pem = None
    actor.next_ed25519_private_pem = None
    actor.key_generation = (actor.key_generation or 0) + 1
    await session.flush()
    return await announce(session, actor, content, now)
