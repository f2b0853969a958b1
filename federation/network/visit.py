"""One visit of the crawl: is this actor a member, and what does it say and follow?

A remote actor is read only after its server's NodeInfo says Déclics (one look-up
per server and round), so the followed Mastodon accounts of a member cost one request per
host, not one per account. Every link a member gives (commitments, following,
directory, their pages) must be on its own host: a member speaks for itself only.
Our own organisations are read from the database, not over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select

from federation.actors import follows, local, trust
from federation.content import commitments, identity, practices
from federation.network import members, signals
from federation.network.fetcher import Fetcher
from federation.network.writes import write
from federation.outbox import objects
from federation.runtime import Runtime
from federation.store.models import LocalActor, LocalObject
from federation.transport.client import JSON_CONTENT_TYPES, FetchError
from federation.vocab.constants import NODEINFO_20, NODEINFO_21
from federation.vocab.normalize import (
    ProtocolError,
    host_of,
    parse_actor,
    parse_collection,
    parse_nodeinfo,
    parse_nodeinfo_links,
)

# Bounds on what one member makes us read.
MAX_FOLLOWING = 2000
MAX_PAGES = 100

MEMBER = "member"
NOT_MEMBER = "not-member"
UNREACHABLE = "unreachable"
GONE = "gone"
BLOCKED = "blocked"
FULL = "full"


@dataclass(frozen=True)
class Visit:
    outcome: str
    error: str | None = None
    found: tuple[str, ...] = ()  # actors to visit next, one step further


class HostChecks:
    """Whether each server is a Déclics one, asked once per round: its members then
    cost no more look-ups, and a server that is down is not asked again and again."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._answers: dict[str, bool | FetchError] = {}

    async def is_declics(self, fetcher: Fetcher, uri: str) -> bool:
        server = urlsplit(uri).netloc.lower()
        async with self._locks.setdefault(server, asyncio.Lock()):
            if server not in self._answers:
                try:
                    self._answers[server] = await _declics_host(fetcher, uri)
                except FetchError as err:
                    self._answers[server] = err
        answer = self._answers[server]
        if isinstance(answer, FetchError):
            raise answer
        return answer


async def visit(rt: Runtime, fetcher: Fetcher, hosts: HostChecks, uri: str, depth: int) -> Visit:
    async with rt.sessions() as session:
        org = await local.by_uri(session, uri)
    if org is not None and org.actor_type != local.APPLICATION:
        return await _local(rt, org, depth)
    async with rt.sessions() as session:
        blocked = await trust.is_blocked(session, None, uri)
    if blocked:
        await _forget(rt, uri)
        return Visit(BLOCKED)
    try:
        if not await hosts.is_declics(fetcher, uri):
            await _forget(rt, uri)
            return Visit(NOT_MEMBER, "its server is not a Déclics server")
        actor = parse_actor(await fetcher.get(uri))
    except FetchError as err:
        if err.gone:
            await _forget(rt, uri)
            return Visit(GONE, err.reason)
        reason, now = err.reason, rt.clock.now()
        await write(rt, lambda session: members.unreachable(session, uri, reason, now))
        return Visit(UNREACHABLE, reason)
    except ProtocolError as err:
        await _forget(rt, uri)
        return Visit(NOT_MEMBER, err.reason)
    if actor.id == uri and actor.moved_to:
        # A member that moved is listed at its new id, which is visited instead.
        await _forget(rt, uri)
        return Visit(GONE, f"moved to {actor.moved_to}", (actor.moved_to,))
    profile = signals.member_profile(actor) if actor.id == uri else None
    if profile is None:
        await _forget(rt, uri)
        return Visit(NOT_MEMBER)
    # All of the directory of our direct contacts, the first page of the others'.
    pages = (rt.settings.directory.max_members, MAX_PAGES if depth <= 1 else 1)
    progress = await _progress(fetcher, profile)
    practice_count, listed = await _directory(fetcher, profile, *pages)
    following = await _following(fetcher, profile)
    if practice_count is None and profile.directory_url is None:
        practice_count = await _outbox_total(fetcher, profile)
    seen = members.Sighting(profile, depth, False, progress, practice_count, following)
    return await _record(rt, seen, (*(following or ()), *listed))


async def _record(rt: Runtime, seen: members.Sighting, found: tuple[str, ...]) -> Visit:
    now, most = rt.clock.now(), rt.settings.directory.max_members
    row = await write(rt, lambda session: members.record(session, seen, now, most))
    if row is None:
        return Visit(FULL, "the directory is full ([directory] max_members)")
    return Visit(MEMBER, found=found)


async def _forget(rt: Runtime, uri: str) -> None:
    await write(rt, lambda session: members.remove(session, uri))


async def _declics_host(fetcher: Fetcher, uri: str) -> bool:
    """Whether the actor's host says, in its NodeInfo, that it is a Déclics member's.

    FetchError when the host cannot be asked now (network, 5xx): that says nothing.
    """
    parts = urlsplit(uri)
    host = host_of(uri)
    try:
        links = parse_nodeinfo_links(
            await fetcher.get(
                f"{parts.scheme}://{parts.netloc}/.well-known/nodeinfo",
                accept="application/json",
                content_types=JSON_CONTENT_TYPES,
            )
        )
        href = links.get(NODEINFO_21) or links.get(NODEINFO_20) or next(iter(links.values()))
        if host_of(href) != host:
            return False
        info = parse_nodeinfo(
            await fetcher.get(href, accept="application/json", content_types=JSON_CONTENT_TYPES)
        )
    except ProtocolError:
        return False
    except FetchError as err:
        if err.status in (200, 403, 404, 410):  # answered, and not with a NodeInfo we read
            return False
        raise
    return signals.nodeinfo_is_declics(info)


async def _items(
    fetcher: Fetcher, url: str, host: str, max_items: int, max_pages: int
) -> list[object]:
    """Items of a collection on `host`, page after page, within the bounds."""
    collection = parse_collection(await fetcher.get(url))
    items = list(collection.items)
    page_ref: str | Mapping[str, object] | None = collection.first
    seen = {url}
    pages = 0
    while page_ref is not None and len(items) < max_items and pages < max_pages:
        if isinstance(page_ref, str):
            if page_ref in seen or host_of(page_ref) != host:
                break
            seen.add(page_ref)
            document: Mapping[str, object] = await fetcher.get(page_ref)
        else:
            document = page_ref
        page = parse_collection(document)
        items.extend(page.items)
        pages += 1
        page_ref = page.next
    return items[:max_items]


async def _progress(
    fetcher: Fetcher, profile: signals.MemberProfile
) -> tuple[signals.Progress, ...] | None:
    if profile.commitments_url is None:
        return ()
    try:
        return signals.commitments_progress(await fetcher.get(profile.commitments_url), profile.uri)
    except (FetchError, ProtocolError):
        return None


async def _directory(
    fetcher: Fetcher, profile: signals.MemberProfile, max_items: int, max_pages: int
) -> tuple[int | None, list[str]]:
    """The member's own practice count (its entry comes first), and the members its
    directory lists."""
    if profile.directory_url is None:
        return None, []
    try:
        items = await _items(
            fetcher, profile.directory_url, host_of(profile.uri), max_items, max_pages
        )
    except (FetchError, ProtocolError):
        return None, []
    return signals.self_reported_practices(items, profile.uri), signals.listed_ids(items)


async def _following(fetcher: Fetcher, profile: signals.MemberProfile) -> list[str] | None:
    if profile.following_url is None:
        return []
    try:
        items = await _items(
            fetcher, profile.following_url, host_of(profile.uri), MAX_FOLLOWING, MAX_PAGES
        )
    except (FetchError, ProtocolError):
        return None
    return signals.listed_ids(items)


async def _outbox_total(fetcher: Fetcher, profile: signals.MemberProfile) -> int | None:
    """For a member without a directory: its outbox's size stands in for its practices."""
    if profile.outbox_url is None:
        return None
    try:
        return parse_collection(await fetcher.get(profile.outbox_url)).total_items
    except (FetchError, ProtocolError):
        return None


async def _local(rt: Runtime, org: LocalActor, depth: int) -> Visit:
    """One of our organisations, from the database; its contacts seed the crawl."""
    async with rt.sessions() as session:
        content = rt.settings.content_for(local.handle_of(org))
        document = await identity.actor_document(session, org, content, rt.clock.now())
        statement = await objects.by_kind(session, org, commitments.KIND)
        practice_count = int(
            (
                await session.execute(
                    select(func.count(LocalObject.id)).where(
                        LocalObject.local_actor_id == org.id,
                        LocalObject.kind == practices.KIND,
                        LocalObject.deleted_at.is_(None),
                    )
                )
            ).scalar_one()
        )
        following = [actor.uri for _row, actor in await follows.followings(session, org.id)]
        followers = [actor.uri for _row, actor in await follows.followers(session, org.id)]
    found = tuple(dict.fromkeys((*following, *followers)))
    profile = signals.member_profile(parse_actor(document))
    if profile is None:
        await _forget(rt, local.urls_of(org).id)
        return Visit(NOT_MEMBER, "no charter adhesion published yet", found)
    progress = (
        signals.commitments_progress(statement.document, profile.uri)
        if statement is not None and statement.deleted_at is None
        else ()
    )
    seen = members.Sighting(profile, depth, True, progress, practice_count, following)
    return await _record(rt, seen, found)
