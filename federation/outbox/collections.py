"""Outbox, followers and following as paged OrderedCollections."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows, local
from federation.store.models import LocalActor, OutboxActivity
from federation.vocab import build

PAGE_SIZE = 20


def _page_links(collection_id: str, page: int, total: int) -> tuple[str | None, str | None]:
    last = max(1, -(-total // PAGE_SIZE))
    next_page = f"{collection_id}?page={page + 1}" if page < last else None
    prev_page = f"{collection_id}?page={page - 1}" if page > 1 else None
    return next_page, prev_page


def _collection(collection_id: str, total: int) -> dict[str, Any]:
    return build.ordered_collection(collection_id, total, f"{collection_id}?page=1")


async def outbox(session: AsyncSession, actor: LocalActor, page: int | None) -> dict[str, Any]:
    collection_id = local.urls_of(actor).outbox
    condition = (OutboxActivity.local_actor_id == actor.id) & OutboxActivity.public
    total = int((await session.execute(select(func.count()).where(condition))).scalar_one())
    if page is None:
        return _collection(collection_id, total)
    rows = await session.execute(
        select(OutboxActivity.body)
        .where(condition)
        .order_by(OutboxActivity.created_at.desc(), OutboxActivity.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    items = []
    for (body,) in rows.all():
        item = json.loads(body)
        item.pop("@context", None)
        items.append(item)
    next_page, prev_page = _page_links(collection_id, page, total)
    return build.ordered_page(
        f"{collection_id}?page={page}",
        collection_id,
        items,
        next_page,
        prev_page,
        total,
    )


async def _actor_list(
    collection_id: str,
    total: int,
    page: int | None,
    page_of: Callable[[int, int], Awaitable[list[str]]],
) -> dict[str, Any]:
    """A collection of actor ids, or one page of it read with `page_of(offset, limit)`."""
    if page is None:
        return _collection(collection_id, total)
    uris = await page_of((page - 1) * PAGE_SIZE, PAGE_SIZE)
    next_page, prev_page = _page_links(collection_id, page, total)
    return build.ordered_page(
        f"{collection_id}?page={page}", collection_id, uris, next_page, prev_page, total
    )


async def followers(session: AsyncSession, actor: LocalActor, page: int | None) -> dict[str, Any]:
    async def page_of(offset: int, limit: int) -> list[str]:
        rows = await follows.followers(session, actor.id, offset=offset, limit=limit)
        return [remote.uri for _row, remote in rows]

    total = await follows.count_followers(session, actor.id)
    return await _actor_list(local.urls_of(actor).followers, total, page, page_of)


async def following(session: AsyncSession, actor: LocalActor, page: int | None) -> dict[str, Any]:
    async def page_of(offset: int, limit: int) -> list[str]:
        rows = await follows.followings(session, actor.id, offset=offset, limit=limit)
        return [remote.uri for _row, remote in rows]

    total = await follows.count_followings(session, actor.id)
    return await _actor_list(local.urls_of(actor).following, total, page, page_of)
