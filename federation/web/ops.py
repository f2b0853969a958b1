"""Operations endpoints: `/healthz`, `/readyz`, `/metrics`, and the request-id middleware.

`/metrics` needs `Authorization: Bearer <[observability] metrics_token>`; with no token
configured it does not exist (404). A peer-address rule ("loopback only") would not
protect it: behind the reverse proxy every request comes from loopback.
"""

from __future__ import annotations

import hmac
import re
import uuid

from aiohttp import web

from federation.observability import gauges, health, logs, metrics
from federation.web.context import runtime
from federation.web.middlewares import Handler

# A request id set by our reverse proxy is kept (so proxy and app logs match) when it
# looks like one; anything else is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_ID_HEADER = "X-Request-Id"


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    with logs.bound(request_id=request_id, activity_id=None, delivery_id=None):
        response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    found = await health.problems(runtime(request))
    if found:
        return web.json_response({"status": "not ready", "problems": found}, status=503)
    return web.json_response({"status": "ready"})


def _authorised(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


async def metrics_handler(request: web.Request) -> web.Response:
    rt = runtime(request)
    token = rt.settings.observability.metrics_token
    if not token:
        raise web.HTTPNotFound(reason="metrics are not enabled on this server")
    if not _authorised(request, token):
        return web.json_response(
            {"error": "metrics need the bearer token"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    async with rt.sessions() as session:
        shared = await gauges.collect(session, rt.clock.now())
    return web.Response(
        body=metrics.exposition(shared).encode("utf-8"),
        headers={"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"},
    )
