"""Remote actors: fetched by signed GET, cached in the database with their keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urldefrag

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import keypairs
from federation.runtime import Runtime
from federation.store.engine import insert_or_ignore
from federation.store.models import RemoteActor, RemoteKey
from federation.transport.client import FetchError, Signer
from federation.vocab.normalize import Actor, ProtocolError, host_of, parse_actor

ACTOR_REFRESH = timedelta(days=1)


async def get_cached(session: AsyncSession, uri: str) -> RemoteActor | None:
    return (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == uri))
    ).scalar_one_or_none()


def _keys_of(actor: Actor) -> list[tuple[str, str]]:
    """(key id, PEM) of every key the actor controls, RSA and Ed25519 alike."""
    keys = [(key.id, key.pem) for key in actor.keys]
    for multikey in actor.multikeys:
        try:
            public = keypairs.public_from_multibase(multikey.multibase)
        except keypairs.KeyFormatError:
            continue
        if isinstance(public, ed25519.Ed25519PublicKey) or multikey.id not in dict(keys):
            keys.append((multikey.id, keypairs.public_to_pem(public)))
    return keys


async def store(session: AsyncSession, actor: Actor, now: datetime) -> RemoteActor:
    """Insert or refresh the cached copy of an actor and replace its keys."""
    row = await get_cached(session, actor.id)
    if row is None:
        # Two requests may cache the same actor at once: the second one updates.
        await session.execute(
            insert_or_ignore(session, RemoteActor).values(
                uri=actor.id,
                host=host_of(actor.id),
                actor_type=actor.type,
                inbox=actor.inbox,
                document={},
                fetched_at=now,
            )
        )
        row = await get_cached(session, actor.id)
        if row is None:  # pragma: no cover - inserted just above
            raise LookupError(actor.id)
    row.host = host_of(actor.id)
    row.actor_type = actor.type
    row.username = actor.preferred_username
    row.name = actor.name
    row.inbox = actor.inbox
    row.shared_inbox = actor.shared_inbox
    row.url = actor.url
    row.document = dict(actor.raw)
    row.fetched_at = now
    row.gone_at = None
    await session.execute(delete(RemoteKey).where(RemoteKey.owner_uri == actor.id))
    for key_id, pem in _keys_of(actor):
        await session.merge(RemoteKey(key_id=key_id, owner_uri=actor.id, pem=pem, fetched_at=now))
    await session.flush()
    return row


async def fetch_actor_document(rt: Runtime, uri: str, signer: Signer) -> Actor:
    """Fetch and parse an actor; its id must be the URL we asked for."""
    document = await rt.client.get_json(uri, signer=signer)
    try:
        actor = parse_actor(document)
    except ProtocolError as err:
        raise FetchError(f"not a usable actor: {err.reason}", 200) from err
    if actor.id != uri:
        raise FetchError(f"actor id {actor.id!r} differs from its URL", 200)
    return actor


async def resolve(rt: Runtime, uri: str, signer: Signer, *, refresh: bool = False) -> RemoteActor:
    """The actor at `uri`: from the cache when fresh, else fetched and stored."""
    uri = urldefrag(uri).url
    now = rt.clock.now()
    async with rt.sessions() as session:
        cached = await get_cached(session, uri)
    if cached is not None and not refresh and now - cached.fetched_at < ACTOR_REFRESH:
        return cached
    actor = await fetch_actor_document(rt, uri, signer)
    async with rt.sessions.begin() as session:
        return await store(session, actor, now)
