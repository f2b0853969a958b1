"""Practices in the admin: list, write with a preview, edit, delete."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from federation.accounts import roles
from federation.actors import local
from federation.content import licences, markdown, practices, themes
from federation.errors import CommandError
from federation.store.models import LocalActor, LocalObject
from federation.web.admin import forms, views
from federation.web.admin.guard import require
from federation.web.context import runtime

MAX_PREVIEW = 200_000


def _choices() -> dict[str, Any]:
    return {
        "theme_choices": [
            (n, {"fr": themes.title(n, "fr"), "en": themes.title(n, "en")})
            for n in sorted(themes.HASHTAGS)
        ],
        "licence_choices": sorted(licences.LICENCES.values(), key=lambda lic: lic.spdx),
    }


async def listing(request: web.Request) -> web.Response:
    org, _ = require(request, roles.PRACTICES)
    async with runtime(request).sessions() as session:
        rows = await practices.listing(session, org)
    return views.page(request, "practices.html", practices=rows)


async def new_form(request: web.Request) -> web.Response:
    org, _ = require(request, roles.PRACTICES)
    default = runtime(request).settings.content_for(local.handle_of(org)).default_licence
    values = {"title": "", "summary": "", "body": "", "themes": [], "licence": default}
    return views.page(request, "practice_form.html", values=values, errors={}, **_choices())


async def _submitted(request: web.Request) -> tuple[forms.Checked, practices.PracticeDraft | None]:
    form = await request.post()
    multi = {"themes": [str(v) for v in form.getall("themes", [])]}
    return forms.practice(form, multi)


def _form_again(
    request: web.Request, checked: forms.Checked, *, preview: str | None, obj: object = None
) -> web.Response:
    # A preview is not a submission: it shows no errors yet.
    errors = {} if preview is not None else checked.errors
    return views.page(
        request,
        "practice_form.html",
        status=422 if errors else 200,
        values=checked.values,
        errors=errors,
        details=checked.details,
        preview=preview,
        obj=obj,
        **_choices(),
    )


def _preview_of(checked: forms.Checked) -> str:
    return markdown.render(str(checked.values["body"])[:MAX_PREVIEW])


async def create(request: web.Request) -> web.Response:
    org, _ = require(request, roles.PRACTICES)
    checked, draft = await _submitted(request)
    form = await request.post()
    if form.get("action") == "preview":
        return _form_again(request, checked, preview=_preview_of(checked))
    if draft is None:
        return _form_again(request, checked, preview=None)
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        obj, _activity = await practices.publish(
            session,
            org,
            draft,
            rt.clock.now(),
            rt.settings.content_for(local.handle_of(org)).language,
        )
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/practices?published={obj.id}")


async def _get(request: web.Request) -> tuple[LocalActor, LocalObject]:
    org, _ = require(request, roles.PRACTICES)
    async with runtime(request).sessions() as session:
        try:
            obj = await practices.get(session, org, request.match_info["slug"])
        except CommandError as err:
            raise web.HTTPNotFound(reason="no such practice") from err
    return org, obj


async def edit_form(request: web.Request) -> web.Response:
    _org, obj = await _get(request)
    values = forms.practice_values({}, obj)
    return views.page(
        request, "practice_form.html", values=values, errors={}, obj=obj, **_choices()
    )


async def update(request: web.Request) -> web.Response:
    org, obj = await _get(request)
    checked, draft = await _submitted(request)
    form = await request.post()
    if form.get("action") == "preview":
        return _form_again(request, checked, preview=_preview_of(checked), obj=obj)
    if draft is None:
        return _form_again(request, checked, preview=None, obj=obj)
    # What the form does not show stays as it was: the links and the origin of an
    # adopted practice.
    links = tuple(
        str(item["href"])
        for item in obj.document.get("attachment", [])
        if isinstance(item, dict) and item.get("href")
    )
    draft = dataclasses.replace(draft, links=links, derived_from=obj.derived_from)
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        try:
            await practices.update(
                session,
                org,
                request.match_info["slug"],
                draft,
                rt.clock.now(),
                rt.settings.content_for(local.handle_of(org)).language,
            )
        except CommandError as err:
            checked.errors["form"] = forms.N_("Ce changement est refusé.")
            checked.details["form"] = err.reason
            return _form_again(request, checked, preview=None, obj=obj)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/practices?updated=1")


async def delete_form(request: web.Request) -> web.Response:
    """Ask before deleting: a deletion is federated and cannot be undone."""
    _org, obj = await _get(request)
    if obj.deleted_at is not None:
        raise web.HTTPGone(reason="this practice was deleted")
    return views.page(request, "practice_delete.html", obj=obj)


async def delete(request: web.Request) -> web.Response:
    org, _obj = await _get(request)
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        await practices.delete(session, org, request.match_info["slug"], rt.clock.now())
    rt.delivery_wakeup.set()
    return views.back_to("/admin/practices?deleted=1")


async def preview(request: web.Request) -> web.Response:
    """The live preview: Markdown to the same safe HTML as publishing gives."""
    require(request, roles.PRACTICES)
    form = await request.post()
    body = form.get("body", "")
    html = markdown.render(body[:MAX_PREVIEW] if isinstance(body, str) else "")
    return web.Response(text=html, content_type="text/html")
