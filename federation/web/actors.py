"""GET handlers for actors, their collections, and objects (with content negotiation)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local, trust
from federation.content import declarations, identity, participation
from federation.errors import BadRequest, NotFound
from federation.outbox import collections
from federation.served import Document
from federation.store.models import Interaction, LocalActor, LocalObject, OutboxActivity
from federation.vocab import build
from federation.web import pages
from federation.web.context import application, domain, organisation, runtime
from federation.web.negotiation import (
    ACTIVITY_JSON_HEADERS,
    AS2_CONTENT_TYPE,
    activity_json,
    wants_activity_json,
)


def _page(request: web.Request) -> int | None:
    raw = request.query.get("page")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
        raise BadRequest("page must be a positive whole number")
    return int(raw)


async def actor(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    if wants_activity_json(request):
        return await _served_document(request, username)
    org = await organisation(request, username)
    return await pages.profile(request, org)


async def _served_document(request: web.Request, username: str) -> web.Response:
    """The actor document from the served cache (federation.served), with its ETag."""
    rt = runtime(request)
    key = ("actor", domain(request), username)
    served = rt.served.documents.get(key)
    if served is None:
        org = await organisation(request, username)
        body = json.dumps(await _document(request, org), ensure_ascii=False).encode("utf-8")
        served = Document.of(body, AS2_CONTENT_TYPE, ACTIVITY_JSON_HEADERS)
        rt.served.documents.put(key, served)
    return served.response(request)


async def _document(request: web.Request, org: LocalActor) -> dict[str, Any]:
    rt = runtime(request)
    async with rt.sessions() as session:
        content = rt.settings.content_for(local.handle_of(org))
        return await identity.actor_document(session, org, content, rt.clock.now())


async def profile_page(request: web.Request) -> web.StreamResponse:
    return await actor(request)


async def home(request: web.Request) -> web.StreamResponse:
    org = await organisation(request)
    if wants_activity_json(request):
        return activity_json(await _document(request, org))
    return await pages.profile(request, org)


async def application_actor(request: web.Request) -> web.StreamResponse:
    app_actor = await application(request)
    return activity_json(local.document_of(app_actor))


async def application_outbox(request: web.Request) -> web.StreamResponse:
    app_actor = await application(request)
    return activity_json(build.ordered_collection(local.urls_of(app_actor).outbox, 0, None))


async def collection(request: web.Request) -> web.StreamResponse:
    org = await organisation(request, request.match_info["username"])
    which = request.match_info["collection"]
    builder = {
        "outbox": collections.outbox,
        "followers": collections.followers,
        "following": collections.following,
    }[which]
    async with runtime(request).sessions() as session:
        return activity_json(await builder(session, org, _page(request)))


async def local_object(request: web.Request) -> web.StreamResponse:
    rt = runtime(request)
    async with rt.sessions() as session:
        uri = f"{_base(request)}{request.path}"
        obj = (
            await session.execute(select(LocalObject).where(LocalObject.uri == uri))
        ).scalar_one_or_none()
        if obj is None:
            raise NotFound("no such object")
        owner = await local.by_id(session, obj.local_actor_id)
        counts = dict(
            (
                await session.execute(
                    select(Interaction.kind, func.count())
                    .where(Interaction.object_uri == uri, Interaction.hidden.is_(False))
                    .group_by(Interaction.kind)
                )
            ).all()
        )
        shown = list(
            (
                await session.execute(
                    select(Interaction)
                    .where(
                        Interaction.object_uri == uri,
                        Interaction.kind.in_(("reply", "adoption")),
                        Interaction.hidden.is_(False),
                    )
                    .order_by(Interaction.created_at)
                )
            ).scalars()
        )
        commons = await _commons_lists(session, obj)
    if owner is None:
        raise NotFound("no such object")
    if obj.deleted_at is not None:
        tomb = build.tombstone(obj.uri, obj.object_type, obj.deleted_at)
        if wants_activity_json(request):
            return activity_json(tomb, status=410)
        raise web.HTTPGone(reason="this object was deleted")
    if wants_activity_json(request):
        return activity_json(obj.document)
    return await pages.object_page(request, owner, obj, counts, shown, commons)


async def _commons_lists(session: AsyncSession, obj: LocalObject) -> dict[str, object]:
    """An event's participants, a tool's users and contributors (across the network)."""
    if obj.kind == "event":
        # Mobilizon shows who takes part to the organisers only: the public page gives
        # the numbers, the admin (/admin/events/…/participants) the list.
        counted: dict[str, int] = dict.fromkeys(participation.KINDS, 0)
        for interaction, _actor in await participation.participants(session, obj.uri):
            counted[interaction.kind] += 1
        return {"participation": counted}
    if obj.kind == "tool":
        declared = await declarations.declared(session, obj.uri)
        return {
            "users": [(i, a) for i, a in declared if i.kind == "uses"],
            "contributors": [(i, a) for i, a in declared if i.kind == "contributes"],
        }
    return {}


async def local_activity(request: web.Request) -> web.StreamResponse:
    rt = runtime(request)
    uri = f"{_base(request)}{request.path}"
    async with rt.sessions() as session:
        row = (
            await session.execute(
                select(OutboxActivity).where(
                    OutboxActivity.uri == uri, OutboxActivity.public.is_(True)
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise NotFound("no such activity")
    return activity_json(json.loads(row.body))


def _base(request: web.Request) -> str:
    # Object ids were minted from the base URL; the scheme is the actor's.
    scheme = "https" if not runtime(request).settings.server.dev else request.scheme
    return f"{scheme}://{request.host}"


async def block_recommendations(request: web.Request) -> web.StreamResponse:
    """The blocks we recommend to other members (only those marked so)."""
    org = await organisation(request, request.match_info["username"])
    async with runtime(request).sessions() as session:
        blocks = await trust.listing(session, org.id)
    urls = local.urls_of(org)
    return activity_json(trust.published_collection(f"{urls.id}/blocks", urls.id, blocks))
