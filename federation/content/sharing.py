"""Sharing a member's practice (Announce) and adopting it (a derived local practice)."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import proofs
from federation.actors import local, remote
from federation.content import licences, practices
from federation.delivery import queue
from federation.errors import CommandError
from federation.outbox.publish import new_uri, to_followers
from federation.store.models import LibraryItem, LocalActor, LocalObject, OutboxActivity
from federation.vocab import build
from federation.vocab.constants import AS_PUBLIC


async def library_item(session: AsyncSession, uri: str) -> LibraryItem:
    row = (
        await session.execute(select(LibraryItem).where(LibraryItem.uri == uri))
    ).scalar_one_or_none()
    if row is None or row.deleted_at is not None:
        raise CommandError(f"{uri} is not in the library")
    return row


async def _author_inbox(session: AsyncSession, author_uri: str) -> list[str]:
    author = await remote.get_cached(session, author_uri)
    return [author.inbox] if author is not None and author.gone_at is None else []


async def share(
    session: AsyncSession, actor: LocalActor, uri: str, now: datetime
) -> OutboxActivity:
    """Boost a library item to our followers, telling its author too."""
    item = await library_item(session, uri)
    urls = local.urls_of(actor)
    # With its author's proof, the practice travels whole: members verify it without
    # asking its origin. Without one, only its address is shared.
    shared: object = item.document if proofs.has_proof(item.document) else item.uri
    document = build.activity(
        "Announce",
        new_uri(actor, "activities"),
        urls.id,
        shared,
        to=[AS_PUBLIC],
        cc=[urls.followers, item.actor_uri],
        published=now,
    )
    return await to_followers(
        session, actor, document, now, extra_inboxes=await _author_inbox(session, item.actor_uri)
    )


def _markdown_of(item: LibraryItem) -> str:
    if item.source:
        return item.source
    # No Markdown source was published: keep the text, drop the markup.
    text = re.sub(r"<br\s*/?>|</p>", "\n\n", item.content_html or "")
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _first_paragraph(html: str) -> str:
    match = re.search(r"<p>(.*?)</p>", html, re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1) if match else html)).strip()


def adoption_licence(
    item: LibraryItem, *, confirm_unknown: bool, chosen: str | None
) -> licences.Licence:
    """The licence of the derived practice, or a CommandError saying why it is refused."""
    origin = licences.find(item.licence or "")
    if origin is None:
        if not confirm_unknown:
            raise CommandError(
                "the practice's licence is unknown; check that you may reuse it, then "
                "adopt again with --confirm"
            )
        found = licences.find(chosen or "")
        if found is None:
            raise CommandError("with an unknown origin licence, name yours with --licence")
        return found
    if origin.no_derivatives:
        raise CommandError(f"{origin.name} forbids derived works: this practice cannot be adopted")
    if origin.share_alike or not origin.free:
        # Share-alike must be kept; a non-free licence (NC) binds the derived work too.
        if chosen and licences.find(chosen) != origin:
            why = "is share-alike" if origin.share_alike else "restricts reuse"
            raise CommandError(f"{origin.name} {why}: the adoption keeps that licence")
        return origin
    if chosen:
        found = licences.find(chosen)
        if found is None:
            raise CommandError(f"unknown licence {chosen!r}")
        return found
    return origin


async def adopt(
    session: AsyncSession,
    actor: LocalActor,
    uri: str,
    now: datetime,
    language: str,
    *,
    confirm_unknown: bool = False,
    licence: str | None = None,
) -> tuple[LocalObject, OutboxActivity]:
    """A local practice derived from a member's, with attribution; the origin is told."""
    item = await library_item(session, uri)
    if item.kind != practices.KIND:
        raise CommandError("only practices can be adopted")
    chosen = adoption_licence(item, confirm_unknown=confirm_unknown, chosen=licence)
    author = await remote.get_cached(session, item.actor_uri)
    author_name = (author.name if author else None) or item.actor_uri
    body = (
        f"{_markdown_of(item)}\n\n---\n\n"
        f"Pratique adoptée de « [{item.title or item.uri}]({item.uri}) », "
        f"par [{author_name}]({item.actor_uri}), sous licence {chosen.name}.\n"
    )
    draft = practices.PracticeDraft(
        title=item.title or "Pratique adoptée",
        summary=_first_paragraph(item.summary or ""),
        body=body,
        themes=tuple(item.themes) or (7,),
        licence=chosen,
        derived_from=item.uri,
    )
    obj, activity = await practices.publish(session, actor, draft, now, language)
    await queue.plan(session, activity.id, await _author_inbox(session, item.actor_uri), now)
    return obj, activity
