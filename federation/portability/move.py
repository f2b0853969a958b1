"""Moving a member away: the signed Move to its followers, and where its old URLs
point afterwards."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.errors import CommandError
from federation.outbox.publish import to_followers
from federation.store.models import LocalActor, OutboxActivity, RemoteActor
from federation.vocab.normalize import ProtocolError, parse_actor


def check_target(actor: LocalActor, target: RemoteActor) -> None:
    """Mastodon (and we) accept a Move only when the new actor names the old one."""
    old = local.urls_of(actor).id
    try:
        aliases = parse_actor(target.document).also_known_as
    except ProtocolError as err:
        raise CommandError(f"{target.uri} is not a usable actor: {err.reason}") from err
    if old not in aliases:
        raise CommandError(
            f"{target.uri} does not list {old} in alsoKnownAs; import the archive there first"
        )
    if target.uri == old:
        raise CommandError("an actor cannot move to itself")


async def move(
    session: AsyncSession, actor: LocalActor, target: RemoteActor, now: datetime
) -> OutboxActivity:
    """Mark the actor moved and send `Move` (actor = object = old, target = new) to
    its followers, signed by the old actor as Mastodon requires."""
    if actor.moved_to is not None and actor.moved_to != target.uri:
        raise CommandError(f"{local.handle_of(actor)} already moved to {actor.moved_to}")
    check_target(actor, target)
    urls = local.urls_of(actor)
    actor.moved_to = target.uri
    actor.moved_at = now
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{urls.id}#moves/{int(now.timestamp())}",
        "type": "Move",
        "actor": urls.id,
        "object": urls.id,
        "target": target.uri,
        "to": [urls.followers],
    }
    # Not public: relays have no use for it, and the outbox would list it forever.
    return await to_followers(session, actor, document, now, public=False)


def new_location(actor: LocalActor, path: str, query: str = "") -> str:
    """Where one of the moved actor's object URLs lives now: the import keeps paths."""
    assert actor.moved_to is not None  # noqa: S101 - only asked for moved actors
    parts = urlsplit(actor.moved_to)
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{query}" if query else "")
