"""HTML pages for people (French by default)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from aiohttp import web
from sqlalchemy import select

from federation.actors import follows, local
from federation.content import participation
from federation.content.commitments import PROGRESS, PROGRESS_EN
from federation.store.models import Interaction, LocalActor, LocalObject
from federation.web import i18n
from federation.web.context import runtime
from federation.web.keys import TEMPLATES


def render(request: web.Request, name: str, **context: object) -> web.Response:
    language, remember = i18n.negotiate(request)
    token = i18n.current.set(language)
    try:
        html = (
            request.app[TEMPLATES]
            .get(name)
            .render(
                lang=language,
                progress_label=progress_label,
                here=request.path,
                switch_to=_switch_url(request, "en" if language == "fr" else "fr"),
                **context,
            )
        )
    finally:
        i18n.current.reset(token)
    response = web.Response(
        text=html, content_type="text/html", headers={"Vary": "Accept, Accept-Language, Cookie"}
    )
    if remember:
        response.set_cookie(i18n.COOKIE, language, max_age=365 * 86400, samesite="Lax")
    return response


def _switch_url(request: web.Request, language: str) -> str:
    """This page in the other language, its query (a search, filters) kept."""
    query = [(k, v) for k, v in request.query.items() if k != "lang"]
    return str(request.rel_url.with_query([*query, ("lang", language)]))


def progress_label(code: str) -> str:
    labels = PROGRESS_EN if i18n.current.get() == "en" else PROGRESS
    return labels.get(code, code)


def _french_date(iso_date: object) -> str:
    try:
        return date.fromisoformat(str(iso_date)).strftime("%d/%m/%Y")
    except ValueError:
        return str(iso_date or "")


async def profile(request: web.Request, org: LocalActor) -> web.Response:
    rt = runtime(request)
    async with rt.sessions() as session:
        followers = await follows.count_followers(session, org.id)
        following = await follows.count_followings(session, org.id)
        notes = list(
            (
                await session.execute(
                    select(LocalObject)
                    .where(
                        LocalObject.local_actor_id == org.id,
                        LocalObject.deleted_at.is_(None),
                    )
                    .order_by(LocalObject.published.desc())
                    .limit(60)
                )
            ).scalars()
        )
        joined = await participation.joined(session, org)
    practices = [n for n in notes if n.kind == "practice"]
    now = rt.clock.now()
    tools = [n for n in notes if n.kind == "tool"]
    events = [n for n in notes if n.kind == "event"]
    declared = [n for n in notes if n.kind == "declaration"]
    offers = [
        n for n in notes if n.kind in ("need", "offer") and (n.ends_at is None or n.ends_at > now)
    ]
    commitments = next((n for n in notes if n.kind == "commitments"), None)
    return render(
        request,
        "profile.html",
        practices=practices,
        tools=tools,
        events=events,
        offers=offers,
        declared=declared,
        joined=joined,
        commitments=commitments,
        signed_on_iso=commitments.document.get("signedOn") if commitments else None,
        signed_on=_french_date(commitments.document.get("signedOn") if commitments else None),
        org=org,
        urls=local.urls_of(org),
        handle=local.handle_of(org),
        followers=followers,
        following=following,
        notes=notes,
    )


async def object_page(
    request: web.Request,
    owner: LocalActor,
    obj: LocalObject,
    counts: Mapping[str, int],
    interactions: Sequence[Interaction],
    commons: Mapping[str, object] | None = None,
) -> web.Response:
    return render(
        request,
        "object.html",
        **(commons or {}),
        org=owner,
        urls=local.urls_of(owner),
        obj=obj,
        counts=counts,
        replies=[i for i in interactions if i.kind == "reply"],
        adoptions=[i for i in interactions if i.kind == "adoption"],
    )
