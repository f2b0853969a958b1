"""Full-text search of the library: SQLite FTS5, or PostgreSQL full-text search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, column, func, not_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from federation.content import library
from federation.store.engine import dialect_name
from federation.store.models import LibraryItem

MAX_RESULTS = 200


@dataclass(frozen=True)
class Filters:
    query: str = ""
    kind: str | None = None
    theme: int | None = None
    licence: str | None = None
    member: str | None = None
    # Local organisations whose follows make the library seen (None: all of it).
    readers: tuple[int, ...] | None = None
    # When set, needs and offers that expired before it are left out.
    current_at: datetime | None = None


def _fts5_query(words: str) -> str:
    """User words as FTS5 phrases: quotes and operators in them are only text."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words.split())


async def search(session: AsyncSession, filters: Filters) -> list[LibraryItem]:
    query = select(LibraryItem).where(LibraryItem.deleted_at.is_(None))
    if filters.readers is not None:
        query = query.where(LibraryItem.actor_uri.in_(library.followed_by(filters.readers)))
    if filters.kind:
        query = query.where(LibraryItem.kind == filters.kind)
    if filters.member:
        query = query.where(LibraryItem.actor_uri == filters.member)
    if filters.current_at is not None:
        query = query.where(
            not_(
                and_(
                    LibraryItem.kind.in_(("need", "offer")),
                    LibraryItem.ends_at.is_not(None),
                    LibraryItem.ends_at <= filters.current_at,
                )
            )
        )
    if filters.licence:
        query = query.where(func.lower(LibraryItem.licence) == filters.licence.lower())
    words = filters.query.strip()
    if words and dialect_name(session) == "postgresql":
        document = func.to_tsvector(
            "french",
            func.coalesce(LibraryItem.title, "")
            + " "
            + func.coalesce(LibraryItem.summary, "")
            + " "
            + func.coalesce(LibraryItem.content_html, "")
            + " "
            + func.coalesce(LibraryItem.source, ""),
        )
        tsquery = func.plainto_tsquery("french", words)
        query = query.where(document.op("@@")(tsquery)).order_by(
            func.ts_rank(document, tsquery).desc()
        )
    elif words:
        matches = text("SELECT rowid FROM library_fts WHERE library_fts MATCH :q").bindparams(
            q=_fts5_query(words)
        )
        query = query.where(LibraryItem.id.in_(matches.columns(column("rowid", Integer))))
    query = query.order_by(LibraryItem.published.desc())
    if filters.theme is None:
        return list((await session.execute(query.limit(MAX_RESULTS))).scalars())
    # Themes are a JSON list: filter them here, before the limit, not after it.
    themed = (
        row for row in (await session.execute(query)).scalars() if filters.theme in row.themes
    )
    return [row for _, row in zip(range(MAX_RESULTS), themed, strict=False)]
