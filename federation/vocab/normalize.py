"""Tolerant, side-effect-free readers of untrusted ActivityPub documents.

Everything here takes parsed JSON (``object``) from another server and either
returns a small frozen view of it or raises :class:`ProtocolError` with a short
reason fit for a 400 body. Peers disagree on shapes (``to`` as a string, ``type``
as an array, embedded objects or bare ids, ``contentMap`` without ``content``,
PEMs with mangled newlines, no ``@context`` at all), so readers accept every
shape seen in the wild and refuse only what cannot be used safely.

No JSON-LD expansion is done: Mastodon and the others read compacted AS2 keys
directly, and several published contexts are not resolvable anyway.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Final, TypeAlias
from urllib.parse import urlsplit

from federation import keypairs
from federation.vocab.constants import (
    ACTIVITY_TYPES,
    ACTOR_TYPES,
    AS_CONTEXT,
    AS_MEDIA_TYPE,
    AS_PUBLIC,
    COLLECTION_TYPES,
    NODEINFO_SCHEMA_PREFIX,
    OBJECT_REQUIRED_TYPES,
    PUBLIC_FORMS,
)

__all__ = [
    "Activity",
    "Actor",
    "ActorKey",
    "ActorMultikey",
    "Collection",
    "JSONObject",
    "Jrd",
    "NodeInfo",
    "Object",
    "ProtocolError",
    "as_list",
    "check_http_uri",
    "classify",
    "first_text",
    "host_of",
    "id_of",
    "ids_of",
    "is_public",
    "json_depth",
    "parse_activity",
    "parse_actor",
    "parse_collection",
    "parse_nodeinfo",
    "parse_nodeinfo_links",
    "parse_object",
    "parse_webfinger",
    "types_of",
]

JSONObject: TypeAlias = Mapping[str, object]

MAX_URI_LENGTH: Final = 2048
# Mastodon keeps at most 10 keys of each kind; parsing more (4096-bit RSA PEMs)
# would only let a hostile actor document burn CPU.
MAX_KEYS: Final = 10

_AS_PREFIXES: Final = ("as:", AS_CONTEXT + "#")
# Some servers advertise NodeInfo schema rels with https; callers look rels up by
# the canonical http form, so both are folded onto it.
_NODEINFO_HTTPS_PREFIX: Final = "https://nodeinfo.diaspora.software/ns/schema/"


class ProtocolError(ValueError):
    """An untrusted document was refused.

    ``reason`` is a short human sentence; it goes into a 400 response body.
    """

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------
# Small value helpers


def as_list(value: object) -> list[object]:
    """``value`` as a list: None gives [], a list itself, anything else [value]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _mapping(value: object) -> Mapping[str, object] | None:
    """Narrow a JSON value to an object (JSON object keys are always strings)."""
    if isinstance(value, Mapping):
        return value
    return None


def id_of(value: object) -> str | None:
    """The id a reference names: a string, an object's "id", a list's first one."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        ident = value.get("id")
        return ident if isinstance(ident, str) else None
    if isinstance(value, list):
        return id_of(value[0]) if value else None
    return None


def ids_of(value: object) -> tuple[str, ...]:
    """Every id in a string, object or list value, in order, without duplicates."""
    seen: dict[str, None] = {}
    for item in as_list(value):
        ident = item if isinstance(item, str) else id_of(_mapping(item))
        if ident:
            seen.setdefault(ident, None)
    return tuple(seen)


def _addresses(value: object) -> tuple[str, ...]:
    """Addressing ids with the Public collection folded onto its full IRI.

    Consumers then only need ``AS_PUBLIC in activity.to``.
    """
    folded: dict[str, None] = {}
    for ident in ids_of(value):
        folded.setdefault(AS_PUBLIC if ident in PUBLIC_FORMS else ident, None)
    return tuple(folded)


def is_public(address: str) -> bool:
    """True if ``address`` names the Public collection in any accepted spelling."""
    return address in PUBLIC_FORMS


def types_of(doc: Mapping[str, object]) -> tuple[str, ...]:
    """The document's types ("type" as a string or list), without "as:" prefixes."""
    found: dict[str, None] = {}
    for item in as_list(doc.get("type")):
        if not isinstance(item, str):
            continue
        for prefix in _AS_PREFIXES:
            if item.startswith(prefix):
                item = item[len(prefix) :]
                break
        if item:
            found.setdefault(item, None)
    return tuple(found)


def first_text(doc: Mapping[str, object], key: str) -> str | None:
    """A text property, else the first value of its language map (``<key>Map``).

    Some Mastodon payloads carry only ``contentMap``; an empty ``content`` next
    to a filled map also yields the map's text.
    """
    value = doc.get(key)
    if isinstance(value, str) and value:
        return value
    language_map = _mapping(doc.get(key + "Map"))
    if language_map is not None:
        for text in language_map.values():
            if isinstance(text, str):
                return text
    return value if isinstance(value, str) else None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# \s is str.isspace() (both are Py_UNICODE_ISSPACE), with the C0 controls and DEL.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def check_http_uri(value: object, what: str) -> str:
    """Return ``value`` if it is an absolute http(s) URI of at most 2048 characters.

    Refused as well: whitespace or control characters (urlsplit would silently
    drop tabs and newlines, so the id compared later would differ from the one
    checked), user-info (``https://good@evil/`` tricks humans) and bad ports.
    """
    if not isinstance(value, str) or _uri_host(value) is None:
        raise ProtocolError(f"{what} is not an http(s) URI")
    return value


def host_of(uri: object) -> str:
    """Lower-case host name of an http(s) URI, without port; IDNs in ASCII form."""
    hostname = _uri_host(uri) if isinstance(uri, str) else None
    if hostname is None:
        raise ProtocolError("URI is not an http(s) URI")
    if not hostname.isascii():
        try:
            hostname = hostname.encode("idna").decode("ascii")
        except UnicodeError as err:
            raise ProtocolError("URI host is not a valid domain name") from err
    if not hostname:
        raise ProtocolError("URI is not an http(s) URI")
    return hostname


# An inbound activity names the same few URIs many times (its actor, ids, the key):
# the verdicts of the last ones are kept. Bounded: at most 1,024 URIs of at most
# 2,048 characters.
@lru_cache(maxsize=1024)
def _uri_host(value: str) -> str | None:
    """The lower-case host of a usable http(s) URI, without a trailing dot (maybe
    empty, maybe not yet in ASCII form); None if the URI is refused."""
    if not value or len(value) > MAX_URI_LENGTH or _SPACE_OR_CONTROL.search(value):
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname or "@" in parts.netloc:
        return None
    # A trailing dot names the same host; stripping it keeps same-host checks honest.
    return hostname.rstrip(".").lower()


def _http_or_none(value: object) -> str | None:
    """The id of an optional reference if it is a usable http(s) URI, else None."""
    ident = id_of(value)
    if ident is None:
        return None
    try:
        return check_http_uri(ident, "reference")
    except ProtocolError:
        return None


def _media_type(link: Mapping[str, object]) -> str | None:
    raw = link.get("mediaType", link.get("mimeType"))
    if not isinstance(raw, str):
        return None
    return raw.split(";", 1)[0].strip().lower()


def _pick_url(value: object) -> str | None:
    """First usable http(s) URL of a "url" value: string, Link, or list of them.

    Strings and text/html Links win (a PeerTube video lists the watch page next
    to mp4, torrent and magnet Links); other Links are a last resort.
    """
    fallback: str | None = None
    for item in as_list(value):
        if isinstance(item, str):
            url = _http_or_none(item)
            if url is not None:
                return url
            continue
        link = _mapping(item)
        if link is None:
            continue
        url = _http_or_none(link.get("href"))
        if url is None:
            continue
        # A Link without a media type is as good as a plain string.
        if _media_type(link) in (None, "text/html"):
            return url
        if fallback is None:
            fallback = url
    return fallback


def _image_url(value: object) -> str | None:
    """URL of an icon/image: an Image object (or list of them, first wins).

    A bare string is an object reference, not an image URL (Mastodon fetches it
    as JSON), so it yields nothing here.
    """
    for item in as_list(value):
        image = _mapping(item)
        if image is None:
            continue
        url = _pick_url(image.get("url"))
        if url is None:
            url = _http_or_none(image.get("href"))
        if url is not None:
            return url
    return None


def _require_mapping(doc: object, what: str) -> Mapping[str, object]:
    mapping = _mapping(doc)
    if mapping is None:
        raise ProtocolError(f"{what} is not a JSON object")
    return mapping


def _require_id(doc: Mapping[str, object], what: str) -> str:
    ident = doc.get("id")
    if ident is None or ident == "":
        raise ProtocolError(f"{what} has no id")
    return check_http_uri(ident, f"{what} id")


# ---------------------------------------------------------------------------
# Actors


@dataclasses.dataclass(frozen=True)
class ActorKey:
    """A publicKey entry (PEM, usually RSA) that the actor claims as its own."""

    id: str
    owner: str
    pem: str


@dataclasses.dataclass(frozen=True)
class ActorMultikey:
    """An assertionMethod Multikey (FEP-521a) controlled by the actor."""

    id: str
    controller: str
    multibase: str


@dataclasses.dataclass(frozen=True)
class Actor:
    """The parts of an actor document the server relies on."""

    id: str
    types: tuple[str, ...]
    type: str
    preferred_username: str | None
    name: str | None
    summary: str | None
    inbox: str
    outbox: str | None
    shared_inbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    url: str | None
    icon_url: str | None
    image_url: str | None
    manually_approves_followers: bool
    discoverable: bool
    keys: tuple[ActorKey, ...]
    multikeys: tuple[ActorMultikey, ...]
    also_known_as: tuple[str, ...]
    moved_to: str | None
    webfinger: str | None
    raw: Mapping[str, object] = dataclasses.field(repr=False, compare=False)


def _same_host(uri: str, host: str) -> bool:
    try:
        return host_of(uri) == host
    except ProtocolError:
        return False


def _actor_keys(doc: Mapping[str, object], actor_id: str) -> tuple[ActorKey, ...]:
    """Usable PEM keys: owned by the actor, on its host, and parseable.

    Anything else is dropped silently rather than refusing the actor: an Update
    with a broken key must still update the profile. A key id on another host
    is dropped because key stores index by key id, and a foreign actor must not
    be able to shadow someone else's key id.
    """
    host = host_of(actor_id)
    keys: dict[str, ActorKey] = {}
    for item in as_list(doc.get("publicKey"))[: MAX_KEYS * 2]:
        entry = _mapping(item)
        if entry is None:
            continue
        key_id, owner, pem = (
            entry.get("id"),
            entry.get("owner"),
            entry.get("publicKeyPem"),
        )
        if owner != actor_id or not isinstance(key_id, str) or not isinstance(pem, str):
            continue
        if key_id in keys or not _same_host(key_id, host):
            continue
        try:
            keypairs.public_from_pem(pem)
        except keypairs.KeyFormatError:
            continue
        keys[key_id] = ActorKey(id=key_id, owner=actor_id, pem=pem)
        if len(keys) >= MAX_KEYS:
            break
    return tuple(keys.values())


def _actor_multikeys(doc: Mapping[str, object], actor_id: str) -> tuple[ActorMultikey, ...]:
    """FEP-521a Multikeys from assertionMethod, same rules as for PEM keys."""
    host = host_of(actor_id)
    keys: dict[str, ActorMultikey] = {}
    for item in as_list(doc.get("assertionMethod"))[: MAX_KEYS * 2]:
        entry = _mapping(item)
        # String entries are references to keys published elsewhere; resolving
        # them is the fetcher's job, not a pure reader's.
        if entry is None or "Multikey" not in types_of(entry):
            continue
        key_id = entry.get("id")
        controller = entry.get("controller")
        multibase = entry.get("publicKeyMultibase")
        if controller != actor_id or not isinstance(key_id, str):
            continue
        if not isinstance(multibase, str):
            continue
        if key_id in keys or not _same_host(key_id, host):
            continue
        try:
            keypairs.public_from_multibase(multibase)
        except (keypairs.KeyFormatError, ValueError):
            continue
        keys[key_id] = ActorMultikey(id=key_id, controller=actor_id, multibase=multibase)
        if len(keys) >= MAX_KEYS:
            break
    return tuple(keys.values())


def _webfinger_handle(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.removeprefix("acct:")


def parse_actor(doc: object) -> Actor:
    """Read an actor document; refuse it if it has no usable id, actor type or inbox.

    A missing preferredUsername/webfinger is tolerated (Lemmy instance actors);
    the caller decides whether a handle is needed. The "webfinger" property
    (FEP-2c59) is returned without an "acct:" prefix.
    """
    mapping = _require_mapping(doc, "actor")
    actor_id = _require_id(mapping, "actor")
    types = types_of(mapping)
    actor_type = next((t for t in types if t in ACTOR_TYPES), None)
    if actor_type is None:
        raise ProtocolError("actor type is not one of " + ", ".join(sorted(ACTOR_TYPES)))
    inbox_ref = id_of(mapping.get("inbox"))
    if not inbox_ref:
        raise ProtocolError("actor has no inbox")
    inbox = check_http_uri(inbox_ref, "actor inbox")
    endpoints = _mapping(mapping.get("endpoints")) or {}
    shared_inbox = _http_or_none(endpoints.get("sharedInbox")) or _http_or_none(
        mapping.get("sharedInbox")
    )
    username = mapping.get("preferredUsername")
    return Actor(
        id=actor_id,
        types=types,
        type=actor_type,
        preferred_username=username if isinstance(username, str) and username else None,
        name=first_text(mapping, "name"),
        summary=first_text(mapping, "summary"),
        inbox=inbox,
        outbox=_http_or_none(mapping.get("outbox")),
        shared_inbox=shared_inbox,
        followers=_http_or_none(mapping.get("followers")),
        following=_http_or_none(mapping.get("following")),
        featured=_http_or_none(mapping.get("featured")),
        url=_pick_url(mapping.get("url")),
        icon_url=_image_url(mapping.get("icon")),
        image_url=_image_url(mapping.get("image")),
        manually_approves_followers=mapping.get("manuallyApprovesFollowers") is True,
        discoverable=mapping.get("discoverable") is True,
        keys=_actor_keys(mapping, actor_id),
        multikeys=_actor_multikeys(mapping, actor_id),
        also_known_as=tuple(
            uri for uri in ids_of(mapping.get("alsoKnownAs")) if _http_or_none(uri) is not None
        ),
        moved_to=_http_or_none(mapping.get("movedTo")),
        webfinger=_webfinger_handle(mapping.get("webfinger")),
        raw=mapping,
    )


# ---------------------------------------------------------------------------
# Activities


@dataclasses.dataclass(frozen=True)
class Activity:
    """An activity envelope; the object is left for the handler of its type."""

    id: str
    type: str
    types: tuple[str, ...]
    actor: str
    object_id: str | None
    # Annotated through an alias: inside this class body the name "object"
    # is the field, no longer the builtin.
    object: JSONObject | None
    object_ids: tuple[str, ...]
    target: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    audience: tuple[str, ...]
    published: str | None
    raw: JSONObject = dataclasses.field(repr=False, compare=False)


def _has_object(value: object) -> bool:
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, Mapping | list):
        return bool(value)
    return False


def parse_activity(doc: object) -> Activity:
    """Read an activity; refuse it without type, http(s) id, actor or needed object.

    Fragment ids (``https://h/users/a#likes/557``) are fine. A missing
    ``@context`` is accepted (Lemmy), and LD ``signature``/``proof`` blocks stay
    in ``raw`` uninterpreted. ``to``/``cc``/``audience`` accept a string or a
    list, with the Public collection folded onto its full IRI.
    """
    mapping = _require_mapping(doc, "activity")
    types = types_of(mapping)
    if not types:
        raise ProtocolError("activity has no type")
    activity_type = types[0]
    activity_id = _require_id(mapping, "activity")
    actor_ref = id_of(mapping.get("actor"))
    if not actor_ref:
        raise ProtocolError("activity has no actor")
    actor = check_http_uri(actor_ref, "activity actor")
    raw_object = mapping.get("object")
    if not _has_object(raw_object):
        needy = next((t for t in types if t in OBJECT_REQUIRED_TYPES), None)
        if needy is not None:
            raise ProtocolError(f"{needy} has no object")
    return Activity(
        id=activity_id,
        type=activity_type,
        types=types,
        actor=actor,
        object_id=id_of(raw_object) or None,
        object=_mapping(raw_object),
        object_ids=ids_of(raw_object),
        target=id_of(mapping.get("target")) or None,
        to=_addresses(mapping.get("to")),
        cc=_addresses(mapping.get("cc")),
        audience=_addresses(mapping.get("audience")),
        published=_optional_str(mapping.get("published")),
        raw=mapping,
    )


# ---------------------------------------------------------------------------
# Content objects


@dataclasses.dataclass(frozen=True)
class Object:
    """A content object: Note, Article, Page, Question, Video, Event, Tombstone, ..."""

    id: str
    type: str
    types: tuple[str, ...]
    attributed_to: str | None
    content: str | None
    media_type: str | None
    summary: str | None
    name: str | None
    in_reply_to: str | None
    url: str | None
    published: str | None
    updated: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    sensitive: bool
    tags: tuple[Mapping[str, object], ...]
    raw: Mapping[str, object] = dataclasses.field(repr=False, compare=False)


def _attributed_to(value: object) -> str | None:
    """Author id; in a list prefer the first Person.

    PeerTube attributes a video to [Person account, Group channel]: the Person
    is the author, the channel is where it was published.
    """
    if isinstance(value, list):
        for item in value:
            entry = _mapping(item)
            if entry is not None and "Person" in types_of(entry):
                ident = id_of(entry)
                if ident:
                    return ident
        ids = ids_of(value)
        return ids[0] if ids else None
    return id_of(value) or None


def parse_object(doc: object) -> Object:
    """Read a content object; refuse it without an http(s) id or a type."""
    mapping = _require_mapping(doc, "object")
    object_id = _require_id(mapping, "object")
    types = types_of(mapping)
    if not types:
        raise ProtocolError("object has no type")
    return Object(
        id=object_id,
        type=types[0],
        types=types,
        attributed_to=_attributed_to(mapping.get("attributedTo")),
        content=first_text(mapping, "content"),
        media_type=_optional_str(mapping.get("mediaType")),
        summary=first_text(mapping, "summary"),
        name=first_text(mapping, "name"),
        in_reply_to=id_of(mapping.get("inReplyTo")) or None,
        url=_pick_url(mapping.get("url")),
        published=_optional_str(mapping.get("published")),
        updated=_optional_str(mapping.get("updated")),
        to=_addresses(mapping.get("to")),
        cc=_addresses(mapping.get("cc")),
        sensitive=mapping.get("sensitive") is True,
        tags=tuple(tag for tag in (_mapping(item) for item in as_list(mapping.get("tag"))) if tag),
        raw=mapping,
    )


# ---------------------------------------------------------------------------
# WebFinger


@dataclasses.dataclass(frozen=True)
class Jrd:
    """A WebFinger answer: its subject, aliases and the ActivityPub self link."""

    subject: str
    aliases: tuple[str, ...]
    self_href: str | None


def _is_activitypub_media_type(value: object) -> bool:
    """application/activity+json, or application/ld+json with the AS2 profile."""
    if not isinstance(value, str):
        return False
    base, _, params = value.partition(";")
    base = base.strip().lower()
    if base == AS_MEDIA_TYPE:
        return True
    return base == "application/ld+json" and AS_CONTEXT in params


def parse_webfinger(doc: object) -> Jrd:
    """Read a JRD; the first rel=self link with an ActivityPub media type wins.

    Mastodon publishes text/html and application/json self links too, which
    must be skipped, as must links without a type (Mastodon ignores them).
    """
    mapping = _require_mapping(doc, "WebFinger response")
    subject = mapping.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise ProtocolError("WebFinger response has no subject")
    aliases = tuple(alias for alias in as_list(mapping.get("aliases")) if isinstance(alias, str))
    self_href: str | None = None
    links = mapping.get("links")
    for item in links if isinstance(links, list) else []:
        link = _mapping(item)
        if link is None or link.get("rel") != "self":
            continue
        if not _is_activitypub_media_type(link.get("type")):
            continue
        self_href = _http_or_none(link.get("href"))
        if self_href is not None:
            break
    return Jrd(subject=subject, aliases=aliases, self_href=self_href)


# ---------------------------------------------------------------------------
# Collections


@dataclasses.dataclass(frozen=True)
class Collection:
    """An (Ordered)Collection or one of its pages; items as given (ids or objects)."""

    id: str | None
    type: str
    total_items: int | None
    first: str | Mapping[str, object] | None
    next: str | None
    items: tuple[object, ...]


def parse_collection(doc: object) -> Collection:
    """Read a Collection, OrderedCollection or one of their pages."""
    mapping = _require_mapping(doc, "collection")
    collection_type = next((t for t in types_of(mapping) if t in COLLECTION_TYPES), None)
    if collection_type is None:
        raise ProtocolError("document is not a collection")
    total = mapping.get("totalItems")
    # bool is an int subclass; Mastodon also requires a real JSON number here.
    total_items = total if isinstance(total, int) and not isinstance(total, bool) else None
    if total_items is not None and total_items < 0:
        total_items = None
    first_raw = mapping.get("first")
    first: str | Mapping[str, object] | None = (
        first_raw if isinstance(first_raw, str) else _mapping(first_raw)
    )
    raw_items = mapping["orderedItems"] if "orderedItems" in mapping else mapping.get("items")
    raw_id = mapping.get("id")
    return Collection(
        id=raw_id if isinstance(raw_id, str) and raw_id else None,
        type=collection_type,
        total_items=total_items,
        first=first,
        next=id_of(mapping.get("next")) or None,
        items=tuple(as_list(raw_items)),
    )


# ---------------------------------------------------------------------------
# NodeInfo


def _nodeinfo_links(mapping: Mapping[str, object]) -> dict[str, str]:
    found: dict[str, str] = {}
    links = mapping.get("links")
    for item in links if isinstance(links, list) else []:
        link = _mapping(item)
        if link is None:
            continue
        rel = link.get("rel")
        if not isinstance(rel, str):
            continue
        if rel.startswith(_NODEINFO_HTTPS_PREFIX):
            rel = NODEINFO_SCHEMA_PREFIX + rel[len(_NODEINFO_HTTPS_PREFIX) :]
        if not rel.startswith(NODEINFO_SCHEMA_PREFIX):
            continue
        href = _http_or_none(link.get("href"))
        if href is not None:
            found.setdefault(rel, href)
    return found


def parse_nodeinfo_links(doc: object) -> dict[str, str]:
    """Read /.well-known/nodeinfo: {schema rel -> href}, rels in their http:// form.

    Refused when no NodeInfo schema link is usable, so callers get a reason.
    """
    mapping = _require_mapping(doc, "NodeInfo discovery document")
    found = _nodeinfo_links(mapping)
    if not found:
        raise ProtocolError("NodeInfo discovery document lists no NodeInfo schema")
    return found


@dataclasses.dataclass(frozen=True)
class NodeInfo:
    """What a NodeInfo document says about the software behind a host."""

    version: str
    software_name: str
    software_version: str | None
    protocols: tuple[str, ...]
    metadata: Mapping[str, object]


def parse_nodeinfo(doc: object) -> NodeInfo:
    """Read a NodeInfo 1.x/2.x document; refuse it without version or software name."""
    mapping = _require_mapping(doc, "NodeInfo document")
    version = mapping.get("version")
    if not isinstance(version, str) or not version:
        raise ProtocolError("NodeInfo document has no version")
    software = _mapping(mapping.get("software")) or {}
    name = software.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProtocolError("NodeInfo document has no software name")
    raw_protocols = mapping.get("protocols")
    protocol_items: Iterable[object]
    protocols_map = _mapping(raw_protocols)
    if protocols_map is not None:
        # NodeInfo 1.x splits protocols into inbound/outbound lists.
        protocol_items = [
            *as_list(protocols_map.get("inbound")),
            *as_list(protocols_map.get("outbound")),
        ]
    else:
        protocol_items = as_list(raw_protocols)
    protocols = tuple(
        dict.fromkeys(p.strip().lower() for p in protocol_items if isinstance(p, str))
    )
    return NodeInfo(
        version=version,
        software_name=name.strip().lower(),
        software_version=_optional_str(software.get("version")),
        protocols=protocols,
        metadata=_mapping(mapping.get("metadata")) or {},
    )


# ---------------------------------------------------------------------------
# Shape


def json_depth(value: object) -> int:
    """Maximum nesting depth of objects/arrays (a scalar is 0, ``[]`` is 1).

    Iterative, so a hostile 100 000-deep document cannot exhaust the stack.
    Containers already visited are skipped, which keeps a cyclic Python
    structure from looping forever (parsed JSON never has cycles).
    """
    deepest = 0
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        children: Iterable[object]
        if isinstance(current, Mapping):
            children = current.values()
        elif isinstance(current, list | tuple):
            children = current
        else:
            deepest = max(deepest, depth)
            continue
        if id(current) in seen:
            continue
        seen.add(id(current))
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def classify(doc: object) -> str:
    """Name what a document is, after parsing it with the matching reader.

    Returns "webfinger", "nodeinfo-links", "nodeinfo", "actor", "collection",
    "activity:<Type>" or "object:<Type>"; raises ProtocolError for what the
    matching reader refuses.
    """
    mapping = _require_mapping(doc, "document")
    if "subject" in mapping and "links" in mapping:
        parse_webfinger(mapping)
        return "webfinger"
    if "links" in mapping and "type" not in mapping and _nodeinfo_links(mapping):
        parse_nodeinfo_links(mapping)
        return "nodeinfo-links"
    if "software" in mapping and "protocols" in mapping:
        parse_nodeinfo(mapping)
        return "nodeinfo"
    types = types_of(mapping)
    if not types:
        raise ProtocolError("document has no type")
    if any(t in ACTOR_TYPES for t in types):
        parse_actor(mapping)
        return "actor"
    if any(t in COLLECTION_TYPES for t in types):
        parse_collection(mapping)
        return "collection"
    if any(t in ACTIVITY_TYPES for t in types):
        return "activity:" + parse_activity(mapping).type
    return "object:" + parse_object(mapping).type
