"""Error mapping (one place) and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from federation.errors import FederationError
from federation.web.pages import render

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No inline script or style anywhere: the admin's one script is a file under /static.
CSP = (
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _error(request: web.Request, status: int, reason: str) -> web.Response:
    # Browsers get a page, also when an admin form is refused (CSRF, role).
    if "text/html" in request.headers.get("Accept", "") and (
        request.method == "GET" or request.path.startswith("/admin")
    ):
        response = render(request, "error.html", status=status, reason=reason)
        response.set_status(status)
        return response
    return web.json_response({"error": reason}, status=status)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except FederationError as err:
        if err.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, err.reason)
        response = _error(request, err.status, err.reason)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        reason = err.reason
        if err.status == 413:
            reason = "request body too large"
        response = _error(request, err.status, reason)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
