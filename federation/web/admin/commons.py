"""Tools, events, needs and offers in the admin: list, write with a preview, edit,
delete with a confirmation, as for practices; and the network side: declare "we use" /
"we contribute" for a peer's tool, take part in a peer's event, see and answer the
participants of ours. Every change goes through the domain functions the command line
calls (`federation.content.tools`, `events`, `offers`, `declarations`, `participation`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.accounts import roles
from federation.actors import local
from federation.content import (
    declarations,
    events,
    library,
    markdown,
    offers,
    participation,
    themes,
    tools,
)
from federation.errors import CommandError
from federation.store.models import LocalActor, LocalObject
from federation.vocab import build
from federation.web.admin import commons_forms, views
from federation.web.admin.forms import N_, Checked
from federation.web.admin.guard import require
from federation.web.context import runtime

MAX_PREVIEW = 200_000


@dataclass(frozen=True)
class Area:
    """One kind of commons in the admin: its role area, paths and domain functions."""

    area: str  # the role area
    path: str  # /admin/<path>
    template: str  # <template>s.html, <template>_form.html, <template>_delete.html
    body_field: str  # the field the preview renders
    get: Callable[[AsyncSession, LocalActor, str], Awaitable[LocalObject]]
    delete: Callable[[AsyncSession, LocalActor, str, datetime], Awaitable[LocalObject]]
    values: Callable[[LocalObject], dict[str, Any]]


TOOLS = Area("tools", "tools", "tool", "body", tools.get, tools.delete, commons_forms.tool_values)
EVENTS = Area(
    "events", "events", "event", "body", events.get, events.delete, commons_forms.event_values
)
OFFERS = Area(
    "offers", "offers", "offer", "text", offers.get, offers.delete, commons_forms.offer_values
)


def _choices() -> dict[str, Any]:
    return {
        "theme_choices": [
            (n, {"fr": themes.title(n, "fr"), "en": themes.title(n, "en")})
            for n in sorted(themes.HASHTAGS)
        ],
        "join_modes": events.JOIN_MODES,
    }


def _slug(obj: LocalObject) -> str:
    return obj.uri.rsplit("/", 1)[1]


def _form_page(
    request: web.Request,
    area: Area,
    checked: Checked,
    *,
    preview: str | None,
    obj: LocalObject | None = None,
) -> web.Response:
    # A preview is not a submission: it shows no errors yet.
    errors = {} if preview is not None else checked.errors
    return views.page(
        request,
        f"{area.template}_form.html",
        status=422 if errors else 200,
        values=checked.values,
        errors=errors,
        details=checked.details if errors else {},
        preview=preview,
        obj=obj,
        area=area,
        **_choices(),
    )


def _preview(area: Area, checked: Checked) -> str:
    text = str(checked.values.get(area.body_field, ""))[:MAX_PREVIEW]
    # Needs and offers are plain text, published as such (`offers._content`).
    return build.text_to_html(text) if area is OFFERS else markdown.render(text)


async def _get(request: web.Request, area: Area) -> tuple[LocalActor, LocalObject]:
    org, _ = require(request, area.area)
    async with runtime(request).sessions() as session:
        try:
            obj = await area.get(session, org, request.match_info["slug"])
        except CommandError as err:
            raise web.HTTPNotFound(reason="no such object") from err
    return org, obj


# Tools


async def tools_listing(request: web.Request) -> web.Response:
    org, _ = require(request, roles.TOOLS)
    async with runtime(request).sessions() as session:
        ours = await tools.listing(session, org)
        me = local.urls_of(org).id
        network = [i for i in await library.items(session, kind="tool") if i.actor_uri != me]
        declared: dict[str, set[str]] = {}
        for row in await declarations.active(session, org):
            declared.setdefault(str(row.document.get("object")), set()).add(
                str(row.document.get("relationship"))
            )
    relations = {
        uri: {r for r in ("uses", "contributes") if declarations.RELATIONS[r] in found}
        for uri, found in declared.items()
    }
    return views.page(
        request, "tools.html", tools=ours, network=network, relations=relations, area=TOOLS
    )


def _tool_multi(form: Any) -> dict[str, list[str]]:
    return {"themes": [str(v) for v in form.getall("themes", [])]}


async def tool_new(request: web.Request) -> web.Response:
    require(request, roles.TOOLS)
    default = runtime(request).settings.content.default_licence
    values = {
        "name": "",
        "summary": "",
        "body": "",
        "licence": default,
        "repository": "",
        "homepage": "",
        "themes": [],
    }
    return _form_page(request, TOOLS, Checked(values), preview=None)


async def tool_create(request: web.Request) -> web.Response:
    org, _ = require(request, roles.TOOLS)
    form = await request.post()
    checked, draft = commons_forms.tool(form, _tool_multi(form))
    if form.get("action") == "preview":
        return _form_page(request, TOOLS, checked, preview=_preview(TOOLS, checked))
    if draft is None:
        return _form_page(request, TOOLS, checked, preview=None)
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        obj, _sent = await tools.publish(
            session, org, draft, rt.clock.now(), rt.settings.content.language
        )
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/tools?published={obj.id}")


async def tool_edit(request: web.Request) -> web.Response:
    _org, obj = await _get(request, TOOLS)
    return _form_page(request, TOOLS, Checked(TOOLS.values(obj)), preview=None, obj=obj)


async def tool_update(request: web.Request) -> web.Response:
    org, obj = await _get(request, TOOLS)
    form = await request.post()
    # What the form does not show stays as it was: the related practices.
    kept = {"practices": list(obj.document.get("relatedPractices", []))}
    checked, draft = commons_forms.tool(form, _tool_multi(form), kept)
    if form.get("action") == "preview":
        return _form_page(request, TOOLS, checked, preview=_preview(TOOLS, checked), obj=obj)
    if draft is None:
        return _form_page(request, TOOLS, checked, preview=None, obj=obj)
    rt = runtime(request)
    try:
        async with rt.sessions.begin() as session:
            await tools.update(
                session, org, _slug(obj), draft, rt.clock.now(), rt.settings.content.language
            )
    except CommandError as err:
        checked.errors["form"] = N_("Ce changement est refusé.")
        checked.details["form"] = err.reason
        return _form_page(request, TOOLS, checked, preview=None, obj=obj)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/tools?updated=1")


async def tool_declare(request: web.Request) -> web.Response:
    """We use / we contribute to a peer's tool, or withdraw that."""
    org, _ = require(request, roles.TOOLS)
    form = await request.post()
    tool_uri, relation, action = (str(form.get(k, "")) for k in ("tool", "relation", "action"))
    if relation not in declarations.RELATIONS or action not in ("declare", "withdraw"):
        raise web.HTTPBadRequest(reason="relation is uses or contributes; action declare/withdraw")
    rt = runtime(request)
    try:
        async with rt.sessions.begin() as session:
            if action == "declare":
                await declarations.declare(session, org, tool_uri, relation, rt.clock.now())
            else:
                await declarations.withdraw(session, org, tool_uri, relation, rt.clock.now())
    except CommandError as err:
        raise web.HTTPUnprocessableEntity(reason=err.reason) from err
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/tools?declared={action}")


# Events


async def events_listing(request: web.Request) -> web.Response:
    org, _ = require(request, roles.EVENTS)
    rt = runtime(request)
    async with rt.sessions() as session:
        ours = await events.listing(session, org)
        counts = {e.uri: await participation.count(session, e.uri) for e in ours}
        network = [
            i
            for i in await library.items(session, kind="event", current_at=rt.clock.now())
            if i.actor_uri != local.urls_of(org).id
        ]
        joined = {i.uri for i in await participation.joined(session, org)}
    return views.page(
        request,
        "events.html",
        events=ours,
        counts=counts,
        network=network,
        joined=joined,
        area=EVENTS,
    )


def _event_form(form: Any) -> tuple[Checked, events.EventDraft | None]:
    return commons_forms.event(form, {"themes": [str(v) for v in form.getall("themes", [])]})


async def event_new(request: web.Request) -> web.Response:
    require(request, roles.EVENTS)
    values = {
        "title": "",
        "summary": "",
        "body": "",
        "start": "",
        "end": "",
        "timezone": events.DEFAULT_TIMEZONE,
        "place": dict.fromkeys(commons_forms.PLACE_KEYS, ""),
        "online": "",
        "capacity": "",
        "join_mode": "free",
        "anonymous": False,
        "themes": [],
    }
    return _form_page(request, EVENTS, Checked(values), preview=None)


async def event_create(request: web.Request) -> web.Response:
    org, _ = require(request, roles.EVENTS)
    form = await request.post()
    checked, draft = _event_form(form)
    if form.get("action") == "preview":
        return _form_page(request, EVENTS, checked, preview=_preview(EVENTS, checked))
    if draft is None:
        return _form_page(request, EVENTS, checked, preview=None)
    rt = runtime(request)
    async with rt.sessions.begin() as session:
        obj, _sent = await events.publish(
            session, org, draft, rt.clock.now(), rt.settings.content.language
        )
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/events?published={obj.id}")


async def event_edit(request: web.Request) -> web.Response:
    _org, obj = await _get(request, EVENTS)
    return _form_page(request, EVENTS, Checked(EVENTS.values(obj)), preview=None, obj=obj)


async def event_update(request: web.Request) -> web.Response:
    org, obj = await _get(request, EVENTS)
    form = await request.post()
    checked, draft = _event_form(form)
    if form.get("action") == "preview":
        return _form_page(request, EVENTS, checked, preview=_preview(EVENTS, checked), obj=obj)
    if draft is None:
        return _form_page(request, EVENTS, checked, preview=None, obj=obj)
    rt = runtime(request)
    try:
        async with rt.sessions.begin() as session:
            await events.update(
                session, org, _slug(obj), draft, rt.clock.now(), rt.settings.content.language
            )
    except CommandError as err:
        checked.errors["form"] = N_("Ce changement est refusé.")
        checked.details["form"] = err.reason
        return _form_page(request, EVENTS, checked, preview=None, obj=obj)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/events?updated=1")


async def event_participants(request: web.Request) -> web.Response:
    """The list Mobilizon shows only to organisers: here, not on the public page."""
    _org, obj = await _get(request, EVENTS)
    async with runtime(request).sessions() as session:
        people = await participation.participants(session, obj.uri)
    return views.page(request, "event_participants.html", obj=obj, participants=people, area=EVENTS)


async def event_answer(request: web.Request) -> web.Response:
    """Approve or refuse a pending participant of a restricted event."""
    org, obj = await _get(request, EVENTS)
    form = await request.post()
    who, decision = str(form.get("participant", "")), str(form.get("decision", ""))
    if decision not in ("approve", "refuse"):
        raise web.HTTPBadRequest(reason="decision is approve or refuse")
    rt = runtime(request)
    try:
        async with rt.sessions.begin() as session:
            if decision == "approve":
                await participation.approve(session, org, obj, who, rt.clock.now())
            else:
                await participation.refuse(session, org, obj, who, rt.clock.now())
    except CommandError as err:
        raise web.HTTPUnprocessableEntity(reason=err.reason) from err
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/events/{_slug(obj)}/participants?answered={decision}")


async def event_take_part(request: web.Request) -> web.Response:
    """Take part in a peer's event (Join to its organiser), or no longer (Leave)."""
    org, _ = require(request, roles.EVENTS)
    form = await request.post()
    event_uri, action = str(form.get("event", "")), str(form.get("action", ""))
    if action not in ("join", "leave"):
        raise web.HTTPBadRequest(reason="action is join or leave")
    rt = runtime(request)
    kind = "Join" if action == "join" else "Leave"
    try:
        async with rt.sessions.begin() as session:
            await participation.tell(session, org, event_uri, kind, rt.clock.now())
    except CommandError as err:
        raise web.HTTPUnprocessableEntity(reason=err.reason) from err
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/events?{action}=1")


# Needs and offers


async def offers_listing(request: web.Request) -> web.Response:
    org, _ = require(request, roles.OFFERS)
    async with runtime(request).sessions() as session:
        ours = await offers.listing(session, org)
    return views.page(request, "offers.html", offers=ours, area=OFFERS)


async def offer_new(request: web.Request) -> web.Response:
    require(request, roles.OFFERS)
    values = {"kind": "need", "title": "", "text": "", "theme": "", "expires": ""}
    return _form_page(request, OFFERS, Checked(values), preview=None)


async def offer_create(request: web.Request) -> web.Response:
    org, _ = require(request, roles.OFFERS)
    rt = runtime(request)
    form = await request.post()
    checked, draft = commons_forms.offer(form, rt.clock.now().date())
    if form.get("action") == "preview":
        return _form_page(request, OFFERS, checked, preview=_preview(OFFERS, checked))
    if draft is None:
        return _form_page(request, OFFERS, checked, preview=None)
    async with rt.sessions.begin() as session:
        obj, _sent = await offers.publish(
            session, org, draft, rt.clock.now(), rt.settings.content.language
        )
    rt.delivery_wakeup.set()
    return views.back_to(f"/admin/offers?published={obj.id}")


async def offer_edit(request: web.Request) -> web.Response:
    _org, obj = await _get(request, OFFERS)
    return _form_page(request, OFFERS, Checked(OFFERS.values(obj)), preview=None, obj=obj)


async def offer_update(request: web.Request) -> web.Response:
    org, obj = await _get(request, OFFERS)
    rt = runtime(request)
    form = await request.post()
    checked, draft = commons_forms.offer(form, rt.clock.now().date())
    if form.get("action") == "preview":
        return _form_page(request, OFFERS, checked, preview=_preview(OFFERS, checked), obj=obj)
    if draft is None:
        return _form_page(request, OFFERS, checked, preview=None, obj=obj)
    try:
        async with rt.sessions.begin() as session:
            await offers.update(
                session, org, _slug(obj), draft, rt.clock.now(), rt.settings.content.language
            )
    except CommandError as err:
        field = "kind" if "kind" in err.reason else "form"
        checked.errors[field] = N_("Ce changement est refusé.")
        checked.details[field] = err.reason
        return _form_page(request, OFFERS, checked, preview=None, obj=obj)
    rt.delivery_wakeup.set()
    return views.back_to("/admin/offers?updated=1")


# Deletion, the same for the three


def _delete_handlers(area: Area) -> tuple[Callable[..., Any], Callable[..., Any]]:
    async def delete_form(request: web.Request) -> web.Response:
        """Ask before deleting: a deletion is federated and cannot be undone."""
        _org, obj = await _get(request, area)
        if obj.deleted_at is not None:
            raise web.HTTPGone(reason="this was deleted")
        return views.page(request, "commons_delete.html", obj=obj, area=area)

    async def delete(request: web.Request) -> web.Response:
        org, obj = await _get(request, area)
        rt = runtime(request)
        try:
            async with rt.sessions.begin() as session:
                await area.delete(session, org, _slug(obj), rt.clock.now())
        except CommandError as err:
            raise web.HTTPUnprocessableEntity(reason=err.reason) from err
        rt.delivery_wakeup.set()
        return views.back_to(f"/admin/{area.path}?deleted=1")

    return delete_form, delete


def routes() -> list[web.RouteDef]:
    out = [
        web.get("/admin/tools", tools_listing),
        web.get("/admin/tools/new", tool_new),
        web.post("/admin/tools/new", tool_create),
        web.post("/admin/tools/declare", tool_declare),
        web.get("/admin/events", events_listing),
        web.get("/admin/events/new", event_new),
        web.post("/admin/events/new", event_create),
        web.post("/admin/events/take-part", event_take_part),
        web.get("/admin/offers", offers_listing),
        web.get("/admin/offers/new", offer_new),
        web.post("/admin/offers/new", offer_create),
        web.get("/admin/tools/{slug}", tool_edit),
        web.post("/admin/tools/{slug}", tool_update),
        web.get("/admin/events/{slug}", event_edit),
        web.post("/admin/events/{slug}", event_update),
        web.get("/admin/events/{slug}/participants", event_participants),
        web.post("/admin/events/{slug}/participants", event_answer),
        web.get("/admin/offers/{slug}", offer_edit),
        web.post("/admin/offers/{slug}", offer_update),
    ]
    for area in (TOOLS, EVENTS, OFFERS):
        delete_form, delete = _delete_handlers(area)
        out.append(web.get(f"/admin/{area.path}/{{slug}}/delete", delete_form))
        out.append(web.post(f"/admin/{area.path}/{{slug}}/delete", delete))
    return out
