"""Commitments per charter point in the admin: progress, statement, actions, evidence."""

from __future__ import annotations

from aiohttp import web

from federation import charter
from federation.accounts import roles
from federation.actors import local
from federation.content import commitments, identity, licences
from federation.errors import CommandError
from federation.outbox import profile
from federation.web.admin import forms, views
from federation.web.admin.guard import require
from federation.web.context import runtime


def _page(
    request: web.Request, values: dict[str, object], errors: dict[str, str], status: int = 200
) -> web.Response:
    text = charter.load()
    points = [(n, text.commitment(n)) for n in sorted(text.numbers)]
    return views.page(
        request,
        "commitments.html",
        status=status,
        values=values,
        errors=errors,
        points=points,
        progress_choices=list(commitments.PROGRESS),
        saved=request.query.get("saved"),
    )


async def form(request: web.Request) -> web.Response:
    org, _ = require(request, roles.COMMITMENTS)
    async with runtime(request).sessions() as session:
        obj = await commitments.current(session, org)
    return _page(request, forms.commitments_values(obj.document if obj else None), {})


async def save(request: web.Request) -> web.Response:
    org, _ = require(request, roles.COMMITMENTS)
    checked, draft = forms.commitments_form(await request.post())
    if draft is None:
        return _page(request, checked.values, checked.errors, status=422)
    rt = runtime(request)
    settings = rt.settings
    async with rt.sessions.begin() as session:
        actor = await local.by_id(session, org.id)
        if actor is None:
            raise CommandError("the organisation vanished")
        now = rt.clock.now()
        before = (actor.charter_version, actor.charter_signed_on)
        _obj, sent = await commitments.publish(
            session, actor, draft, now, settings.content.language
        )
        if before != (actor.charter_version, actor.charter_signed_on):
            # The profile shows the adhesion: followers get the new actor document.
            storage = await identity.storage_country(session, actor, now)
            name = licences.display_name(settings.content.default_licence)
            await profile.update(session, actor, {}, now, name, storage)
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/commitments?saved={'changed' if sent else 'same'}")
