"""Log in and out. The login form has its own CSRF token (a cookie and a hidden field
that must match) since there is no session yet; attempts are rate-limited per account
and per client address."""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from federation.accounts import sessions, store
from federation.accounts.ratelimit import LoginLimiter
from federation.web import clients
from federation.web.admin import guard, views
from federation.web.context import runtime

LOGIN_CSRF_COOKIE = "declics_login"
LIMITER = web.AppKey("admin_login_limiter", LoginLimiter)


def _safe_next(value: str | None) -> str:
    # Only our own admin pages: never an open redirect.
    if value and value.startswith("/admin") and not value.startswith("//"):
        return value
    return "/admin"


def _form(request: web.Request, *, status: int = 200, **context: object) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = views.page(
        request,
        "login.html",
        status=status,
        csrf=token,
        next=_safe_next(request.query.get("next")),
        **context,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=guard.LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=request[guard.ORG].base_url.startswith("https://"),
    )
    return response


async def login_form(request: web.Request) -> web.Response:
    return _form(request)


async def login(request: web.Request) -> web.Response:
    org = request[guard.ORG]
    form = await request.post()
    guard.check_csrf(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE, "-"))
    login_name = str(form.get("login", "")).strip().lower()[:64]
    password = str(form.get("password", ""))
    keys = [("account", (org.id, login_name)), ("address", clients.of(request))]
    limiter = request.app[LIMITER]
    wait = limiter.wait_seconds(keys, time.monotonic())
    if wait > 0:
        response = _form(
            request, status=429, login=login_name, error="too_many", minutes=int(wait // 60) + 1
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        account = await store.authenticate(session, org.id, login_name, password)
        token = await sessions.open_session(session, account, rt.clock.now()) if account else None
    if token is None:
        limiter.failed(keys, time.monotonic())
        return _form(request, status=401, login=login_name, error="wrong")
    limiter.succeeded(keys)
    response = views.back_to(_safe_next(str(form.get("next", ""))))
    guard.set_session_cookie(response, org, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=guard.LOGIN_PATH)
    return response


async def logout(request: web.Request) -> web.Response:
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        await sessions.close(session, request[guard.CURRENT].session_id)
    response = views.back_to(guard.LOGIN_PATH)
    response.del_cookie(guard.COOKIE, path="/admin")
    return response


async def home(request: web.Request) -> web.Response:
    return views.page(request, "home.html")
