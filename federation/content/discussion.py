"""Discussing a member's practice: finding who to answer, from the library or the origin."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from federation.actors import remote
from federation.errors import CommandError
from federation.inbox.intake import signer_for
from federation.outbox.publish import ReplyTarget
from federation.runtime import Runtime
from federation.store.models import LibraryItem
from federation.transport.client import FetchError
from federation.vocab.normalize import ProtocolError, host_of, parse_object


async def reply_target(rt: Runtime, domain: str, uri: str) -> ReplyTarget:
    """The object `uri` and its author, known from the library or fetched from its origin."""
    signer = await signer_for(rt, domain)
    async with rt.sessions() as session:
        item = (
            await session.execute(select(LibraryItem).where(LibraryItem.uri == uri))
        ).scalar_one_or_none()
    author_uri = item.actor_uri if item is not None else None
    if author_uri is None:
        try:
            obj = parse_object(await rt.client.get_json(uri, signer=signer))
        except (FetchError, ProtocolError) as err:
            raise CommandError(f"cannot read {uri}: {getattr(err, 'reason', err)}") from err
        if obj.id != uri or obj.attributed_to is None:
            raise CommandError(f"{uri} has no author we can answer")
        author_uri = obj.attributed_to
    if host_of(author_uri) != host_of(uri):
        raise CommandError(f"{uri} is not published by its author's server")
    try:
        author = await remote.resolve(rt, author_uri, signer)
    except FetchError as err:
        raise CommandError(f"cannot reach the author of {uri}: {err.reason}") from err
    handle = f"{author.username}@{urlsplit(author.uri).netloc}" if author.username else None
    return ReplyTarget(uri, author.uri, author.inbox, handle)
