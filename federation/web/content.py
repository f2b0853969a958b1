"""Pages and documents of the network's shared data: the charter and our vocabulary."""

from __future__ import annotations

from aiohttp import web

from federation import charter
from federation.charter.document import as_document, charter_url
from federation.errors import NotFound
from federation.vocab import declics
from federation.web.context import application
from federation.web.negotiation import activity_json, json_response, wants_activity_json
from federation.web.pages import render


async def charter_current(request: web.Request) -> web.StreamResponse:
    app_actor = await application(request)
    raise web.HTTPFound(charter_url(app_actor.base_url, charter.CURRENT_VERSION))


async def charter_version(request: web.Request) -> web.StreamResponse:
    app_actor = await application(request)
    try:
        text = charter.load(request.match_info["version"])
    except KeyError as err:
        raise NotFound("no charter of that version here") from err
    if wants_activity_json(request):
        return activity_json(as_document(text, app_actor.base_url))
    language = "en" if request.query.get("lang") == "en" else "fr"
    return render(request, "charter.html", charter=text, lang=language)


async def vocabulary(request: web.Request) -> web.Response:
    response = json_response(declics.context_document(), "application/ld+json")
    response.headers["Cache-Control"] = "max-age=86400"
    return response
