"""Tools: software and other resources the network shares as commons.

A tool is a Markdown file with a front matter, published as an AS2 `Article` (what
Mastodon shows: name, summary, link) that also carries DOAP terms (FEP-c893):
`doap:name`, `doap:shortdesc`, `doap:homepage`, `doap:repository`, `doap:license`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import commons, licences, markdown, themes
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject, OutboxActivity
from federation.vocab import build, declics

KIND = "tool"
COLLECTION = "tools"
KNOWN_KEYS = {
    "name",
    "title",
    "summary",
    "licence",
    "license",
    "repository",
    "homepage",
    "website",
    "practices",
    "themes",
}


@dataclass(frozen=True)
class ToolDraft:
    name: str
    summary: str
    description: str  # Markdown
    licence: licences.Licence
    repository: str | None = None
    homepage: str | None = None
    practices: tuple[str, ...] = ()
    themes: tuple[int, ...] = ()


def parse_file(text: str, default_licence: str = "AGPL-3.0-or-later") -> ToolDraft:
    """Read a tool file; every problem is a CommandError naming it."""
    meta, body = commons.front_matter(text, KNOWN_KEYS)
    return from_meta(meta, body, default_licence)


def from_meta(
    meta: dict[str, Any], body: str, default_licence: str = "AGPL-3.0-or-later"
) -> ToolDraft:
    """A draft from front matter values (a file's, or the admin form's); a problem is
    a `commons.FieldError` naming the key."""
    name = commons.text(meta, "name" if "name" in meta else "title", required=True)
    draft = ToolDraft(
        name=name,
        summary=commons.text(meta, "summary", limit=1000),
        description=body,
        licence=commons.licence(meta.get("licence", meta.get("license", default_licence))),
        repository=commons.url(meta.get("repository"), "repository"),
        homepage=commons.url(meta.get("homepage", meta.get("website")), "homepage"),
        practices=commons.urls(meta.get("practices"), "practices"),
        themes=commons.theme_numbers(meta.get("themes"), required=False),
    )
    if not draft.summary and not body.strip():
        raise commons.FieldError("summary", "a tool needs a summary or a description")
    return draft


def _summary_html(actor: LocalActor, draft: ToolDraft) -> str:
    """What Mastodon shows under the name: summary, links, licence, themes."""
    parts = [f"<p>{escape(draft.summary)}</p>"] if draft.summary else []
    links = []
    if draft.repository:
        links.append(f'<a href="{escape(draft.repository)}">code source</a>')
    if draft.homepage:
        links.append(f'<a href="{escape(draft.homepage)}">site</a>')
    links.append(
        f'logiciel libre sous <a href="{escape(draft.licence.url)}">'
        f"{escape(draft.licence.name)}</a>"
    )
    tags = " ".join(
        f'<a href="{actor.base_url}/tags/{themes.hashtag(n)}" class="mention hashtag" '
        f'rel="tag">#<span>{themes.hashtag(n)}</span></a>'
        for n in draft.themes
    )
    parts.append(f"<p>Outil en commun · {' · '.join(links)}{' · ' + tags if tags else ''}</p>")
    return "".join(parts)


def document(
    actor: LocalActor,
    uri: str,
    draft: ToolDraft,
    *,
    published: datetime,
    updated: datetime | None,
    language: str,
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    body_html = markdown.render(draft.description) if draft.description.strip() else ""
    attachment = [
        {"type": "Link", "name": label, "href": href, "mediaType": "text/html"}
        for label, href in (("Code source", draft.repository), ("Site web", draft.homepage))
        if href
    ]
    doc: dict[str, Any] = {
        "@context": declics.context(
            {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"}, declics.DOAP_TERMS
        ),
        "id": uri,
        "type": "Article",
        "kind": KIND,
        "attributedTo": urls.id,
        "name": draft.name,
        "summary": _summary_html(actor, draft),
        "content": body_html,
        "contentMap": {language: body_html},
        "mediaType": "text/html",
        "source": {"content": draft.description, "mediaType": "text/markdown"},
        "url": uri,
        "published": build.iso(published),
        "licence": draft.licence.as_json(),
        "themes": list(draft.themes),
        "tag": [
            {
                "type": "Hashtag",
                "name": f"#{themes.hashtag(n)}",
                "href": f"{actor.base_url}/tags/{themes.hashtag(n)}",
            }
            for n in draft.themes
        ],
        "attachment": attachment,
        "relatedPractices": list(draft.practices),
        "doap:name": draft.name,
        "doap:shortdesc": draft.summary,
        "doap:license": draft.licence.url,
        "sensitive": False,
        **build.public_audience(urls),
    }
    if draft.homepage:
        doc["doap:homepage"] = draft.homepage
    if draft.repository:
        doc["doap:repository"] = {"type": "doap:Repository", "doap:browse": draft.repository}
    if updated is not None:
        doc["updated"] = build.iso(updated)
    return doc


def _apply(draft: ToolDraft) -> commons.Apply:
    def apply(obj: LocalObject) -> None:
        obj.title = draft.name
        obj.summary = draft.summary
        obj.source = draft.description
        obj.licence = draft.licence.spdx
        obj.themes = list(draft.themes)

    return apply


def _builder(actor: LocalActor, draft: ToolDraft, language: str) -> commons.Builder:
    def make(uri: str, published: datetime, updated: datetime | None) -> dict[str, Any]:
        return document(actor, uri, draft, published=published, updated=updated, language=language)

    return make


async def publish(
    session: AsyncSession, actor: LocalActor, draft: ToolDraft, now: datetime, language: str
) -> tuple[LocalObject, OutboxActivity]:
    return await commons.publish(
        session,
        actor,
        kind=KIND,
        object_type="Article",
        collection=COLLECTION,
        title=draft.name,
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
    draft: ToolDraft,
    now: datetime,
    language: str,
) -> tuple[LocalObject, OutboxActivity]:
    obj = await get(session, actor, ref)
    sent = await commons.update(
        session, actor, obj, build=_builder(actor, draft, language), apply=_apply(draft), now=now
    )
    return obj, sent


async def delete(session: AsyncSession, actor: LocalActor, ref: str, now: datetime) -> LocalObject:
    obj = await get(session, actor, ref)
    await objects.delete(session, actor, obj, now)
    return obj


async def listing(session: AsyncSession, actor: LocalActor) -> list[LocalObject]:
    return await commons.listing(session, actor, (KIND,))
