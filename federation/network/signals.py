"""Who is a member of the network, told from its own documents alone (no I/O).

A member is an actor whose document states a charter we ship (`charterVersion` and
`charterHash` equal to our copy's version and SHA-256), on a host whose NodeInfo names
the Déclics network and a charter we ship. Everything else here reads the member's
other documents (commitments, directory) tolerantly: a part that cannot be read is
left out, it never makes an actor a member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from federation import charter
from federation.content.commitments import PROGRESS
from federation.network import NETWORK_NAME
from federation.vocab.normalize import (
    Actor,
    NodeInfo,
    ProtocolError,
    as_list,
    check_http_uri,
    host_of,
    id_of,
)
from federation.vocab.sanitize import sanitize_html

MAX_SUMMARY = 5000
MAX_TERRITORY = 255


@dataclass(frozen=True)
class Progress:
    """A member's progress on one commitment of the charter."""

    number: int
    progress: str  # "to-start" | "in-progress" | "achieved"


@dataclass(frozen=True)
class MemberProfile:
    """What the directory shows of a member, read from its actor document."""

    uri: str
    actor_type: str
    name: str | None
    handle: str | None
    summary: str  # sanitized HTML
    icon_url: str | None
    url: str | None
    territory: str | None
    charter_version: str
    charter_hash: str  # hex SHA-256
    commitments_url: str | None
    following_url: str | None
    directory_url: str | None
    outbox_url: str | None


def _same_host(uri: str | None, host: str) -> str | None:
    """`uri` when it is an http(s) URI on `host`: a member speaks for itself only."""
    if not uri:
        return None
    try:
        return uri if host_of(uri) == host else None
    except ProtocolError:
        return None


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def member_profile(actor: Actor) -> MemberProfile | None:
    """The member an actor document describes, or None when it is not a member's."""
    signed = charter.adhesion_of(actor.raw)
    if signed is None:
        return None
    host = host_of(actor.id)
    raw = actor.raw
    netloc = urlsplit(actor.id).netloc.lower()
    return MemberProfile(
        uri=actor.id,
        actor_type=actor.type,
        name=_text(actor.name, 255),
        handle=f"{actor.preferred_username}@{netloc}" if actor.preferred_username else None,
        summary=sanitize_html(actor.summary[:MAX_SUMMARY]) if actor.summary else "",
        icon_url=actor.icon_url,
        url=actor.url,
        territory=_text(raw.get("territory"), MAX_TERRITORY),
        charter_version=signed.version,
        charter_hash=signed.sha256,
        commitments_url=_same_host(id_of(raw.get("commitmentStatements")), host),
        following_url=_same_host(actor.following, host),
        directory_url=_same_host(id_of(raw.get("directory")), host),
        outbox_url=_same_host(actor.outbox, host),
    )


def nodeinfo_is_declics(info: NodeInfo) -> bool:
    """True when a host's NodeInfo names our network and a charter we ship."""
    metadata = info.metadata
    if metadata.get("network") != NETWORK_NAME:
        return False
    stated = metadata.get("charter")
    if not isinstance(stated, Mapping):
        return False
    version, digest = stated.get("version"), stated.get("sha256")
    if not isinstance(version, str) or not isinstance(digest, str):
        return False
    try:
        return charter.load(version).sha256 == digest.removeprefix("sha256:")
    except KeyError:
        return False


def commitments_progress(document: Mapping[str, object], actor_uri: str) -> tuple[Progress, ...]:
    """Progress per commitment from a member's commitments Article.

    The Article must be the member's own (attributed to it, on its host) and of a
    charter we ship; unknown numbers and progress words are skipped.
    """
    if document.get("kind") != "commitments":
        return ()
    if id_of(document.get("attributedTo")) != actor_uri:
        return ()
    if _same_host(id_of(document.get("id")), host_of(actor_uri)) is None:
        return ()
    version = document.get("charterVersion")
    try:
        numbers = charter.load(version if isinstance(version, str) else "").numbers
    except KeyError:
        return ()
    found: dict[int, Progress] = {}
    for entry in as_list(document.get("commitments")):
        if not isinstance(entry, Mapping):
            continue
        number, progress = entry.get("number"), entry.get("progress")
        if isinstance(number, bool) or not isinstance(number, int) or number not in numbers:
            continue
        if isinstance(progress, str) and progress in PROGRESS:
            found.setdefault(number, Progress(number, progress))
    return tuple(found[n] for n in sorted(found))


def listed_ids(items: Iterable[object]) -> list[str]:
    """The http(s) actor ids a following or directory page lists, in order, once each."""
    seen: dict[str, None] = {}
    for item in items:
        ident = id_of(item)
        if not ident:
            continue
        try:
            seen.setdefault(check_http_uri(ident, "listed actor").split("#", 1)[0], None)
        except ProtocolError:
            continue
    return list(seen)


def self_reported_practices(items: Iterable[object], actor_uri: str) -> int | None:
    """The practice count a member's directory states for the member itself.

    A member is the authority on its own practices, so only its own entry counts.
    """
    for item in items:
        if isinstance(item, Mapping) and item.get("id") == actor_uri:
            count = item.get("practiceCount")
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                return count
            return None
    return None
