"""Inbound activities about our commons: participations in our events (Join,
Leave, Accept, TentativeAccept) and declarations about our tools (a `Relationship`
created or deleted). Called by `inbox.handlers`; each returns an outcome, or None
when the activity is not about our commons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from federation.actors import local, remote
from federation.content import declarations, participation
from federation.runtime import Runtime
from federation.store.models import LocalObject
from federation.transport.client import FetchError, Signer
from federation.vocab.normalize import Activity, id_of

Resolve = Callable[[str], Awaitable[Any]]


def _event_id(activity: Activity) -> str | None:
    """The event a participation is about: its object, or the object of an embedded
    Join (an Accept may answer an invitation that way)."""
    if activity.object is not None and activity.object.get("type") in ("Join", "Invite"):
        return id_of(activity.object.get("object"))
    return activity.object_id


async def participate(rt: Runtime, signer: Signer, activity: Activity, kind: str) -> str | None:
    """Join, Accept or TentativeAccept of one of our events: record it, and answer
    the participant (Accept, or Reject when full or by invitation only)."""
    event_uri = _event_id(activity)
    async with rt.sessions() as session:
        event = await participation.our_event(session, event_uri)
    if event is None:
        return None
    try:
        participant = await remote.resolve(rt, activity.actor, signer)
    except FetchError:
        participant = None  # recorded anyway; the answer needs the actor's inbox
    now = rt.clock.now()
    async with rt.sessions.begin() as session:
        done = await participation.record(session, event, activity.actor, activity.id, kind, now)
        organiser = await local.by_id(session, event.local_actor_id)
        # A pending participation is answered when the organiser approves it.
        if participant is not None and organiser is not None and done.kind != "pending":
            echo = participation.echo(activity.id, activity.type, activity.actor, event.uri)
            await participation.answer(
                session, organiser, participant, echo, now, accepted=done.refused is None
            )
    rt.delivery_wakeup.set()
    if done.refused is not None:
        return f"ignored: {done.refused}"
    return f"processed: participation ({done.kind}) recorded"


async def leave(rt: Runtime, activity: Activity) -> str:
    async with rt.sessions.begin() as session:
        event = await participation.our_event(session, _event_id(activity))
        if event is None:
            return "ignored: leave of no event of ours"
        if not await participation.withdraw(session, event.uri, activity.actor):
            return "ignored: was not taking part"
    return "processed: participation withdrawn"


async def declaration(rt: Runtime, activity: Activity, tool: LocalObject | None) -> str | None:
    """A Create of a `Relationship` declaring use of, or contribution to, our tool."""
    document = activity.object
    if document is None:
        return None
    relation = declarations.relation_of(document)
    if relation is None:
        return None
    if tool is None or tool.kind != "tool" or tool.deleted_at is not None:
        return "ignored: declaration about no tool of ours"
    if id_of(document.get("subject")) != activity.actor:
        return "ignored: declaration on behalf of someone else"
    declaration_uri = id_of(document.get("id"))
    if declaration_uri is None:
        return "ignored: declaration without an id"
    async with rt.sessions.begin() as session:
        await declarations.record(
            session, tool, activity.actor, declaration_uri, activity.id, relation, rt.clock.now()
        )
    return f"processed: declaration ({relation}) recorded"
