"""What every fediverse request reads, kept a moment in memory: served documents as
bytes with their ETag, each domain's moved actors, and each organisation's blocks
(read on every inbox POST).

Actor documents and WebFinger answers are read far more often than they change, and
each used to cost two or three queries and a serialisation. The database stays the
authority:

- an entry lives `TTL` seconds at most, so a change made by another process (the
  command line, another `declics serve`) is seen within `TTL`;
- a commit of this process that wrote to a watched table (`local_actors`, whose rows
  make the documents and the moves; `object_versions`, the data policy whose storage
  country an actor document states; `blocks`) clears every cache at once, so this
  process sees its own writes immediately;
- each cache holds at most `SIZE` entries (least recently used go), whatever the
  requests: a WebFinger `resource` is chosen by the client. An organisation's
  entry in `blocks` holds its whole block list (what a fan-out reads too).

Only successful answers are kept; a 404 is asked again each time.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from federation.memo import Memo

TTL = 2.0
SIZE = 512
WATCHED = frozenset({"local_actors", "object_versions", "blocks"})
_TOUCHED = "declics_served_touched"


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str
    content_type: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, body: bytes, content_type: str, headers: dict[str, str]) -> Document:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return cls(body, etag, content_type, tuple(headers.items()))

    def response(self, request: web.Request) -> web.Response:
        headers = dict(self.headers)
        headers["ETag"] = self.etag
        if _matches(request.headers.get("If-None-Match"), self.etag):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=self.body, content_type=self.content_type, charset="utf-8", headers=headers
        )


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ is ignored."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = (tag.strip() for tag in header.split(","))
    return etag in (tag[2:] if tag.startswith("W/") else tag for tag in tags)


class ServedCache:
    def __init__(self, ttl: float = TTL, size: int = SIZE) -> None:
        # Keys: ("actor", domain, username) and ("jrd", domain, resource).
        self.documents: Memo[tuple[str, str, str], Document] = Memo(ttl, size)
        # Domain → its moved local actors (an empty tuple: nobody moved).
        self.moved: Memo[str, tuple[Any, ...]] = Memo(ttl, size)
        # Organisation id → its blocks, as `actors.trust.matcher` builds them.
        self.blocks: Memo[int, Callable[[str], bool]] = Memo(ttl, size)
        _LIVE.add(self)

    def clear(self) -> None:
        self.documents.clear()
        self.moved.clear()
        self.blocks.clear()


# Every cache of this process (tests run several instances in one process): a write by
# any of them clears them all, which is merely conservative.
_LIVE: weakref.WeakSet[ServedCache] = weakref.WeakSet()


def clear_all() -> None:
    for cache in list(_LIVE):
        cache.clear()


def _table_name(entity: object) -> str | None:
    table = getattr(entity, "__table__", None)
    return getattr(table, "name", None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _table_name(obj) in WATCHED:
            session.info[_TOUCHED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED:
        state.session.info[_TOUCHED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_TOUCHED, False):
        clear_all()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
