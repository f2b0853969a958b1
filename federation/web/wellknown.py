"""WebFinger, host-meta and NodeInfo."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import func, select

from federation import SOFTWARE_NAME, __version__, charter
from federation.actors import local, webfinger
from federation.errors import BadRequest, NotFound
from federation.network import CHARTER_VERSION, NETWORK_NAME
from federation.served import Document
from federation.store.models import LocalActor, LocalObject
from federation.vocab.constants import AS_MEDIA_TYPE
from federation.web.context import domain, runtime
from federation.web.negotiation import JSON_HEADERS, json_response

JRD_CONTENT_TYPE = "application/jrd+json"
JRD_HEADERS = {**JSON_HEADERS, "Cache-Control": "max-age=259200"}


async def _actor_for_resource(request: web.Request, resource: str) -> LocalActor:
    rt = runtime(request)
    here = domain(request)
    if "\x00" in resource:
        # No account has one; PostgreSQL would refuse it in a query.
        raise NotFound("no such account here")
    async with rt.sessions() as session:
        if resource.startswith(("https://", "http://")):
            parts = urlsplit(resource)
            actor = await local.by_uri(session, resource)
            if actor is None and parts.path.startswith("/@"):
                actor = await local.find(session, parts.netloc, parts.path[2:])
            if actor is None and parts.path in ("", "/"):
                actor = await local.application_of(session, parts.netloc)
            if actor is not None and actor.domain == here:
                return actor
            raise NotFound("no such actor here")
        handle = webfinger.parse_handle(resource)
        if handle is None:
            raise BadRequest("resource must be acct:user@host or an actor URL")
        host_only = here.split(":")[0]
        if handle.domain not in (here, host_only):
            raise NotFound("that account is not on this server")
        actor = await local.find(session, here, handle.username)
        if actor is None:
            app_actor = await local.application_of(session, here)
            if app_actor is not None and app_actor.username == handle.username:
                actor = app_actor
    if actor is None:
        raise NotFound("no such account here")
    return actor


async def webfinger_handler(request: web.Request) -> web.Response:
    resource = request.query.get("resource", "").strip()
    if not resource:
        raise BadRequest("missing resource parameter")
    # Kept a moment as bytes (federation.served): asked on every follow and mention.
    rt = runtime(request)
    key = ("jrd", domain(request), resource)
    served = rt.served.documents.get(key)
    if served is None:
        document = await _jrd(request, resource)
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        served = Document.of(body, JRD_CONTENT_TYPE, JRD_HEADERS)
        rt.served.documents.put(key, served)
    return served.response(request)


async def _jrd(request: web.Request, resource: str) -> dict[str, Any]:
    actor = await _actor_for_resource(request, resource)
    urls = local.urls_of(actor)
    document = webfinger.jrd(local.handle_of(actor), urls.id, urls.profile)
    if actor.moved_to is not None:
        # The old handle leads to the new actor (the subject stays the name asked).
        document = webfinger.jrd(local.handle_of(actor), actor.moved_to, actor.moved_to)
        document["aliases"].append(urls.id)
    if actor.actor_type == local.APPLICATION and urlsplit(resource).path in ("", "/"):
        # FEP-d556: the server URL itself names the server-level actor.
        document["subject"] = resource
        document["links"].append(
            {
                "rel": "https://www.w3.org/ns/activitystreams#Application",
                "type": AS_MEDIA_TYPE,
                "href": urls.id,
            }
        )
    return document


async def host_meta(request: web.Request) -> web.Response:
    scheme = "https" if not runtime(request).settings.server.dev else request.scheme
    template = f"{scheme}://{request.host}/.well-known/webfinger?resource={{uri}}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )
    return web.Response(text=xml, content_type="application/xrd+xml")


async def nodeinfo_links(request: web.Request) -> web.Response:
    org = await _base(request)
    return json_response(
        {
            "links": [
                {
                    "rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}",
                    "href": f"{org}/nodeinfo/{v}",
                }
                for v in ("2.0", "2.1")
            ]
        }
    )


async def _base(request: web.Request) -> str:
    rt = runtime(request)
    async with rt.sessions() as session:
        app_actor = await local.application_of(session, domain(request))
    if app_actor is None:
        raise NotFound("nothing is served on this host")
    return app_actor.base_url


async def nodeinfo(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in ("2.0", "2.1"):
        raise NotFound("unknown NodeInfo version")
    await _base(request)
    rt = runtime(request)
    here = domain(request)
    async with rt.sessions() as session:
        orgs = [a for a in await local.organisations(session) if a.domain == here]
        posts = (
            await session.execute(
                select(func.count())
                .select_from(LocalObject)
                .join(LocalActor, LocalActor.id == LocalObject.local_actor_id)
                .where(LocalActor.domain == here, LocalObject.deleted_at.is_(None))
            )
        ).scalar_one()
    software: dict[str, str] = {"name": SOFTWARE_NAME, "version": __version__}
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": len(orgs),
                "activeMonth": len(orgs),
                "activeHalfyear": len(orgs),
            },
            "localPosts": posts,
        },
        "metadata": {
            "nodeName": orgs[0].name if orgs else here,
            "network": NETWORK_NAME,
            # Half of the membership signal (the other half is on each actor).
            "charter": {
                "version": CHARTER_VERSION,
                "sha256": charter.load(CHARTER_VERSION).sha256,
            },
            "organisations": [local.handle_of(a) for a in orgs],
        },
    }
    response = json_response(document)
    response.content_type = (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'
    )
    return response
