"""Who is logged in, and the checks every /admin request passes: a live session (else
the login page), the CSRF token on every POST, the role for the area."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from federation.accounts import roles, sessions
from federation.errors import Forbidden
from federation.store.models import LocalActor
from federation.web.context import organisation, runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "declics_admin"
LOGIN_PATH = "/admin/login"
ORG = web.RequestKey("admin_org", LocalActor)
CURRENT = web.RequestKey("admin_current", sessions.Current)


class CsrfRefused(Forbidden):
    pass


class RoleRefused(Forbidden):
    pass


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def set_session_cookie(response: web.StreamResponse, org: LocalActor, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path="/admin",
        httponly=True,
        samesite="Strict",
        secure=org.base_url.startswith("https://"),
        max_age=int(sessions.LIFETIME.total_seconds()),
    )


def check_csrf(sent: object, expected: str) -> None:
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("formulaire refusé : jeton CSRF absent ou invalide (rechargez la page)")


@web.middleware
async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_admin_path(request.path):
        return await handler(request)
    org = await organisation(request)
    request[ORG] = org
    if request.path != LOGIN_PATH:
        rt = runtime(request)
        async with rt.sessions() as session:
            current = await sessions.current(
                session, request.cookies.get(COOKIE), org.id, rt.clock.now()
            )
        if current is None:
            if request.method == "GET":
                target = f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}"
                return web.Response(status=303, headers={"Location": target})
            raise CsrfRefused("session expirée : reconnectez-vous")
        request[CURRENT] = current
        if request.method == "POST":
            sent: object = request.headers.get("X-CSRF-Token")
            if sent is None:
                sent = (await request.post()).get("csrf")
            check_csrf(sent, current.csrf_token)
    response = await handler(request)
    # Admin pages show private state: never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response


def require(request: web.Request, area: str) -> tuple[LocalActor, sessions.Current]:
    current = request[CURRENT]
    if not roles.may(current.role, area):
        raise RoleRefused(f"votre rôle ({current.role}) ne permet pas cette action")
    return request[ORG], current
