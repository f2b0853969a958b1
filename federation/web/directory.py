"""The network's directory: an HTML page (`/directory`) and an AS2 collection
(`/users/<username>/directory`), both read from what the crawler stored.

The collection answers with an ETag and honours If-None-Match, so crawlers of other
members pay little for a directory that did not change.
"""

from __future__ import annotations

import hashlib
import json

from aiohttp import web

from federation.actors import local, trust
from federation.content import offers as commons_listing
from federation.content import themes
from federation.content.commitments import PROGRESS
from federation.errors import BadRequest
from federation.network import directory, frontier
from federation.network.directory import Entry, Filters
from federation.store.models import DirectoryMember, LocalActor
from federation.web import i18n
from federation.web.context import organisation, runtime
from federation.web.negotiation import activity_json, wants_activity_json
from federation.web.pages import render

HTML_PAGE_SIZE = 50


def _page_number(request: web.Request) -> int | None:
    raw = request.query.get("page")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
        raise BadRequest("page must be a positive whole number")
    return int(raw)


def _filters(request: web.Request) -> Filters:
    query = request.query
    commitment: int | None = None
    if query.get("commitment"):
        try:
            commitment = themes.parse_theme(query["commitment"])
        except themes.UnknownTheme as err:
            raise BadRequest("unknown commitment") from err
    progress = query.get("progress") or None
    if progress is not None and progress not in PROGRESS:
        raise BadRequest("progress must be to-start, in-progress or achieved")
    return Filters(commitment, progress, (query.get("territory") or "").strip()[:255] or None)


async def _shown(request: web.Request, org: LocalActor, rows: list[DirectoryMember]) -> list[Entry]:
    """Entries of `rows`, without the members this organisation blocks."""
    async with runtime(request).sessions() as session:
        kept = [m for m in rows if not await trust.is_blocked(session, org.id, m.uri)]
        return await directory.entries(session, kept)


async def page(request: web.Request) -> web.StreamResponse:
    """`/directory`: the directory of the host's organisation, for people."""
    return await _html(request, await organisation(request))


async def collection(request: web.Request) -> web.StreamResponse:
    """`<actor>/directory`: the AS2 collection (the page for a browser)."""
    org = await organisation(request, request.match_info["username"])
    if not wants_activity_json(request):
        return await _html(request, org)
    number = _page_number(request)
    owner = local.urls_of(org).id
    collection_id = f"{owner}/directory"
    async with runtime(request).sessions() as session:
        rows = await directory.members(session, owner)
    if number is None:
        document = directory.collection(collection_id, owner, len(rows))
    else:
        start = (number - 1) * directory.PAGE_SIZE
        shown = await _shown(request, org, rows[start : start + directory.PAGE_SIZE])
        document = directory.page(
            collection_id, number, [directory.item(e) for e in shown], len(rows)
        )
    return _conditional(request, document)


def _conditional(request: web.Request, document: object) -> web.Response:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    asked = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("If-None-Match", "").split(",")
    }
    if etag in asked:
        return web.Response(status=304, headers={"ETag": etag, "Vary": "Accept"})
    response = activity_json(document)
    response.headers["ETag"] = etag
    return response


async def _html(request: web.Request, org: LocalActor) -> web.StreamResponse:
    filters = _filters(request)
    number = _page_number(request) or 1
    owner = local.urls_of(org).id
    now = runtime(request).clock.now()
    async with runtime(request).sessions() as session:
        rows = await directory.members(session, owner)
        last = await frontier.latest(session)
        offers = await commons_listing.current_offers(session, org, now)
    matching = [m for m in rows if filters.matches(m)]
    start = (number - 1) * HTML_PAGE_SIZE
    shown = await _shown(request, org, matching[start : start + HTML_PAGE_SIZE])
    pages = max(1, -(-len(matching) // HTML_PAGE_SIZE))
    return render(
        request,
        "directory.html",
        org=org,
        owner=owner,
        entries=shown,
        total=len(rows),
        matching=len(matching),
        number=number,
        pages=pages,
        filters=filters,
        commitment_choices=sorted(themes.HASHTAGS),
        commitment_title=lambda n: themes.title(n, i18n.current.get()),
        progress_choices=list(PROGRESS),
        territories=directory.territories(rows),
        crawled_at=last.finished_at if last is not None else None,
        collection_url=f"{owner}/directory",
        offers=offers,
    )
