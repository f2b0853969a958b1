"""The delivery ledger in the admin: per published activity, where it went, where it
waits or failed and why (the words are in the template), with a retry button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.accounts import roles
from federation.delivery import ledger
from federation.delivery.queue import inbox_host
from federation.delivery.states import DeliveryState as S
from federation.store.models import LocalObject, OutboxActivity, RemoteHost
from federation.web.admin import views
from federation.web.admin.guard import require
from federation.web.context import runtime

# Operators read times in their own zone; the network is French.
ZONE = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Span:
    count: int
    unit: str  # "s", "min", "h", "d"


def span(delta: timedelta) -> Span:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return Span(seconds, "s")
    if seconds < 5400:
        return Span(seconds // 60, "min")
    if seconds < 172800:
        return Span(seconds // 3600, "h")
    return Span(seconds // 86400, "d")


@dataclass(frozen=True)
class Line:
    """One delivery as the template explains it: `why` picks the sentence."""

    entry: ledger.Entry
    host: str
    why: str
    ago: Span | None = None
    since: Span | None = None
    next_try: datetime | None = None
    retryable: bool = False


def explain(entry: ledger.Entry, health: RemoteHost | None, now: datetime) -> Line:
    host = inbox_host(entry.inbox_url)
    failing = health.failing_since if health is not None else None
    since = span(now - failing) if failing else None
    if entry.state == S.DELIVERED and entry.delivered_at:
        return Line(entry, host, "delivered", ago=span(now - entry.delivered_at))
    if entry.state == S.SENDING:
        return Line(entry, host, "sending")
    if entry.state == S.PARKED:
        return Line(entry, host, "parked", since=since, retryable=True)
    if entry.state == S.GONE:
        return Line(entry, host, "gone", retryable=True)
    status = entry.last_status
    if entry.state == S.PENDING and entry.attempts == 0:
        return Line(entry, host, "waiting")
    if status == 401:
        why = "signature"
    elif status is not None and 400 <= status < 500:
        why = "refused"
    elif status is not None and status >= 500:
        why = "server_error"
    else:
        why = "unreachable"
    next_try = None
    if entry.state == S.PENDING and entry.next_attempt_at:
        next_try = entry.next_attempt_at.astimezone(ZONE)
    final = entry.state in (S.FAILED, S.DEAD)
    return Line(
        entry,
        host,
        why,
        since=since or (span(now - entry.last_attempt_at) if entry.last_attempt_at else None),
        next_try=next_try,
        retryable=final or entry.state == S.PENDING,
    )


async def _titles(session: AsyncSession, org_id: int, uris: set[str]) -> dict[str, str]:
    """What the operator calls an activity: the title of its object, when it has one."""
    rows = await session.execute(
        select(LocalObject.uri, LocalObject.title).where(
            LocalObject.local_actor_id == org_id, LocalObject.uri.in_(uris)
        )
    )
    return {uri: title for uri, title in rows.all() if title}


async def listing(request: web.Request) -> web.Response:
    org, _ = require(request, roles.DELIVERIES)
    async with runtime(request).sessions() as session:
        rows = await ledger.activities(session, org.id, object_uri=request.query.get("object"))
        titles = await _titles(session, org.id, {a.object_uri for a, _ in rows if a.object_uri})
    return views.page(request, "deliveries.html", activities=rows, titles=titles)


async def _activity(request: web.Request, org_id: int) -> OutboxActivity:
    try:
        number = int(request.match_info["id"])
    except ValueError as err:
        raise web.HTTPNotFound(reason="no such activity") from err
    async with runtime(request).sessions() as session:
        activity = await session.get(OutboxActivity, number)
    if activity is None or activity.local_actor_id != org_id:
        raise web.HTTPNotFound(reason="no such activity")
    return activity


async def detail(request: web.Request) -> web.Response:
    org, _ = require(request, roles.DELIVERIES)
    activity = await _activity(request, org.id)
    rt = runtime(request)
    now = rt.clock.now()
    async with rt.sessions() as session:
        rows = await ledger.entries(
            session, org.id, state=None, limit=1000, activity_id=activity.id
        )
        hosts = {inbox_host(e.inbox_url) for e in rows}
        titles = await _titles(session, org.id, {activity.object_uri or ""})
        health = {
            h.host: h
            for h in (
                await session.execute(select(RemoteHost).where(RemoteHost.host.in_(hosts)))
            ).scalars()
        }
    lines = [explain(e, health.get(inbox_host(e.inbox_url)), now) for e in rows]
    return views.page(
        request,
        "delivery.html",
        activity=activity,
        lines=lines,
        titles=titles,
        retried=request.query.get("retried"),
    )


async def retry(request: web.Request) -> web.Response:
    org, _ = require(request, roles.DELIVERIES)
    activity = await _activity(request, org.id)
    form = await request.post()
    rt = runtime(request)
    ids = None
    if form.get("delivery"):
        try:
            ids = [int(str(form.get("delivery")))]
        except ValueError as err:
            raise web.HTTPBadRequest(reason="bad delivery number") from err
    async with rt.sessions.begin() as session:
        wanted = ids or [
            e.delivery_id
            for e in await ledger.entries(
                session, org.id, state=None, limit=1000, activity_id=activity.id
            )
        ]
        count = await ledger.retry_failed(session, org.id, rt.clock.now(), wanted, waiting=True)
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/deliveries/{activity.id}?retried={count}")
