"""Resolving which local actor a request is for, from its Host header and path."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.errors import NotFound
from federation.runtime import Runtime
from federation.store.models import LocalActor
from federation.web.keys import RUNTIME


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def domain(request: web.Request) -> str:
    return request.host.lower()


async def organisation(request: web.Request, username: str | None = None) -> LocalActor:
    """The organisation named in the path (or the domain's first) for this Host."""
    rt = runtime(request)
    async with rt.sessions() as session:
        if username is not None:
            actor = await local.find(session, domain(request), username)
        else:
            actors = [a for a in await local.organisations(session) if a.domain == domain(request)]
            actor = actors[0] if actors else None
    if actor is None:
        raise NotFound("no such actor on this server")
    return actor


async def domain_organisations(request: web.Request, session: AsyncSession) -> tuple[int, ...]:
    """Ids of the organisations on this Host: what they follow is what its pages show."""
    return tuple(a.id for a in await local.organisations(session) if a.domain == domain(request))


async def application(request: web.Request) -> LocalActor:
    rt = runtime(request)
    async with rt.sessions() as session:
        actor = await local.application_of(session, domain(request))
    if actor is None:
        raise NotFound("no such actor on this server")
    return actor


def absolute_url(request: web.Request, actor: LocalActor) -> str:
    """The URL as the sender signed it: our public scheme, the Host, the raw path."""
    scheme = actor.base_url.split("://", 1)[0]
    return f"{scheme}://{request.host}{request.raw_path}"
