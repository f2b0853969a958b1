"""Profile changes of a local actor, announced to followers with an Update."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.errors import CommandError
from federation.outbox.publish import new_uri, to_followers
from federation.store.models import LocalActor
from federation.vocab import build

EDITABLE = {
    "name",
    "summary",
    "icon_url",
    "image_url",
    "fields",
    "manually_approves_followers",
    "territory",
}


def _check(changes: dict[str, Any]) -> None:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise CommandError(f"cannot change {', '.join(sorted(unknown))}")
    if "name" in changes and not changes["name"]:
        raise CommandError("the name must not be empty")
    for key in ("icon_url", "image_url"):
        url = changes.get(key)
        if url and urlsplit(url).scheme not in ("https", "http"):
            raise CommandError(f"{key.replace('_', '-')} must be an http(s) URL")
        if key in changes and not url:
            changes[key] = None
    if len(changes.get("fields", [])) > 16:
        raise CommandError("at most 16 profile fields")


async def update(
    session: AsyncSession,
    actor: LocalActor | None,
    changes: dict[str, Any],
    now: datetime,
    licence_name: str | None = None,
    storage: str | None = None,
) -> None:
    """Apply `changes` and send the new actor document to every follower."""
    if actor is None:
        raise CommandError("the organisation vanished")
    _check(changes)
    for key, value in changes.items():
        setattr(actor, key, value)
    urls = local.urls_of(actor)
    actor_document = local.document_of(actor, licence_name, storage)
    document = build.activity(
        "Update",
        new_uri(actor, "activities"),
        urls.id,
        actor_document,
        to=["https://www.w3.org/ns/activitystreams#Public"],
        cc=[urls.followers],
        published=now,
    )
    document["@context"] = actor_document["@context"]
    await to_followers(session, actor, document, now, public=False)
