"""Pages and documents of the network's shared data: the charter and our vocabulary."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from federation import charter
from federation.actors import local
from federation.charter.document import as_document, charter_url
from federation.content import (
    commitments,
    commons,
    library,
    licences,
    policy,
    practices,
    themes,
)
from federation.content.search import Filters, search
from federation.errors import BadRequest, NotFound
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject
from federation.vocab import build, declics
from federation.web.context import application, domain_organisations, organisation, runtime
from federation.web.keys import TEMPLATES
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
    return render(request, "charter.html", charter=text)


async def vocabulary(request: web.Request) -> web.Response:
    response = json_response(declics.context_document(), "application/ld+json")
    response.headers["Cache-Control"] = "max-age=86400"
    return response


# Objects whose every version is public, by the first segment of their address.
VERSIONED = {"commitments": commitments.KIND, "data-policy": policy.KIND}


async def _versioned(request: web.Request) -> tuple[LocalActor, LocalObject]:
    org = await organisation(request)
    kind = VERSIONED.get(request.path.strip("/").split("/")[0])
    async with runtime(request).sessions() as session:
        obj = await objects.by_kind(session, org, kind) if kind else None
    if obj is None:
        raise NotFound("this organisation has not published it yet")
    return org, obj


async def object_versions(request: web.Request) -> web.StreamResponse:
    """The versions collection: every published version, oldest first."""
    _org, obj = await _versioned(request)
    async with runtime(request).sessions() as session:
        versions = await objects.versions(session, obj)
    collection_id = f"{obj.uri}/versions"
    return activity_json(
        {
            "@context": declics.context(),
            "id": collection_id,
            "type": "OrderedCollection",
            "totalItems": len(versions),
            "orderedItems": [f"{collection_id}/{v.version}" for v in versions],
        }
    )


async def object_version(request: web.Request) -> web.StreamResponse:
    _org, obj = await _versioned(request)
    number = request.match_info["number"]
    async with runtime(request).sessions() as session:
        versions = {str(v.version): v for v in await objects.versions(session, obj)}
    if number not in versions:
        raise NotFound("no such version")
    document = dict(versions[number].document)
    document["id"] = f"{obj.uri}/versions/{number}"
    return activity_json(document)


async def commitment_history(request: web.Request) -> web.StreamResponse:
    org, obj = await _versioned(request)
    async with runtime(request).sessions() as session:
        entries = await commitments.history(session, obj)
    return render(request, "history.html", org=org, obj=obj, entries=entries)


async def data_policy(request: web.Request) -> web.StreamResponse:
    """The policy in force today (and the one announced), as AS2 or a page."""
    org, obj = await _versioned(request)
    today = policy.today_utc(runtime(request).clock.now())
    async with runtime(request).sessions() as session:
        current, upcoming = await policy.in_force(session, org, today)
        all_versions = await objects.versions(session, obj)
    if wants_activity_json(request):
        return activity_json(policy.served_document(obj, current, upcoming))
    return render(
        request,
        "policy.html",
        org=org,
        obj=obj,
        current=current,
        upcoming=upcoming,
        versions=list(reversed(all_versions)),
    )


COMMONS = ("tool", "event", "need", "offer")


async def theme(request: web.Request) -> web.StreamResponse:
    """A theme (charter commitment) as a hashtag page: our practices and the library's."""
    try:
        number = themes.parse_theme(request.match_info["tag"])
    except themes.UnknownTheme as err:
        raise NotFound("no such theme") from err
    org = await organisation(request)
    now = runtime(request).clock.now()
    async with runtime(request).sessions() as session:
        ours = [p for p in await practices.listing(session, org) if number in p.themes]
        readers = await domain_organisations(request, session)
        theirs = [
            i
            for i in await library.items(session, kind="practice", readers=readers)
            if number in i.themes
        ]
        # Tools, events, needs and offers of this theme that are not over.
        our_commons = [
            o
            for o in await commons.listing(session, org, COMMONS)
            if o.deleted_at is None
            and number in o.themes
            and (o.ends_at is None or o.ends_at > now)
        ]
        their_commons = [
            i
            for i in await library.items(session, kinds=COMMONS, current_at=now, readers=readers)
            if number in i.themes
        ]
    return render(
        request,
        "theme.html",
        number=number,
        title=themes.title(number),
        hashtag=themes.hashtag(number),
        ours=[p for p in ours if p.deleted_at is None],
        theirs=theirs,
        commons=[*our_commons, *their_commons],
    )


async def library_page(request: web.Request) -> web.StreamResponse:
    """The library: what followed members shared, searchable and filterable."""
    query = request.query
    theme_number: int | None = None
    if query.get("theme"):
        try:
            theme_number = themes.parse_theme(query["theme"])
        except themes.UnknownTheme as err:
            raise BadRequest("unknown theme") from err
    filters = Filters(
        query=query.get("q", "")[:200],
        kind=query.get("kind") if query.get("kind") in library.KINDS else None,
        theme=theme_number,
        licence=query.get("licence") or None,
        member=query.get("member") or None,
        current_at=runtime(request).clock.now(),
    )
    await organisation(request)
    async with runtime(request).sessions() as session:
        readers = await domain_organisations(request, session)
        items = await search(session, replace(filters, readers=readers))
    return render(
        request,
        "library.html",
        items=items,
        filters=filters,
        theme_choices=[(n, themes.title(n)) for n in sorted(themes.HASHTAGS)],
        licence_choices=sorted(licences.LICENCES),
    )


async def practices_feed(request: web.Request) -> web.StreamResponse:
    """Atom feed of our practices, newest first."""
    org = await organisation(request, request.match_info["username"])
    rt = runtime(request)
    async with rt.sessions() as session:
        rows = [p for p in await practices.listing(session, org) if p.deleted_at is None][:50]
    urls = local.urls_of(org)
    newest = max((p.updated or p.published for p in rows), default=org.created_at)
    xml = (
        request.app[TEMPLATES]
        .get("feed.xml")
        .render(
            org=org,
            practices=rows,
            language=rt.settings.content_for(local.handle_of(org)).language,
            feed_url=f"{urls.id}/practices.atom",
            profile_url=urls.profile,
            updated=build.iso(newest),
            iso=build.iso,
            hashtag=themes.hashtag,
        )
    )
    return web.Response(text=xml, content_type="application/atom+xml")
