"""After a move, the old host sends people and servers to the new one (301): profile
pages and objects. The actor document itself stays, with `movedTo`, since Mastodon
reads it there; collections and inboxes stay too."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import select

from federation.portability.move import new_location
from federation.runtime import Runtime
from federation.store.models import LocalActor, LocalObject
from federation.web.context import domain, runtime
from federation.web.negotiation import wants_activity_json

OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics"})


def _parents(path: str) -> list[str]:
    """/commitments/versions/3 → itself, /commitments/versions, /commitments."""
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 1, -1)]


async def _moved_actors(rt: Runtime, here: str) -> tuple[LocalActor, ...]:
    """The domain's moved actors, kept `served.TTL` seconds: nothing to query on the
    GETs of a domain where nobody moved (nearly every one)."""
    moved = rt.served.moved.get(here)
    if moved is None:
        async with rt.sessions() as session:
            moved = tuple(
                (
                    await session.execute(
                        select(LocalActor).where(
                            LocalActor.domain == here, LocalActor.moved_to.is_not(None)
                        )
                    )
                ).scalars()
            )
        rt.served.moved.put(here, moved)
    return moved


async def redirect_for(request: web.Request) -> str | None:
    rt = runtime(request)
    path = request.path
    # The probes never move, and must answer without the database: /healthz says the
    # process lives while PostgreSQL is down, /readyz says why it is not ready.
    if path in OPERATIONS or path.startswith(("/static/", "/.well-known/", "/nodeinfo/")):
        return None
    moved = await _moved_actors(rt, domain(request))
    if not moved:
        return None
    for actor in moved:
        if path == f"/@{actor.username}" or (
            path == f"/users/{actor.username}" and not wants_activity_json(request)
        ):
            return actor.moved_to
    if path.startswith(("/users/", "/@")):
        return None
    by_id = {actor.id: actor for actor in moved}
    async with rt.sessions() as session:
        owner = (
            (
                await session.execute(
                    select(LocalObject.local_actor_id).where(
                        LocalObject.uri.in_(
                            [actor.base_url + p for actor in moved for p in _parents(path)]
                        ),
                        LocalObject.local_actor_id.in_(list(by_id)),
                    )
                )
            )
            .scalars()
            .first()
        )
    if owner is None:
        return None
    return new_location(by_id[owner], path, request.query_string)


@web.middleware
async def moved(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("GET", "HEAD"):
        target = await redirect_for(request)
        if target is not None:
            raise web.HTTPMovedPermanently(target)
    return await handler(request)
