"""Rendering of admin pages: the public page renderer plus who is logged in, the CSRF
token and the menu of the areas this role may use."""

from __future__ import annotations

from aiohttp import web

from federation.accounts import roles
from federation.web.admin.guard import CURRENT, ORG
from federation.web.pages import render

MENU = (
    (roles.PRACTICES, "/admin/practices"),
    (roles.TOOLS, "/admin/tools"),
    (roles.EVENTS, "/admin/events"),
    (roles.OFFERS, "/admin/offers"),
    (roles.COMMITMENTS, "/admin/commitments"),
    (roles.PROFILE, "/admin/profile"),
    (roles.POLICY, "/admin/policy"),
    (roles.FOLLOWS, "/admin/follows"),
    (roles.REPLIES, "/admin/replies"),
    (roles.DELIVERIES, "/admin/deliveries"),
)


def page(request: web.Request, name: str, *, status: int = 200, **context: object) -> web.Response:
    current = request.get(CURRENT)
    allowed = roles.areas(current.role) if current is not None else frozenset()
    csrf = context.pop("csrf", None) or (current.csrf_token if current is not None else "")
    response = render(
        request,
        f"admin/{name}",
        org=request[ORG],
        current=current,
        csrf=csrf,
        menu=[(area, path) for area, path in MENU if area in allowed],
        request_query=request.query,
        **{"details": {}, **context},
    )
    response.set_status(status)
    return response


def back_to(path: str) -> web.Response:
    """After a successful POST: see the page again (POST/redirect/GET)."""
    return web.Response(status=303, headers={"Location": path})
