"""Backfill: when a member accepts our follow, read its outbox for what it already shared."""

from __future__ import annotations

import logging
from typing import Any

from federation.content import library
from federation.runtime import Runtime
from federation.transport.client import FetchError, Signer
from federation.vocab.normalize import ProtocolError, host_of, id_of, parse_collection

log = logging.getLogger(__name__)
MAX_PAGES = 10
MAX_ITEMS = 500


def _deleted_id(item: object) -> str | None:
    if isinstance(item, dict) and item.get("type") == "Delete":
        return id_of(item.get("object"))
    return None


async def _object_of(rt: Runtime, item: object, signer: Signer) -> dict[str, Any] | None:
    if not isinstance(item, dict) or item.get("type") not in ("Create", "Update"):
        return None
    obj = item.get("object")
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, str):
        try:
            return await rt.client.get_json(obj, signer=signer)
        except FetchError:
            return None
    return None


async def backfill(rt: Runtime, actor_uri: str, outbox_url: str, signer: Signer) -> int:
    """Store the library material of an outbox; returns how many items were stored."""
    if host_of(outbox_url) != host_of(actor_uri):
        return 0
    stored, seen, pages = 0, 0, 0
    # Outboxes list the newest first: a Delete seen before its Create wins.
    deleted: set[str] = set()
    try:
        collection = parse_collection(await rt.client.get_json(outbox_url, signer=signer))
        next_ref: object = collection.first
        items: list[object] = list(collection.items)
        while True:
            for item in items:
                seen += 1
                gone = _deleted_id(item)
                if gone is not None:
                    deleted.add(gone)
                    continue
                obj = await _object_of(rt, item, signer)
                if obj is None or id_of(obj.get("attributedTo")) not in (None, actor_uri):
                    continue
                if obj.get("id") in deleted:
                    continue
                if obj.get("id") and host_of(str(obj["id"])) != host_of(actor_uri):
                    continue
                async with rt.sessions.begin() as session:
                    if await library.store(session, actor_uri, obj, rt.clock.now()):
                        stored += 1
            if next_ref is None or pages >= MAX_PAGES or seen >= MAX_ITEMS:
                break
            page_doc = next_ref if isinstance(next_ref, dict) else None
            if page_doc is None:
                url = id_of(next_ref)
                if url is None or host_of(url) != host_of(actor_uri):
                    break
                page_doc = await rt.client.get_json(url, signer=signer)
            pages += 1
            page = parse_collection(page_doc)
            items, next_ref = list(page.items), page.next
    except (FetchError, ProtocolError) as err:
        log.info("backfill of %s stopped: %s", outbox_url, getattr(err, "reason", err))
    return stored
