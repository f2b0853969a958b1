"""Commitments per charter point in the admin: progress, statement, actions, evidence."""

from __future__ import annotations

from aiohttp import web

from federation import charter
from federation.accounts import roles
from federation.actors import local
from federation.content import commitments, statements
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
    async with rt.sessions.begin() as session:
        _obj, sent = await statements.publish_commitments(
            session, org.id, draft, rt.clock.now(), rt.settings.content_for(local.handle_of(org))
        )
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/commitments?saved={'changed' if sent else 'same'}")
