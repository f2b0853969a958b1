"""What the directory shows: members in order, filters, vouchers, the AS2 collection.

The owner (the organisation whose directory it is) comes first, then members by name.
The AS2 collection at `<actor>/directory` lists the same entries, 20 per page, so any
web site can render the network; other members' crawlers read it too (for the owner's
practice count, and as a list of members to check for themselves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.store.models import DirectoryMember, DirectoryVouch
from federation.vocab import build, declics
from federation.vocab.build import WEBFINGER_CONTEXT

PAGE_SIZE = 20
_CHUNK = 500


@dataclass(frozen=True)
class Filters:
    commitment: int | None = None
    progress: str | None = None
    territory: str | None = None

    def matches(self, member: DirectoryMember) -> bool:
        if self.territory and (member.territory or "").casefold() != self.territory.casefold():
            return False
        stated = {c.get("number"): c.get("progress") for c in member.commitments}
        if self.commitment is not None:
            if self.commitment not in stated:
                return False
            return self.progress is None or stated[self.commitment] == self.progress
        return self.progress is None or self.progress in stated.values()


@dataclass(frozen=True)
class Voucher:
    uri: str
    name: str | None
    url: str | None


@dataclass(frozen=True)
class Entry:
    member: DirectoryMember
    vouchers: tuple[Voucher, ...]

    @property
    def stale(self) -> bool:
        return self.member.stale_since is not None

    @property
    def progress(self) -> dict[int, str]:
        return {int(c["number"]): str(c["progress"]) for c in self.member.commitments}


async def members(session: AsyncSession, owner_uri: str | None = None) -> list[DirectoryMember]:
    """Every member, the owner first, then by name."""
    rows = list((await session.execute(select(DirectoryMember))).scalars())
    rows.sort(key=lambda m: (m.uri != owner_uri, (m.name or m.handle or m.uri).casefold(), m.uri))
    return rows


def territories(rows: Sequence[DirectoryMember]) -> list[str]:
    return sorted({m.territory for m in rows if m.territory}, key=str.casefold)


async def entries(session: AsyncSession, rows: Sequence[DirectoryMember]) -> list[Entry]:
    """The members with the members that vouch for them (follow them), by name."""
    vouchers: dict[str, list[Voucher]] = {m.uri: [] for m in rows}
    uris = list(vouchers)
    for start in range(0, len(uris), _CHUNK):
        found = await session.execute(
            select(DirectoryVouch.member_uri, DirectoryMember)
            .join(DirectoryMember, DirectoryMember.id == DirectoryVouch.voucher_id)
            .where(DirectoryVouch.member_uri.in_(uris[start : start + _CHUNK]))
        )
        for member_uri, voucher in found.all():
            if voucher.uri != member_uri:
                vouchers[member_uri].append(Voucher(voucher.uri, voucher.name, voucher.url))
    return [
        Entry(
            m,
            tuple(sorted(vouchers[m.uri], key=lambda v: ((v.name or v.uri).casefold(), v.uri))),
        )
        for m in rows
    ]


def item(entry: Entry) -> dict[str, Any]:
    """One member as an AS2 object with our extension terms."""
    member = entry.member
    document: dict[str, Any] = {
        "id": member.uri,
        "type": member.actor_type,
        "name": member.name,
        "webfinger": member.handle,
        "summary": member.summary or None,
        "url": member.url,
        "icon": {"type": "Image", "url": member.icon_url} if member.icon_url else None,
        "territory": member.territory,
        "charterVersion": member.charter_version,
        "charterHash": f"sha256:{member.charter_hash}",
        "commitments": [
            {"number": c["number"], "progress": c["progress"]} for c in member.commitments
        ],
        "practiceCount": member.practices,
        # A day is precise enough, and keeps pages (and their ETags) stable between rounds.
        "lastSeen": member.last_seen_at.date().isoformat(),
        "vouchedBy": [v.uri for v in entry.vouchers],
    }
    if entry.stale:
        document["stale"] = True
    return {key: value for key, value in document.items() if value is not None}


def collection(collection_id: str, owner_uri: str, total: int) -> dict[str, Any]:
    last = max(1, -(-total // PAGE_SIZE))
    return {
        "@context": declics.context(),
        "id": collection_id,
        "type": "OrderedCollection",
        "attributedTo": owner_uri,
        "totalItems": total,
        "first": f"{collection_id}?page=1",
        "last": f"{collection_id}?page={last}",
    }


def page(
    collection_id: str, number: int, items: Sequence[dict[str, Any]], total: int
) -> dict[str, Any]:
    last = max(1, -(-total // PAGE_SIZE))
    document = build.ordered_page(
        f"{collection_id}?page={number}",
        collection_id,
        items,
        f"{collection_id}?page={number + 1}" if number < last else None,
        f"{collection_id}?page={number - 1}" if number > 1 else None,
        total,
    )
    document["@context"] = declics.context(WEBFINGER_CONTEXT)
    return document
