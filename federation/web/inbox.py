"""POST handlers of the personal, shared and application inboxes."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from federation.actors import local
from federation.errors import FederationError
from federation.http_signatures import HttpRequest
from federation.inbox import intake
from federation.observability import inbox_metrics
from federation.store.models import LocalActor
from federation.web import clients
from federation.web.context import (
    absolute_url,
    application,
    domain,
    organisation,
    runtime,
)
from federation.web.keys import INBOX_GUARD

log = logging.getLogger(__name__)
# The answer to every accepted POST, serialised once.
ACCEPTED = json.dumps({"status": "accepted"}).encode()


async def _receive(
    request: web.Request, recipient: LocalActor | None, base: LocalActor
) -> web.Response:
    try:
        accepted = await _intake(request, recipient, base)
    except FederationError as err:
        inbox_metrics.refused(err.status, err.reason)
        log.info("inbox: refused %s: %s", err.status, err.reason)
        raise
    except web.HTTPException as err:
        inbox_metrics.refused(err.status, err.reason)
        log.info("inbox: refused %s: %s", err.status, err.reason)
        raise
    inbox_metrics.accepted(duplicate=accepted.duplicate)
    log.info("inbox: %s", "duplicate" if accepted.duplicate else "accepted")
    return web.Response(body=ACCEPTED, status=202, content_type="application/json")


async def _intake(
    request: web.Request, recipient: LocalActor | None, base: LocalActor
) -> intake.Accepted:
    rt = runtime(request)
    guard = request.app[INBOX_GUARD]
    # Refused before the body is read: a flood costs neither memory nor a signature check.
    guard.admit_address(clients.of(request))
    with guard.slot():
        await guard.check_backlog(lambda: intake.backlog(rt))
        return await _checked(request, recipient, base)


async def _checked(
    request: web.Request, recipient: LocalActor | None, base: LocalActor
) -> intake.Accepted:
    rt = runtime(request)
    body = await request.read()
    # One pass; a header sent twice is joined as one field, as RFC 9110 reads it.
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    view = HttpRequest(
        method=request.method,
        url=absolute_url(request, base),
        headers=headers,
        body=body,
    )
    signer = await intake.signer_for(rt, domain(request))
    if recipient is not None and recipient.actor_type != local.APPLICATION:
        addressed = [recipient.id]
    else:
        async with rt.sessions() as session:
            addressed = [
                o.id for o in await local.organisations(session) if o.domain == domain(request)
            ]
    return await intake.receive(rt, view, recipient, signer, addressed, request.app[INBOX_GUARD])


async def personal(request: web.Request) -> web.Response:
    # Every POST to a personal inbox names its organisation: remembered a minute.
    key = (domain(request), request.match_info["username"].lower())
    org: LocalActor | None = runtime(request).local_actors.get(key)
    if org is None:
        org = await organisation(request, request.match_info["username"])
        runtime(request).local_actors.put(key, org)
    return await _receive(request, org, org)


async def shared(request: web.Request) -> web.Response:
    app_actor = await application(request)
    return await _receive(request, None, app_actor)


async def application_inbox(request: web.Request) -> web.Response:
    app_actor = await application(request)
    return await _receive(request, app_actor, app_actor)
