"""Replies to our objects in the admin: hide or show each."""

from __future__ import annotations

from aiohttp import web

from federation.accounts import roles
from federation.content import moderation
from federation.errors import CommandError
from federation.web.admin import views
from federation.web.admin.guard import require
from federation.web.context import runtime


async def listing(request: web.Request) -> web.Response:
    org, _ = require(request, roles.REPLIES)
    async with runtime(request).sessions() as session:
        rows = await moderation.replies(session, org)
    return views.page(request, "replies.html", replies=list(reversed(rows)))


async def toggle(request: web.Request) -> web.Response:
    org, _ = require(request, roles.REPLIES)
    hide = request.match_info["action"] == "hide"
    try:
        number = int(request.match_info["id"])
    except ValueError as err:
        raise web.HTTPNotFound(reason="no such reply") from err
    async with runtime(request).sessions.begin() as session:
        try:
            await moderation.set_hidden(session, org, number, hide)
        except CommandError as err:
            raise web.HTTPNotFound(reason="no such reply") from err
    return views.back_to(f"/admin/replies#reply-{number}")
