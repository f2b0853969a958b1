"""Key resolution for inbound signatures: key id -> (public key, owner)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urldefrag

from sqlalchemy.ext.asyncio import AsyncSession

from federation import keypairs
from federation.actors import remote
from federation.runtime import Runtime
from federation.store.models import RemoteKey
from federation.transport.client import FetchError, Signer
from federation.vocab.normalize import ProtocolError, parse_actor


@dataclass(frozen=True)
class ResolvedKey:
    key_id: str
    owner: str
    public_key: keypairs.PublicKey
    from_cache: bool


class KeyUnavailable(Exception):
    """The key could not be found or fetched; `.reason` says why."""

    def __init__(self, reason: str, temporary: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


async def _cached(session: AsyncSession, key_id: str) -> RemoteKey | None:
    return await session.get(RemoteKey, key_id)


async def resolve_key(
    rt: Runtime, key_id: str, signer: Signer, *, refresh: bool = False
) -> ResolvedKey:
    """Find the key: cache first, else a signed GET of the key id (or its owner)."""
    max_age = timedelta(seconds=rt.settings.signatures.key_cache_seconds)
    if not refresh:
        # Parsed keys stay in memory a minute (PEM parsing and a query saved per
        # request); the stored row's age still decides when to fetch again.
        remembered: tuple[ResolvedKey, datetime] | None = rt.remote_keys.get(key_id)
        if remembered is not None and rt.clock.now() - remembered[1] < max_age:
            return remembered[0]
        async with rt.sessions() as session:
            row = await _cached(session, key_id)
        if row is not None and rt.clock.now() - row.fetched_at < max_age:
            return _remember(rt, row, from_cache=True)
    rt.remote_keys.drop(key_id)
    await _fetch_keys(rt, key_id, signer)
    async with rt.sessions() as session:
        row = await _cached(session, key_id)
    if row is None:
        raise KeyUnavailable(f"the actor does not publish the key {key_id}")
    return _remember(rt, row, from_cache=False)


def _remember(rt: Runtime, row: RemoteKey, *, from_cache: bool) -> ResolvedKey:
    resolved = _resolved(row, from_cache=from_cache)
    rt.remote_keys.put(row.key_id, (replace(resolved, from_cache=True), row.fetched_at))
    return resolved


def _resolved(row: RemoteKey, *, from_cache: bool) -> ResolvedKey:
    try:
        public = keypairs.public_from_pem(row.pem)
    except keypairs.KeyFormatError as err:
        raise KeyUnavailable(f"unreadable key {row.key_id}: {err}") from err
    return ResolvedKey(row.key_id, row.owner_uri, public, from_cache)


async def _fetch_keys(rt: Runtime, key_id: str, signer: Signer) -> None:
    url = urldefrag(key_id).url
    try:
        document = await rt.client.get_json(url, signer=signer)
    except FetchError as err:
        temporary = err.status is None or err.status >= 500 or err.status == 429
        raise KeyUnavailable(f"cannot fetch key: {err.reason}", temporary) from err
    owner_uri = url
    # A key document (GoToSocial's /main-key path) names its owner; the owner's
    # actor document is then the authority on which keys it holds.
    if "publicKeyPem" in document and isinstance(document.get("owner"), str):
        owner_uri = str(document["owner"])
        try:
            actor = await remote.fetch_actor_document(rt, owner_uri, signer)
        except FetchError as err:
            raise KeyUnavailable(f"cannot fetch key owner: {err.reason}", True) from err
    else:
        try:
            actor = parse_actor(document)
        except ProtocolError as err:
            raise KeyUnavailable(f"key id is not an actor: {err.reason}") from err
        if actor.id != url:
            raise KeyUnavailable("the fetched actor's id differs from the key's URL")
    async with rt.sessions.begin() as session:
        await remote.store(session, actor, rt.clock.now())
