"""Needs and offers between members: "we look for a partner to co-develop X",
"we offer our delivery planning tool". Short public `Note`s (Mastodon shows them
whole) with a kind (`need` or `offer`), one theme (a charter commitment) and an
expiry (`endTime`); the directory lists those not expired so new projects find help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import commons, themes
from federation.errors import CommandError
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject, OutboxActivity
from federation.vocab import build, declics

KINDS = ("need", "offer")
COLLECTION = {"need": "needs", "offer": "offers"}
LABEL = {"need": "Besoin", "offer": "Offre"}
MAX_TEXT = 2000
MAX_DAYS = 366


@dataclass(frozen=True)
class OfferDraft:
    kind: str
    title: str
    text: str
    theme: int
    expires: date  # last day it is shown

    @property
    def ends_at(self) -> datetime:
        """The moment it expires: the end of its last day (UTC)."""
        return datetime.combine(self.expires + timedelta(days=1), time(0, 0), tzinfo=UTC)


def make_draft(
    kind: str, title: str, text: str, theme: object, expires: str | date, today: date
) -> OfferDraft:
    if kind not in KINDS:
        raise commons.FieldError("kind", "kind must be need or offer")
    title = title.strip()
    if not title or len(title) > 200:
        raise commons.FieldError("title", "a title of 1 to 200 characters is needed")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise commons.FieldError("text", f"the text is longer than {MAX_TEXT} characters")
    numbers = commons.theme_numbers(theme, required=True, key="theme")
    if len(numbers) != 1:
        raise commons.FieldError("theme", "a need or an offer has exactly one theme")
    last_day = commons.plain_date(expires, "expires")
    if last_day < today:
        raise commons.FieldError("expires", "the expiry date is already past")
    if last_day > today + timedelta(days=MAX_DAYS):
        raise commons.FieldError("expires", "a need or an offer expires within a year")
    return OfferDraft(kind, title, text, numbers[0], last_day)


def _content(actor: LocalActor, draft: OfferDraft) -> str:
    tag = themes.hashtag(draft.theme)
    body = build.text_to_html(draft.text) if draft.text else ""
    return (
        f"<p><strong>{LABEL[draft.kind]} : {escape(draft.title)}</strong></p>{body}"
        f"<p>Jusqu’au {draft.expires:%d/%m/%Y} · "
        f'<a href="{actor.base_url}/tags/{tag}" class="mention hashtag" rel="tag">'
        f"#<span>{tag}</span></a></p>"
    )


def document(
    actor: LocalActor,
    uri: str,
    draft: OfferDraft,
    *,
    published: datetime,
    updated: datetime | None,
    language: str,
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    html = _content(actor, draft)
    tag = themes.hashtag(draft.theme)
    doc: dict[str, Any] = {
        "@context": declics.context({"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"}),
        "id": uri,
        "type": "Note",
        "kind": draft.kind,
        "attributedTo": urls.id,
        "name": draft.title,
        "content": html,
        "contentMap": {language: html},
        "mediaType": "text/html",
        "source": {"content": draft.text, "mediaType": "text/plain"},
        "url": uri,
        "published": build.iso(published),
        "endTime": build.iso(draft.ends_at),
        "themes": [draft.theme],
        "tag": [{"type": "Hashtag", "name": f"#{tag}", "href": f"{actor.base_url}/tags/{tag}"}],
        "sensitive": False,
        **build.public_audience(urls),
    }
    if updated is not None:
        doc["updated"] = build.iso(updated)
    return doc


def _apply(draft: OfferDraft) -> commons.Apply:
    def apply(obj: LocalObject) -> None:
        obj.kind = draft.kind
        obj.title = draft.title
        obj.summary = draft.text[:500]
        obj.source = draft.text
        obj.themes = [draft.theme]
        obj.ends_at = draft.ends_at

    return apply


def _builder(actor: LocalActor, draft: OfferDraft, language: str) -> commons.Builder:
    def make(uri: str, published: datetime, updated: datetime | None) -> dict[str, Any]:
        return document(actor, uri, draft, published=published, updated=updated, language=language)

    return make


async def publish(
    session: AsyncSession, actor: LocalActor, draft: OfferDraft, now: datetime, language: str
) -> tuple[LocalObject, OutboxActivity]:
    return await commons.publish(
        session,
        actor,
        kind=draft.kind,
        object_type="Note",
        collection=COLLECTION[draft.kind],
        title=draft.title,
        build=_builder(actor, draft, language),
        apply=_apply(draft),
        now=now,
    )


async def get(session: AsyncSession, actor: LocalActor, ref: str) -> LocalObject:
    return await commons.get(session, actor, KINDS, ref)


async def update(
    session: AsyncSession,
    actor: LocalActor,
    ref: str,
    draft: OfferDraft,
    now: datetime,
    language: str,
) -> tuple[LocalObject, OutboxActivity]:
    obj = await get(session, actor, ref)
    if obj.kind != draft.kind:
        raise CommandError(f"{obj.uri} is a {obj.kind}; its kind cannot change")
    sent = await commons.update(
        session, actor, obj, build=_builder(actor, draft, language), apply=_apply(draft), now=now
    )
    return obj, sent


async def delete(session: AsyncSession, actor: LocalActor, ref: str, now: datetime) -> LocalObject:
    obj = await get(session, actor, ref)
    await objects.delete(session, actor, obj, now)
    return obj


async def listing(
    session: AsyncSession, actor: LocalActor, now: datetime | None = None
) -> list[LocalObject]:
    """Our needs and offers; with `now`, only those neither deleted nor expired."""
    rows = await commons.listing(session, actor, KINDS)
    if now is None:
        return rows
    return [r for r in rows if r.deleted_at is None and (r.ends_at is None or r.ends_at > now)]


@dataclass(frozen=True)
class Listed:
    """A need or an offer as the directory lists it (ours or a followed member's)."""

    uri: str
    url: str | None
    kind: str
    title: str
    themes: list[int]
    ends_at: datetime | None
    actor_uri: str


async def current_offers(
    session: AsyncSession, actor: LocalActor, now: datetime, limit: int = 200
) -> list[Listed]:
    """Needs and offers not expired, ours and the library's, soonest expiry first
    (`limit` at most: the directory page shows them all at once)."""
    from federation.content import library  # library imports commons: no cycle at load

    ours = [
        Listed(o.uri, o.uri, o.kind, o.title or "", o.themes, o.ends_at, local.urls_of(actor).id)
        for o in await listing(session, actor, now)
    ]
    theirs = [
        Listed(i.uri, i.url, i.kind, i.title or "", i.themes, i.ends_at, i.actor_uri)
        for i in await library.items(session, kinds=KINDS, current_at=now, readers=(actor.id,))
    ]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(ours + theirs, key=lambda x: x.ends_at or far)[:limit]
