"""The library: practices, commitments and commons (tools, events, needs and
offers) received from members we follow.

Everything stored here came from another server: its HTML is sanitized on the way
in, its themes and licence are read defensively, and only its author may change it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows
from federation.content import licences
from federation.content.commons import SPDX_ID
from federation.store.models import Following, LibraryItem, RemoteActor
from federation.vocab.normalize import Object, ProtocolError, first_text, parse_object
from federation.vocab.sanitize import sanitize_html

log = logging.getLogger(__name__)
KINDS = frozenset({"practice", "commitments", "tool", "event", "need", "offer"})
# Kinds whose `endTime` is when they stop being current (an event's end, an expiry).
DATED = frozenset({"event", "need", "offer"})
MAX_SOURCE = 200_000


def kind_of(document: Mapping[str, object]) -> str | None:
    """Which library kind an incoming object is, if any."""
    kind = document.get("kind")
    if isinstance(kind, str) and kind in KINDS:
        return kind
    if kind is None and document.get("type") == "Event":
        return "event"  # a followed Mobilizon group's or Fedify app's event
    return None


def _themes(value: object) -> list[int]:
    if not isinstance(value, list):
        return []
    return sorted(
        {v for v in value if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 100}
    )


def _source(document: Mapping[str, object]) -> str | None:
    source = document.get("source")
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        return str(source["content"])[:MAX_SOURCE]
    return None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _spdx(value: object) -> str | None:
    """An SPDX id we do not describe (software licences of tools), if well formed."""
    spdx = value.get("spdx") if isinstance(value, dict) else None
    if isinstance(spdx, str) and SPDX_ID.match(spdx):
        return spdx
    return None


async def is_followed(session: AsyncSession, actor_uri: str) -> bool:
    """Does any local organisation follow this actor (accepted)?"""
    query = select(
        exists().where(
            Following.remote_actor_id == RemoteActor.id,
            RemoteActor.uri == actor_uri,
            Following.state == follows.ACCEPTED,
        )
    )
    return bool((await session.execute(query)).scalar())


async def store(
    session: AsyncSession, actor_uri: str, document: Mapping[str, Any], now: datetime
) -> LibraryItem | None:
    """Insert or update an item from its author; None when it is not library material."""
    kind = kind_of(document)
    if kind is None:
        return None
    try:
        obj: Object = parse_object(document)
    except ProtocolError as err:
        log.info("library: refused object from %s: %s", actor_uri, err.reason)
        return None
    if obj.attributed_to not in (None, actor_uri):
        return None
    row = (
        await session.execute(select(LibraryItem).where(LibraryItem.uri == obj.id))
    ).scalar_one_or_none()
    updated = _date(obj.updated)
    if row is not None:
        if row.actor_uri != actor_uri:
            return None  # only the author may change it
        if row.updated and (updated is None or updated < row.updated):
            return row  # an older version arrived late (or a backfilled Create)
    else:
        row = LibraryItem(uri=obj.id, actor_uri=actor_uri, received_at=now)
        session.add(row)
    licence = licences.from_document(document.get("licence"))
    row.kind = kind
    row.starts_at = _date(_str(document.get("startTime"))) if kind == "event" else None
    row.ends_at = _date(_str(document.get("endTime"))) if kind in DATED else None
    if kind == "event" and row.ends_at is None:
        row.ends_at = row.starts_at  # no end given (Mobilizon may omit it): over once begun
    row.title = (obj.name or "")[:500] or None
    row.summary = sanitize_html(obj.summary or "")
    row.content_html = sanitize_html(first_text(document, "content") or "")
    row.source = _source(document)
    row.licence = licence.spdx if licence else _spdx(document.get("licence"))
    row.themes = _themes(document.get("themes"))
    row.url = obj.url
    row.document = dict(document)
    row.published = _date(obj.published)
    row.updated = updated
    row.deleted_at = None
    await session.flush()
    return row


async def remove(session: AsyncSession, actor_uri: str, uri: str, now: datetime) -> bool:
    row = (
        await session.execute(
            select(LibraryItem).where(LibraryItem.uri == uri, LibraryItem.actor_uri == actor_uri)
        )
    ).scalar_one_or_none()
    if row is None or row.deleted_at is not None:
        return False
    row.deleted_at = now
    row.content_html = None
    row.source = None
    row.summary = None
    row.document = {"id": uri, "type": "Tombstone"}
    return True


def followed_by(readers: Sequence[int]) -> Select[str]:
    """Ids of the members that one of `readers` (local organisations) follows: the
    library is stored once per install, but each organisation sees only its own."""
    return (
        select(RemoteActor.uri)
        .join(Following, Following.remote_actor_id == RemoteActor.id)
        .where(Following.local_actor_id.in_(list(readers)), Following.state == follows.ACCEPTED)
    )


async def items(
    session: AsyncSession,
    *,
    kind: str | None = None,
    actor_uri: str | None = None,
    readers: Sequence[int] | None = None,
    kinds: tuple[str, ...] = (),
    current_at: datetime | None = None,
) -> list[LibraryItem]:
    """Items not deleted; with `current_at`, without those whose time is over."""
    query = select(LibraryItem).where(LibraryItem.deleted_at.is_(None))
    if readers is not None:
        query = query.where(LibraryItem.actor_uri.in_(followed_by(readers)))
    if kind:
        query = query.where(LibraryItem.kind == kind)
    if kinds:
        query = query.where(LibraryItem.kind.in_(kinds))
    if current_at is not None:
        query = query.where(or_(LibraryItem.ends_at.is_(None), LibraryItem.ends_at > current_at))
    if actor_uri:
        query = query.where(LibraryItem.actor_uri == actor_uri)
    rows = await session.execute(query.order_by(LibraryItem.published.desc()))
    return list(rows.scalars())
