"""Relay subscriptions: the domain's application actor follows fediverse relays.

A relay (activityrelay, the LitePub relay many Mastodon servers use) re-broadcasts what
its subscribers send it: a public `Create` is relayed to every other subscriber as an
`Announce` of the object's id. Subscribing is what Mastodon does: the application actor
of our domain (`<base>/actor`, type `Application`; activityrelay refuses any other type)
sends the relay a `Follow` whose object is `as:Public`. activityrelay ignores that object
and accepts the sender; Pleroma-style relays read the same message.

The subscription is a `followings` row owned by the application actor: pending until
the relay's `Accept`, then accepted. Once it is accepted:

- the public activities of our organisations (`Create`, `Update`, `Delete`, `Announce`
  addressed to `as:Public`) are also delivered to the relay's inbox (`inboxes_for`,
  called by `publish.to_followers`);
- the relay's `Announce`s reach our shared inbox, and the relay counts as followed
  (`content.library.is_followed`), so an announced practice is fetched from its origin
  and stored in the library like a member's share;
- activityrelay follows the application actor back; `inbox.handlers.on_follow` accepts
  that `Follow` from a relay we subscribed to (`is_subscribed`), and only from one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows, local, remote
from federation.errors import CommandError
from federation.outbox import follow, publish
from federation.runtime import Runtime
from federation.store.models import Following, LocalActor, RemoteActor
from federation.vocab import build
from federation.vocab.constants import AS_PUBLIC, PUBLIC_FORMS
from federation.vocab.normalize import id_of

RELAYED_TYPES = frozenset({"Create", "Update", "Delete", "Announce"})
RELAY_TYPES = frozenset({"Application", "Service"})
STATES = (follows.ACCEPTED, follows.PENDING, follows.REJECTED)


async def application(session: AsyncSession, domain: str) -> LocalActor:
    """The domain's application actor: the one that subscribes to relays."""
    actor = await local.application_of(session, domain)
    if actor is None:
        raise CommandError(f"no application actor for {domain}; run 'declics migrate'")
    return actor


async def resolve(rt: Runtime, domain: str, url: str) -> RemoteActor:
    """The relay's actor from the URL an operator gives: the actor's own URL, or any URL
    that answers with the relay's actor document (activityrelay answers its actor at its
    inbox URL too, which is what Mastodon asks operators for). Fetched by signed GETs."""
    async with rt.sessions() as session:
        signer = local.signer_of(await application(session, domain))
    document = await rt.client.get_json(url, signer=signer)
    actor_id = id_of(document.get("id"))
    if actor_id is None or not isinstance(document.get("inbox"), str):
        raise CommandError(f"{url} does not answer with an actor: give the relay's URL")
    relay = await remote.resolve(rt, actor_id, signer, refresh=True)
    if relay.actor_type not in RELAY_TYPES:
        raise CommandError(f"{relay.uri} is a {relay.actor_type}, not a relay (Application)")
    return relay


async def subscribe(
    session: AsyncSession, app_actor: LocalActor, relay: RemoteActor, now: datetime
) -> str:
    """Send the relay a `Follow` of `as:Public` by the application actor; returns its id.
    Subscribing again re-sends it (an accepted subscription stays accepted)."""
    return await follow.follow(session, app_actor, relay, now, followed=AS_PUBLIC)


async def unsubscribe(
    session: AsyncSession, app_actor: LocalActor, relay: RemoteActor, now: datetime
) -> None:
    """Send the relay an `Undo` of our `Follow`; forget the relay's follow of us too."""
    row = await follows.get_following(session, app_actor.id, relay.id)
    if row is None:
        raise CommandError(f"not subscribed to {relay.uri}")
    urls = local.urls_of(app_actor)
    undo = build.activity(
        "Undo",
        f"{row.follow_activity_uri}#undo",
        urls.id,
        {"id": row.follow_activity_uri, "type": "Follow", "actor": urls.id, "object": AS_PUBLIC},
        to=[relay.uri],
    )
    await session.delete(row)
    await follows.remove_follower(session, app_actor.id, relay.id)
    await publish.send(session, app_actor, undo, inboxes=[relay.inbox], now=now)


async def subscriptions(
    session: AsyncSession, app_actor: LocalActor
) -> list[tuple[Following, RemoteActor]]:
    """Every relay the application actor follows or asked to follow, with its state."""
    return await follows.followings(session, app_actor.id, STATES)


async def find(session: AsyncSession, app_actor: LocalActor, url: str) -> RemoteActor:
    """A relay we subscribed to, by its actor URL or its inbox URL (no network)."""
    for _row, relay in await subscriptions(session, app_actor):
        if url in (relay.uri, relay.inbox, relay.shared_inbox):
            return relay
    raise CommandError(f"not subscribed to {url}")


async def is_subscribed(session: AsyncSession, app_actor: LocalActor, actor: RemoteActor) -> bool:
    """Did the application actor ask to follow `actor` (a relay), pending or accepted?"""
    if app_actor.actor_type != local.APPLICATION:
        return False
    row = await follows.get_following(session, app_actor.id, actor.id)
    return row is not None and row.state in (follows.PENDING, follows.ACCEPTED)


def _is_public(document: Mapping[str, Any]) -> bool:
    audience: list[Any] = []
    for key in ("to", "cc"):
        value = document.get(key)
        audience.extend(value if isinstance(value, list) else [value])
    return any(isinstance(a, str) and a in PUBLIC_FORMS for a in audience)


async def inboxes_for(
    session: AsyncSession, actor: LocalActor, document: Mapping[str, Any]
) -> list[str]:
    """The inboxes of the relays our domain subscribed to (accepted), when `document` is a
    public activity of an organisation that relays carry; otherwise none."""
    if (
        actor.actor_type == local.APPLICATION
        or document.get("type") not in RELAYED_TYPES
        or not _is_public(document)
    ):
        return []
    app_actor = await local.application_of(session, actor.domain)
    if app_actor is None:
        return []
    rows = await session.execute(
        select(RemoteActor.shared_inbox, RemoteActor.inbox)
        .join(Following, RemoteActor.id == Following.remote_actor_id)
        .where(
            Following.local_actor_id == app_actor.id,
            Following.state == follows.ACCEPTED,
            RemoteActor.gone_at.is_(None),
        )
    )
    return list(dict.fromkeys(shared or inbox for shared, inbox in rows.all()))
