"""'We use' and 'we contribute': a member's declarations about a peer's tool.

A declaration is an AS2 `Relationship` (subject: the member, relationship:
`declics:uses` or `declics:contributesTo`, object: the tool), one of our objects
(`local_objects.kind = "declaration"`) created and deleted like any other, sent to
our followers and to the tool's author, whose tool page then lists users and
contributors from across the network. Withdrawing it is its `Delete`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import commons
from federation.errors import CommandError
from federation.outbox import objects
from federation.store.models import (
    Interaction,
    LibraryItem,
    LocalActor,
    LocalObject,
    OutboxActivity,
    RemoteActor,
)
from federation.vocab import build, declics
from federation.vocab.constants import AS_PUBLIC
from federation.vocab.normalize import id_of

KIND = "declaration"
RELATIONS = {"uses": declics.USES, "contributes": declics.CONTRIBUTES_TO}
WORDS = {"uses": "utilise", "contributes": "contribue à"}


def relation_of(document: Mapping[str, Any]) -> str | None:
    """`uses` or `contributes` for an incoming declaration, else None."""
    if document.get("type") != "Relationship":
        return None
    wanted = id_of(document.get("relationship"))
    return next((name for name, iri in RELATIONS.items() if iri == wanted), None)


async def _tool(session: AsyncSession, tool_uri: str) -> tuple[LibraryItem, RemoteActor]:
    item = (
        await session.execute(
            select(LibraryItem).where(
                LibraryItem.uri == tool_uri,
                LibraryItem.kind == "tool",
                LibraryItem.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if item is None:
        raise CommandError(f"{tool_uri} is no tool of the library (follow its author first)")
    author = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == item.actor_uri))
    ).scalar_one_or_none()
    if author is None:
        raise CommandError(f"the author of {tool_uri} is not known here")
    return item, author


async def active(
    session: AsyncSession, actor: LocalActor, tool_uri: str | None = None
) -> list[LocalObject]:
    rows = await commons.listing(session, actor, (KIND,))
    return [
        r
        for r in rows
        if r.deleted_at is None and (tool_uri is None or r.document.get("object") == tool_uri)
    ]


async def declare(
    session: AsyncSession, actor: LocalActor, tool_uri: str, relation: str, now: datetime
) -> tuple[LocalObject, OutboxActivity]:
    if relation not in RELATIONS:
        raise CommandError("a declaration is 'uses' or 'contributes'")
    item, author = await _tool(session, tool_uri)
    for row in await active(session, actor, tool_uri):
        if row.document.get("relationship") == RELATIONS[relation]:
            raise CommandError(f"already declared: {row.uri}")
    urls = local.urls_of(actor)
    title = item.title or tool_uri

    def make(uri: str, published: datetime, _updated: datetime | None) -> dict[str, Any]:
        return {
            "@context": declics.context(),
            "id": uri,
            "type": "Relationship",
            "kind": KIND,
            "attributedTo": urls.id,
            "subject": urls.id,
            "relationship": RELATIONS[relation],
            "object": tool_uri,
            "name": f"{actor.name or actor.username} {WORDS[relation]} {title}",
            "url": uri,
            "published": build.iso(published),
            "to": [AS_PUBLIC],
            "cc": [urls.followers, author.uri],
        }

    def apply(obj: LocalObject) -> None:
        obj.title = title

    return await commons.publish(
        session,
        actor,
        kind=KIND,
        object_type="Relationship",
        collection="declarations",
        title=f"{relation}-{title}",
        build=make,
        apply=apply,
        now=now,
        extra_inboxes=[author.inbox],
    )


async def withdraw(
    session: AsyncSession, actor: LocalActor, tool_uri: str, relation: str, now: datetime
) -> list[LocalObject]:
    rows = [
        r
        for r in await active(session, actor, tool_uri)
        if r.document.get("relationship") == RELATIONS.get(relation)
    ]
    if not rows:
        raise CommandError(f"no '{relation}' declaration of ours for {tool_uri}")
    author = (
        await session.execute(
            select(RemoteActor.inbox)
            .join(LibraryItem, LibraryItem.actor_uri == RemoteActor.uri)
            .where(LibraryItem.uri == tool_uri)
        )
    ).scalar_one_or_none()
    for row in rows:
        await objects.delete(session, actor, row, now, extra_inboxes=[author] if author else [])
    return rows


async def record(
    session: AsyncSession,
    tool: LocalObject,
    actor_uri: str,
    declaration_uri: str,
    activity_id: str,
    relation: str,
    now: datetime,
) -> None:
    """Another member declared it uses (or contributes to) one of our tools."""
    existing = (
        await session.execute(
            select(Interaction).where(
                Interaction.object_uri == tool.uri,
                Interaction.actor_uri == actor_uri,
                Interaction.kind == relation,
            )
        )
    ).scalars()
    for row in existing:
        await session.delete(row)
    await session.flush()
    session.add(
        Interaction(
            local_actor_id=tool.local_actor_id,
            object_uri=tool.uri,
            kind=relation,
            actor_uri=actor_uri,
            activity_uri=activity_id,
            reply_uri=declaration_uri,
            hidden=False,
            created_at=now,
        )
    )


async def declared(
    session: AsyncSession, tool_uri: str
) -> list[tuple[Interaction, RemoteActor | None]]:
    """Who uses and who contributes to one of our tools, with what we know of each."""
    rows = await session.execute(
        select(Interaction, RemoteActor)
        .outerjoin(RemoteActor, RemoteActor.uri == Interaction.actor_uri)
        .where(Interaction.object_uri == tool_uri, Interaction.kind.in_(tuple(RELATIONS)))
        .order_by(Interaction.created_at)
    )
    return [(interaction, actor) for interaction, actor in rows.all()]
