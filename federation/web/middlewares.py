"""Error mapping (one place) and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import DataError, DBAPIError

from federation.errors import FederationError, TooManyRequests, Unavailable
from federation.store import failures
from federation.web.keys import RUNTIME
from federation.web.pages import render

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No inline script or style anywhere: the admin's one script is a file under /static.
CSP = (
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A locked or unreachable database is temporary: senders retry after this long.
DATABASE_RETRY_AFTER = 10


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
        shed = isinstance(err, Unavailable) and err.retry_after is not None
        if err.status >= 500 and not shed:  # load shedding is expected, not logged each time
            log.warning("%s %s: %s", request.method, request.path, err.reason)
        response = _error(request, err.status, err.reason)
        if isinstance(err, TooManyRequests | Unavailable) and err.retry_after is not None:
            response.headers["Retry-After"] = str(err.retry_after)
    except DBAPIError as err:
        if _data_error(err):
            # PostgreSQL refuses text it cannot store (a NUL character, \u0000 in JSON)
            # where SQLite takes it: the request is at fault, nothing was stored.
            log.info("%s %s: refused by the database (%s)", request.method, request.path, err.orig)
            response = _error(request, 400, "text with a character that cannot be stored (NUL)")
            return _headers(response)
        # SQLite locked past its busy timeout, PostgreSQL down or out of disk: nothing
        # was committed, so the sender may simply try again later.
        log.warning("%s %s: database unavailable (%s)", request.method, request.path, err.orig)
        if failures.disk_full(err, request.app[RUNTIME].settings.data_dir):
            reason = "the server's disk is full; nothing was stored, try again later"
        else:
            reason = "the database is unavailable; try again later"
        response = _error(request, 503, reason)
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        reason = err.reason
        if err.status == 413:
            reason = "request body too large"
        response = _error(request, err.status, reason)
    return _headers(response)


def _headers(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _data_error(err: DBAPIError) -> bool:
    """A PostgreSQL data exception (SQLSTATE class 22: NUL in text, bad escape)."""
    if isinstance(err, DataError):
        return True
    code = getattr(err.orig, "sqlstate", None) or getattr(err.orig, "pgcode", None)
    return isinstance(code, str) and code.startswith("22")
