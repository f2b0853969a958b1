"""Shared practices: Markdown files with a front matter, published as AS2 Articles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import licences, markdown, themes
from federation.errors import CommandError
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject, OutboxActivity
from federation.vocab import build, declics

KIND = "practice"
KNOWN_KEYS = {"title", "summary", "themes", "licence", "license", "links", "derived_from"}


@dataclass(frozen=True)
class PracticeDraft:
    title: str
    summary: str
    body: str  # Markdown
    themes: tuple[int, ...]
    licence: licences.Licence
    links: tuple[str, ...] = ()
    derived_from: str | None = None


def parse_file(text: str, default_licence: str) -> PracticeDraft:
    """Read a practice file; every problem is a CommandError naming it."""
    try:
        parsed = markdown.split_front_matter(text)
    except markdown.FrontMatterError as err:
        raise CommandError(str(err)) from err
    meta = parsed.meta
    unknown = set(meta) - KNOWN_KEYS
    if unknown:
        raise CommandError(f"unknown front matter key(s): {', '.join(sorted(unknown))}")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CommandError("missing title in the front matter")
    summary = meta.get("summary", "")
    if not isinstance(summary, str):
        raise CommandError("summary must be text")
    raw_themes = meta.get("themes", [])
    if not isinstance(raw_themes, list):
        raw_themes = [raw_themes]
    try:
        numbers = tuple(sorted({themes.parse_theme(t) for t in raw_themes}))
    except themes.UnknownTheme as err:
        raise CommandError(str(err)) from err
    if not numbers:
        raise CommandError("a practice needs at least one theme (a charter commitment, 1 to 7)")
    spdx = meta.get("licence", meta.get("license", default_licence))
    licence = licences.find(str(spdx))
    if licence is None:
        known = ", ".join(sorted(licences.LICENCES))
        raise CommandError(f"unknown licence {spdx!r}; known licences: {known}")
    links = meta.get("links", [])
    if not isinstance(links, list) or not all(
        isinstance(x, str) and urlsplit(x).scheme in ("http", "https") for x in links
    ):
        raise CommandError("links must be a list of http(s) URLs")
    if not parsed.body.strip():
        raise CommandError("the practice has no body text")
    derived = meta.get("derived_from")
    return PracticeDraft(
        title=title.strip(),
        summary=summary.strip(),
        body=parsed.body,
        themes=numbers,
        licence=licence,
        links=tuple(links),
        derived_from=derived if isinstance(derived, str) else None,
    )


def _tags(actor: LocalActor, numbers: tuple[int, ...]) -> list[dict[str, str]]:
    return [
        {
            "type": "Hashtag",
            "name": f"#{themes.hashtag(n)}",
            "href": f"{actor.base_url}/tags/{themes.hashtag(n)}",
        }
        for n in numbers
    ]


def _rich_summary(actor: LocalActor, draft: PracticeDraft) -> str:
    """What Mastodon shows under the title: the summary, themes as hashtags, licence."""
    tag_links = " ".join(
        f'<a href="{actor.base_url}/tags/{themes.hashtag(n)}" class="mention hashtag" '
        f'rel="tag">#<span>{themes.hashtag(n)}</span></a>'
        for n in draft.themes
    )
    lead = f"<p>{escape(draft.summary)}</p>" if draft.summary else ""
    return (
        f"{lead}<p>Pratique partagée sous licence "
        f'<a href="{draft.licence.url}">{escape(draft.licence.name)}</a> · {tag_links}</p>'
    )


def document(
    actor: LocalActor,
    uri: str,
    draft: PracticeDraft,
    *,
    published: datetime,
    updated: datetime | None,
    language: str,
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    body_html = markdown.render(draft.body)
    doc: dict[str, Any] = {
        "@context": declics.context({"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"}),
        "id": uri,
        "type": "Article",
        "kind": KIND,
        "attributedTo": urls.id,
        "name": draft.title,
        "summary": _rich_summary(actor, draft),
        "content": body_html,
        "contentMap": {language: body_html},
        "mediaType": "text/html",
        "source": {"content": draft.body, "mediaType": "text/markdown"},
        "url": uri,
        "published": build.iso(published),
        "themes": list(draft.themes),
        "licence": draft.licence.as_json(),
        "tag": _tags(actor, draft.themes),
        "attachment": [{"type": "Link", "href": link} for link in draft.links],
        "sensitive": False,
        **build.public_audience(urls),
    }
    if updated is not None:
        doc["updated"] = build.iso(updated)
    if draft.derived_from:
        doc["derivedFrom"] = draft.derived_from
    return doc


def _apply(obj: LocalObject, draft: PracticeDraft) -> None:
    obj.title = draft.title
    obj.summary = draft.summary
    obj.source = draft.body
    obj.licence = draft.licence.spdx
    obj.themes = list(draft.themes)
    obj.derived_from = draft.derived_from


async def publish(
    session: AsyncSession, actor: LocalActor, draft: PracticeDraft, now: datetime, language: str
) -> tuple[LocalObject, OutboxActivity]:
    uri = await objects.free_uri(session, actor, "practices", draft.title)
    obj = LocalObject(
        local_actor_id=actor.id,
        uri=uri,
        object_type="Article",
        kind=KIND,
        version=1,
        document=document(actor, uri, draft, published=now, updated=None, language=language),
        published=now,
    )
    _apply(obj, draft)
    return obj, await objects.create(session, actor, obj, now, history=False)


async def get(session: AsyncSession, actor: LocalActor, ref: str) -> LocalObject:
    obj = await objects.find(session, actor, KIND, ref)
    if obj is None:
        raise CommandError(f"no practice {ref!r} here")
    return obj


async def update(
    session: AsyncSession,
    actor: LocalActor,
    ref: str,
    draft: PracticeDraft,
    now: datetime,
    language: str,
) -> tuple[LocalObject, OutboxActivity]:
    obj = await get(session, actor, ref)
    if obj.deleted_at is not None:
        raise CommandError(f"{obj.uri} was deleted; publish a new practice instead")
    _apply(obj, draft)
    new_doc = document(
        actor, obj.uri, draft, published=obj.published, updated=now, language=language
    )
    return obj, await objects.update(session, actor, obj, new_doc, now, history=False)


async def delete(session: AsyncSession, actor: LocalActor, ref: str, now: datetime) -> LocalObject:
    obj = await get(session, actor, ref)
    await objects.delete(session, actor, obj, now)
    return obj


async def listing(session: AsyncSession, actor: LocalActor) -> list[LocalObject]:
    rows = await session.execute(
        select(LocalObject)
        .where(LocalObject.local_actor_id == actor.id, LocalObject.kind == KIND)
        .order_by(LocalObject.published.desc())
    )
    return list(rows.scalars())
