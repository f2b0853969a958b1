"""Follows in the admin: follow a member by handle, answer requests, block and unblock."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from federation.accounts import roles
from federation.actors import follows, remote, trust, webfinger
from federation.errors import CommandError, FederationError
from federation.inbox.intake import signer_for
from federation.outbox import follow, requests
from federation.store.models import LocalActor, RemoteActor
from federation.transport.client import FetchError
from federation.web.admin import forms, views
from federation.web.admin.guard import require
from federation.web.context import runtime


async def _page(
    request: web.Request,
    org: LocalActor,
    errors: dict[str, str],
    values: dict[str, str],
    detail: str | None = None,
) -> web.Response:
    """The page; `detail` is the reason a lookup or a follow failed (shown as text)."""
    async with runtime(request).sessions() as session:
        pending = await follows.followers(session, org.id, follows.PENDING)
        accepted = await follows.followers(session, org.id)
        following = await follows.followings(
            session, org.id, (follows.ACCEPTED, follows.PENDING, follows.REJECTED)
        )
        blocks = await trust.listing(session, org.id)
    return views.page(
        request,
        "follows.html",
        status=422 if errors else 200,
        pending=pending,
        followers=accepted,
        following=following,
        blocks=blocks,
        errors=errors,
        details={"handle": detail} if detail else {},
        values=values,
        done=request.query.get("done"),
    )


async def page(request: web.Request) -> web.Response:
    org, _ = require(request, roles.FOLLOWS)
    return await _page(request, org, {}, {})


async def follow_handle(request: web.Request) -> web.Response:
    org, _ = require(request, roles.FOLLOWS)
    target = str((await request.post()).get("handle", "")).strip()
    rt = runtime(request)
    handle = webfinger.parse_handle(target)
    if handle is None:
        error = forms.N_("Indiquez une adresse de la forme @nom@serveur.exemple.")
        return await _page(request, org, {"handle": error}, {"handle": target})
    try:
        uri = await webfinger.lookup(rt, handle)
        actor = await remote.resolve(rt, uri, await signer_for(rt, org.domain), refresh=True)
    except (FetchError, FederationError) as err:
        error = forms.N_("Ce compte est introuvable ou son serveur ne répond pas.")
        return await _page(request, org, {"handle": error}, {"handle": target}, err.reason)
    try:
        async with rt.sessions.begin() as session:
            await follow.follow(session, org, actor, rt.clock.now())
    except CommandError as err:
        error = forms.N_("Impossible de suivre ce compte.")
        return await _page(request, org, {"handle": error}, {"handle": target}, err.reason)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/follows?done=follow")


async def _known(request: web.Request, org: LocalActor, uri: str) -> RemoteActor:
    async with runtime(request).sessions() as session:
        found = (
            (await session.execute(select(RemoteActor).where(RemoteActor.uri == uri)))
            .scalars()
            .first()
        )
    if found is None:
        raise web.HTTPNotFound(reason="unknown actor")
    return found


async def answer(request: web.Request) -> web.Response:
    org, _ = require(request, roles.FOLLOWS)
    form = await request.post()
    requester = await _known(request, org, str(form.get("actor", "")))
    accept = form.get("answer") == "accept"
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        try:
            await requests.answer(
                session,
                org,
                requester,
                rt.clock.now(),
                accept=accept,
                follow_back_members=rt.settings.trust.follow_back_members,
            )
        except CommandError as err:
            raise web.HTTPConflict(reason="no pending request from this actor") from err
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/follows?done={'accepted' if accept else 'refused'}")


async def block(request: web.Request) -> web.Response:
    org, _ = require(request, roles.FOLLOWS)
    form = await request.post()
    kind = str(form.get("kind", ""))
    value = str(form.get("value", "")).strip()
    reason = str(form.get("reason", "")).strip()
    rt = runtime(request)
    try:
        async with rt.sessions.begin() as session:
            row = await trust.add(
                session, org.id, kind, value, rt.clock.now(), reason=reason, recommend=False
            )
            await trust.drop_relations(session, row)
    except CommandError:
        error = forms.N_("Indiquez un domaine (serveur.exemple) ou l’adresse d’un compte.")
        return await _page(
            request, org, {"block": error}, {"value": value, "reason": reason, "kind": kind}
        )
    rt.delivery_wakeup.set()
    return views.back_to("/admin/follows?done=blocked")


async def unblock(request: web.Request) -> web.Response:
    org, _ = require(request, roles.FOLLOWS)
    form = await request.post()
    async with runtime(request).sessions.begin() as session:
        await trust.remove(session, org.id, str(form.get("kind", "")), str(form.get("value", "")))
    return views.back_to("/admin/follows?done=unblocked")
