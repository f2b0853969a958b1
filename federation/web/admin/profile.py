"""The organisation's profile in the admin (changes are federated as an Update)."""

from __future__ import annotations

from aiohttp import web

from federation.accounts import roles
from federation.actors import local
from federation.content import identity, licences
from federation.outbox import profile
from federation.web.admin import forms, views
from federation.web.admin.guard import require
from federation.web.context import runtime


async def form(request: web.Request) -> web.Response:
    org, _ = require(request, roles.PROFILE)
    values = {
        "name": org.name or "",
        "summary": org.summary or "",
        "territory": org.territory or "",
        "manual_approval": org.manually_approves_followers,
    }
    return views.page(
        request, "profile.html", values=values, errors={}, saved=request.query.get("saved")
    )


async def save(request: web.Request) -> web.Response:
    org, _ = require(request, roles.PROFILE)
    checked, changes = forms.profile(await request.post())
    if changes is None:
        return views.page(
            request, "profile.html", status=422, values=checked.values, errors=checked.errors
        )
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        actor = await local.by_id(session, org.id)
        now = rt.clock.now()
        storage = await identity.storage_country(session, org, now)
        name = licences.display_name(rt.settings.content_for(local.handle_of(org)).default_licence)
        await profile.update(session, actor, changes, now, name, storage)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/profile?saved=1")
