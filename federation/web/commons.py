"""iCalendar feeds of events: the organisation's (`<actor>/events.ics`: those it
organises and those it takes part in) and every event it knows, its own and its
library's (`<actor>/network-events.ics`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.content import events, ical, library, participation
from federation.store.models import LocalActor
from federation.web.context import organisation, runtime

# The network's feed leaves out events of others that ended longer ago than this.
PAST = timedelta(days=90)


async def _ours(session: AsyncSession, org: LocalActor) -> list[dict[str, Any]]:
    return [o.document for o in await events.listing(session, org) if o.deleted_at is None]


def _response(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def own_events(request: web.Request) -> web.StreamResponse:
    org = await organisation(request, request.match_info["username"])
    rt = runtime(request)
    async with rt.sessions() as session:
        documents = await _ours(session, org)
        documents += [i.document for i in await participation.joined(session, org)]
    name = f"{org.name or org.username} — événements"
    return _response(ical.calendar(name, documents, rt.clock.now()), "events.ics")


async def network_events(request: web.Request) -> web.StreamResponse:
    org = await organisation(request, request.match_info["username"])
    rt = runtime(request)
    async with rt.sessions() as session:
        documents = await _ours(session, org)
        since = rt.clock.now() - PAST
        documents += [
            i.document
            for i in await library.items(session, kind="event", current_at=since, readers=(org.id,))
        ]
    name = f"Déclics — événements du réseau ({org.name or org.username})"
    return _response(ical.calendar(name, documents, rt.clock.now()), "network-events.ics")
