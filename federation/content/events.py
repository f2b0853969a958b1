"""Events: workshops, network meetings, trainings, as AS2 `Event`s shaped as
Mobilizon writes them (startTime, endTime, timezone, location `Place` with a
schema.org `PostalAddress` or an online link, joinMode, capacity…), so Mastodon
shows them (name, summary, link) and Mobilizon can import them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import commons, markdown, participation, themes
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject, OutboxActivity
from federation.vocab import build, declics

KIND = "event"
COLLECTION = "events"
JOIN_MODES = ("free", "restricted", "invite")
DEFAULT_TIMEZONE = "Europe/Paris"
KNOWN_KEYS = {
    "title",
    "name",
    "summary",
    "start",
    "end",
    "timezone",
    "place",
    "online",
    "capacity",
    "join_mode",
    "anonymous",
    "themes",
}
ADDRESS_KEYS = {
    "name": "name",
    "street": "streetAddress",
    "postal_code": "postalCode",
    "locality": "addressLocality",
    "region": "addressRegion",
    "country": "addressCountry",
}


@dataclass(frozen=True)
class EventDraft:
    title: str
    summary: str
    description: str  # Markdown
    start: datetime
    end: datetime
    timezone: str
    place: tuple[tuple[str, str], ...] = ()  # (schema.org key or "name", value)
    online: str | None = None
    capacity: int | None = None
    join_mode: str = "free"
    anonymous: bool = False
    themes: tuple[int, ...] = ()


def _zone(name: object) -> tuple[str, ZoneInfo]:
    if not isinstance(name, str) or not name.strip():
        raise commons.FieldError("timezone", "timezone must be an IANA name such as Europe/Paris")
    try:
        return name.strip(), ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise commons.FieldError("timezone", f"unknown timezone {name!r}") from err


def _place(value: object) -> tuple[tuple[str, str], ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return (("name", value.strip()),)
    if not isinstance(value, dict):
        raise commons.FieldError(
            "place", "place must be a name or a mapping (name, street, postal_code…)"
        )
    unknown = set(value) - set(ADDRESS_KEYS)
    if unknown:
        raise commons.FieldError(
            "place", f"unknown place key(s): {', '.join(sorted(map(str, unknown)))}"
        )
    return tuple(
        (ADDRESS_KEYS[k], str(value[k]).strip())
        for k in ADDRESS_KEYS
        if value.get(k) not in (None, "")
    )


def parse_file(text: str) -> EventDraft:
    """Read an event file; every problem is a CommandError naming it."""
    meta, body = commons.front_matter(text, KNOWN_KEYS)
    return from_meta(meta, body)


def from_meta(meta: dict[str, Any], body: str) -> EventDraft:
    """A draft from front matter values (a file's, or the admin form's); a problem is
    a `commons.FieldError` naming the key."""
    title = commons.text(meta, "title" if "title" in meta else "name", required=True)
    zone_name, zone = _zone(meta.get("timezone", DEFAULT_TIMEZONE))
    start = commons.moment(meta.get("start"), "start", zone)
    end = commons.moment(meta.get("end"), "end", zone) if meta.get("end") else start
    if end < start:
        raise commons.FieldError("end", "the event ends before it starts")
    capacity = meta.get("capacity")
    if capacity is not None and (
        not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1
    ):
        raise commons.FieldError("capacity", "capacity must be a positive whole number")
    join_mode = str(meta.get("join_mode", "free"))
    if join_mode not in JOIN_MODES:
        raise commons.FieldError("join_mode", f"join_mode must be one of {', '.join(JOIN_MODES)}")
    anonymous = meta.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise commons.FieldError("anonymous", "anonymous must be true or false")
    place = _place(meta.get("place"))
    online = commons.url(meta.get("online"), "online")
    if not place and online is None:
        raise commons.FieldError("place", "an event needs a place or an online link")
    return EventDraft(
        title=title,
        summary=commons.text(meta, "summary", limit=1000),
        description=body,
        start=start,
        end=end,
        timezone=zone_name,
        place=place,
        online=online,
        capacity=capacity,
        join_mode=join_mode,
        anonymous=anonymous,
        themes=commons.theme_numbers(meta.get("themes"), required=False),
    )


def when_text(draft: EventDraft) -> str:
    """The date as people of the event's timezone read it (French)."""
    zone = ZoneInfo(draft.timezone)
    start, end = draft.start.astimezone(zone), draft.end.astimezone(zone)
    if start.date() == end.date():
        return f"le {start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M} ({draft.timezone})"
    return f"du {start:%d/%m/%Y %H:%M} au {end:%d/%m/%Y %H:%M} ({draft.timezone})"


def where_text(draft: EventDraft) -> str:
    parts = [value for _key, value in draft.place]
    if draft.online:
        parts.append(f"en ligne : {draft.online}")
    return ", ".join(parts)


def location(uri: str, draft: EventDraft) -> dict[str, Any]:
    fields = dict(draft.place)
    # Mobilizon gives every address an id; ours is a fragment of the event.
    place: dict[str, Any] = {
        "type": "Place",
        "name": fields.pop("name", None) or "En ligne",
        "id": f"{uri}#place",
    }
    if fields:
        place["address"] = {"type": "PostalAddress", **fields}
    if draft.online and not fields:
        place["url"] = draft.online
    return place


def _summary_html(actor: LocalActor, draft: EventDraft) -> str:
    """What Mastodon shows under the name: when, where, summary, themes."""
    lead = f"<p>{escape(draft.summary)}</p>" if draft.summary else ""
    tags = " ".join(
        f'<a href="{actor.base_url}/tags/{themes.hashtag(n)}" class="mention hashtag" '
        f'rel="tag">#<span>{themes.hashtag(n)}</span></a>'
        for n in draft.themes
    )
    where = escape(where_text(draft))
    return f"{lead}<p>📅 {escape(when_text(draft))}<br>📍 {where}</p>" + (
        f"<p>{tags}</p>" if tags else ""
    )


def document(
    actor: LocalActor,
    uri: str,
    draft: EventDraft,
    *,
    published: datetime,
    updated: datetime | None,
    language: str,
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    body_html = markdown.render(draft.description) if draft.description.strip() else ""
    doc: dict[str, Any] = {
        "@context": declics.context(
            {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"}, declics.EVENT_TERMS
        ),
        "id": uri,
        "type": "Event",
        "kind": KIND,
        "attributedTo": urls.id,
        "actor": urls.id,
        "name": draft.title,
        "summary": _summary_html(actor, draft),
        "content": body_html,
        "contentMap": {language: body_html},
        "mediaType": "text/html",
        "source": {"content": draft.description, "mediaType": "text/markdown"},
        "url": uri,
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, uri)),
        "published": build.iso(published),
        "startTime": build.iso(draft.start),
        "endTime": build.iso(draft.end),
        "timezone": draft.timezone,
        "location": location(uri, draft),
        # Online when there is a link and no street address.
        "isOnline": draft.online is not None and all(key == "name" for key, _ in draft.place),
        "joinMode": draft.join_mode,
        "anonymousParticipationEnabled": draft.anonymous,
        "ical:status": "CONFIRMED",
        "inLanguage": language,
        "themes": list(draft.themes),
        "tag": [
            {
                "type": "Hashtag",
                "name": f"#{themes.hashtag(n)}",
                "href": f"{actor.base_url}/tags/{themes.hashtag(n)}",
            }
            for n in draft.themes
        ],
        # Mobilizon reads the online address from a Link attachment named "Website".
        "attachment": (
            [{"type": "Link", "name": "Website", "href": draft.online, "mediaType": "text/html"}]
            if draft.online
            else []
        ),
        "sensitive": False,
        **build.public_audience(urls),
    }
    if draft.capacity is not None:
        doc["maximumAttendeeCapacity"] = draft.capacity
    if updated is not None:
        doc["updated"] = build.iso(updated)
    return doc


def _apply(draft: EventDraft) -> commons.Apply:
    def apply(obj: LocalObject) -> None:
        obj.title = draft.title
        obj.summary = draft.summary
        obj.source = draft.description
        obj.themes = list(draft.themes)
        obj.starts_at = draft.start
        obj.ends_at = draft.end

    return apply


def _builder(actor: LocalActor, draft: EventDraft, language: str) -> commons.Builder:
    def make(uri: str, published: datetime, updated: datetime | None) -> dict[str, Any]:
        return document(actor, uri, draft, published=published, updated=updated, language=language)

    return make


async def publish(
    session: AsyncSession, actor: LocalActor, draft: EventDraft, now: datetime, language: str
) -> tuple[LocalObject, OutboxActivity]:
    return await commons.publish(
        session,
        actor,
        kind=KIND,
        object_type="Event",
        collection=COLLECTION,
        title=draft.title,
        build=_builder(actor, draft, language),
        apply=_apply(draft),
        now=now,
    )


async def get(session: AsyncSession, actor: LocalActor, ref: str) -> LocalObject:
    return await commons.get(session, actor, (KIND,), ref)


async def update(
    session: AsyncSession,
    actor: LocalActor,
    ref: str,
    draft: EventDraft,
    now: datetime,
    language: str,
) -> tuple[LocalObject, OutboxActivity]:
    obj = await get(session, actor, ref)
    # Participants hear of the change even when they do not follow us (Mastodon).
    sent = await commons.update(
        session,
        actor,
        obj,
        build=_builder(actor, draft, language),
        apply=_apply(draft),
        now=now,
        extra_inboxes=await participation.inboxes(session, obj.uri),
    )
    return obj, sent


async def delete(session: AsyncSession, actor: LocalActor, ref: str, now: datetime) -> LocalObject:
    obj = await get(session, actor, ref)
    extra = await participation.inboxes(session, obj.uri)
    await objects.delete(session, actor, obj, now, extra_inboxes=extra)
    return obj


async def listing(session: AsyncSession, actor: LocalActor) -> list[LocalObject]:
    return await commons.listing(session, actor, (KIND,))
