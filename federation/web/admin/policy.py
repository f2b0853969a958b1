"""The data policy in the admin: the version in force, the one announced, and a change
scheduled after the notice period."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from federation.accounts import roles
from federation.actors import local
from federation.content import policy, statements
from federation.errors import CommandError
from federation.web.admin import forms, views
from federation.web.admin.guard import require
from federation.web.context import runtime


async def _page(
    request: web.Request,
    values: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
    details: dict[str, str] | None = None,
) -> web.Response:
    org, _ = require(request, roles.POLICY)
    rt = runtime(request)
    today = policy.today_utc(rt.clock.now())
    async with rt.sessions() as session:
        current, upcoming = await policy.in_force(session, org, today)
    notice = rt.settings.content_for(local.handle_of(org)).policy_notice_days
    return views.page(
        request,
        "policy.html",
        status=status,
        values=values,
        errors=errors,
        details=details or {},
        in_force=current,
        upcoming=upcoming,
        notice_days=notice,
        earliest=(today + timedelta(days=notice)).isoformat() if current else today.isoformat(),
        saved=request.query.get("saved"),
    )


async def form(request: web.Request) -> web.Response:
    org, _ = require(request, roles.POLICY)
    rt = runtime(request)
    async with rt.sessions() as session:
        current, upcoming = await policy.in_force(session, org, policy.today_utc(rt.clock.now()))
    shown = upcoming or current
    return await _page(request, forms.policy_values(shown.document if shown else None), {})


async def save(request: web.Request) -> web.Response:
    org, _ = require(request, roles.POLICY)
    checked, draft, effective = forms.policy(await request.post())
    if draft is None:
        return await _page(request, checked.values, checked.errors, status=422)
    rt = runtime(request)
    try:
        async with rt.sessions.begin() as session:
            await statements.publish_policy(
                session,
                org,
                draft,
                rt.clock.now(),
                rt.settings.content_for(local.handle_of(org)),
                effective,
            )
    except CommandError as err:
        # The domain's own checks (notice period, nothing changed): shown on the form.
        field = "effective" if "notice" in err.reason or "date" in err.reason else "form"
        checked.errors[field] = forms.N_("Ce changement est refusé.")
        checked.details[field] = err.reason
        return await _page(request, checked.values, checked.errors, 422, checked.details)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/policy?saved=1")
