"""Who takes part in an event: the organiser's list, and our own Join and Leave.

Inbound, a participation is an `Interaction` of kind `join` (Join, Accept),
`maybe` (TentativeAccept) or `pending` (a Join of a `restricted` event, until the
organiser approves it) on the event, keyed by the activity's id so that an
`Undo` finds it; a `Leave` removes the actor's. Outbound, a member joins or leaves
a followed member's event (from its library) by telling the organiser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.errors import CommandError
from federation.outbox.publish import new_uri, send
from federation.store.models import (
    Interaction,
    LibraryItem,
    LocalActor,
    LocalObject,
    OutboxActivity,
    RemoteActor,
)
from federation.vocab import build

KINDS = ("join", "maybe", "pending")


async def our_event(session: AsyncSession, uri: str | None) -> LocalObject | None:
    if uri is None:
        return None
    return (
        await session.execute(
            select(LocalObject).where(
                LocalObject.uri == uri,
                LocalObject.kind == "event",
                LocalObject.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()


async def count(session: AsyncSession, event_uri: str) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    Interaction.object_uri == event_uri, Interaction.kind == "join"
                )
            )
        ).scalar_one()
    )


@dataclass(frozen=True)
class Recorded:
    kind: str  # join, maybe or pending
    refused: str | None = None  # why, when it is refused (full, by invitation)


async def record(
    session: AsyncSession,
    event: LocalObject,
    actor_uri: str,
    activity_id: str,
    kind: str,
    now: datetime,
) -> Recorded:
    """Record a participation, or say why it is refused."""
    join_mode = event.document.get("joinMode")
    if join_mode == "invite":
        return Recorded(kind, "this event is by invitation only")
    existing = list(
        (
            await session.execute(
                select(Interaction).where(
                    Interaction.object_uri == event.uri,
                    Interaction.actor_uri == actor_uri,
                    Interaction.kind.in_(KINDS),
                )
            )
        ).scalars()
    )
    already = any(row.kind == "join" for row in existing)
    if kind == "join" and join_mode == "restricted" and not already:
        kind = "pending"  # the organiser approves it (`declics event approve`)
    if kind == "join" and not already and await _full(session, event):
        return Recorded(kind, "this event is full")
    for row in existing:
        await session.delete(row)
    await session.flush()
    session.add(
        Interaction(
            local_actor_id=event.local_actor_id,
            object_uri=event.uri,
            kind=kind,
            actor_uri=actor_uri,
            activity_uri=activity_id,
            hidden=False,
            created_at=now,
        )
    )
    return Recorded(kind)


async def _full(session: AsyncSession, event: LocalObject) -> bool:
    capacity = event.document.get("maximumAttendeeCapacity")
    return isinstance(capacity, int) and await count(session, event.uri) >= capacity


async def approve(
    session: AsyncSession, organiser: LocalActor, event: LocalObject, actor_uri: str, now: datetime
) -> Interaction:
    """The organiser admits a pending participant of a restricted event: Accept."""
    row = (
        await session.execute(
            select(Interaction).where(
                Interaction.object_uri == event.uri,
                Interaction.actor_uri == actor_uri,
                Interaction.kind == "pending",
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise CommandError(f"{actor_uri} is not waiting for approval for {event.uri}")
    if await _full(session, event):
        raise CommandError(f"{event.uri} is full")
    participant = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == actor_uri))
    ).scalar_one_or_none()
    if participant is None:
        raise CommandError(f"{actor_uri} is not known here")
    row.kind = "join"
    await answer(
        session,
        organiser,
        participant,
        echo(row.activity_uri, "Join", actor_uri, event.uri),
        now,
        accepted=True,
    )
    return row


async def refuse(
    session: AsyncSession, organiser: LocalActor, event: LocalObject, actor_uri: str, now: datetime
) -> str:
    """The organiser turns down a pending participant of a restricted event: Reject."""
    row = (
        await session.execute(
            select(Interaction).where(
                Interaction.object_uri == event.uri,
                Interaction.actor_uri == actor_uri,
                Interaction.kind == "pending",
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise CommandError(f"{actor_uri} is not waiting for approval for {event.uri}")
    participant = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == actor_uri))
    ).scalar_one_or_none()
    if participant is None:
        raise CommandError(f"{actor_uri} is not known here")
    activity = row.activity_uri
    await session.delete(row)
    await answer(
        session,
        organiser,
        participant,
        echo(activity, "Join", actor_uri, event.uri),
        now,
        accepted=False,
    )
    return actor_uri


async def withdraw(session: AsyncSession, event_uri: str, actor_uri: str) -> bool:
    result = await session.execute(
        delete(Interaction).where(
            Interaction.object_uri == event_uri,
            Interaction.actor_uri == actor_uri,
            Interaction.kind.in_(KINDS),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def participants(
    session: AsyncSession, event_uri: str
) -> list[tuple[Interaction, RemoteActor | None]]:
    """The event's participants, with what we know of each (name, handle)."""
    rows = await session.execute(
        select(Interaction, RemoteActor)
        .outerjoin(RemoteActor, RemoteActor.uri == Interaction.actor_uri)
        .where(Interaction.object_uri == event_uri, Interaction.kind.in_(KINDS))
        .order_by(Interaction.created_at)
    )
    return [(interaction, actor) for interaction, actor in rows.all()]


async def inboxes(session: AsyncSession, event_uri: str) -> list[str]:
    """Where the participants read: each one's shared inbox, else its own."""
    rows = await participants(session, event_uri)
    return sorted({a.shared_inbox or a.inbox for _, a in rows if a is not None and not a.gone_at})


def echo(activity_id: str, activity_type: str, actor_uri: str, event_uri: str) -> dict[str, Any]:
    """The participation an Accept or Reject answers, embedded as Mobilizon does."""
    return {"id": activity_id, "type": activity_type, "actor": actor_uri, "object": event_uri}


async def answer(
    session: AsyncSession,
    organiser: LocalActor,
    participant: RemoteActor,
    participation: dict[str, Any],
    now: datetime,
    *,
    accepted: bool,
) -> OutboxActivity:
    """Tell a participant its participation is accepted (or refused)."""
    urls = local.urls_of(organiser)
    document = build.activity(
        "Accept" if accepted else "Reject",
        new_uri(organiser, "activities"),
        urls.id,
        participation,
        to=[participant.uri],
    )
    return await send(session, organiser, document, inboxes=[participant.inbox], now=now)


async def joined(session: AsyncSession, actor: LocalActor) -> list[LibraryItem]:
    """The followed members' events we take part in: our last `Join` of each, not
    followed by a `Leave` (our outbox is the record), still in the library."""
    rows = await session.execute(
        select(OutboxActivity.activity_type, OutboxActivity.object_uri)
        .where(
            OutboxActivity.local_actor_id == actor.id,
            OutboxActivity.activity_type.in_(("Join", "Leave")),
        )
        .order_by(OutboxActivity.created_at, OutboxActivity.id)
    )
    taking_part: dict[str, bool] = {}
    for activity_type, uri in rows.all():
        if uri:
            taking_part[uri] = activity_type == "Join"
    uris = [uri for uri, yes in taking_part.items() if yes]
    if not uris:
        return []
    items = await session.execute(
        select(LibraryItem)
        .where(
            LibraryItem.uri.in_(uris),
            LibraryItem.kind == "event",
            LibraryItem.deleted_at.is_(None),
        )
        .order_by(LibraryItem.starts_at)
    )
    return list(items.scalars())


async def _organiser_inbox(session: AsyncSession, event_uri: str) -> tuple[str, str]:
    item = (
        await session.execute(
            select(LibraryItem).where(
                LibraryItem.uri == event_uri,
                LibraryItem.kind == "event",
                LibraryItem.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if item is None:
        raise CommandError(f"{event_uri} is no event of the library (follow its organiser first)")
    organiser = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == item.actor_uri))
    ).scalar_one_or_none()
    if organiser is None or organiser.gone_at is not None:
        raise CommandError(f"the organiser of {event_uri} is not reachable")
    return organiser.uri, organiser.inbox


async def tell(
    session: AsyncSession, actor: LocalActor, event_uri: str, activity_type: str, now: datetime
) -> OutboxActivity:
    """Send our Join or Leave of a followed member's event to its organiser."""
    organiser_uri, inbox = await _organiser_inbox(session, event_uri)
    urls = local.urls_of(actor)
    document = build.activity(
        activity_type,
        new_uri(actor, "activities"),
        urls.id,
        event_uri,
        to=[organiser_uri],
        published=now,
    )
    return await send(session, actor, document, inboxes=[inbox], now=now)
