"""Builders of the documents we publish: actors, notes, activities, collections.

Pure functions over plain data. They produce dicts; `serialize.to_json_bytes` turns
them into the bytes that are stored, signed and delivered.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from federation.vocab import declics
from federation.vocab.constants import AS_CONTEXT, AS_PUBLIC, SECURITY_CONTEXT

MULTIKEY_CONTEXT_URL = "https://w3id.org/security/multikey/v1"
WEBFINGER_CONTEXT = "https://purl.archive.org/socialweb/webfinger"

# Terms Mastodon reads that have no resolvable context document ("toot:" is a
# fake namespace), so they must be defined inline.
ACTOR_TERMS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}
# The terms of an account move, as Mastodon defines them (ids, not strings).
MOVE_TERMS: dict[str, Any] = {
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
}
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    MULTIKEY_CONTEXT_URL,
    WEBFINGER_CONTEXT,
    ACTOR_TERMS,
]
OBJECT_CONTEXT: list[Any] = [AS_CONTEXT, {"sensitive": "as:sensitive"}]


def iso(moment: datetime) -> str:
    """AS2 dates: UTC, second precision, 'Z' suffix (what Mastodon emits)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ActorUrls:
    """Every URL of a local actor, derived from its base URL and username."""

    base_url: str
    username: str
    application: bool = False
    # Key rotation numbers the key ids, so that one id always names one key.
    key_generation: int = 0

    def key_ids(self, generation: int) -> tuple[str, str]:
        """(RSA key id, Ed25519 key id) of a key generation."""
        suffix = f"-{generation}" if generation else ""
        return f"{self.id}#main-key{suffix}", f"{self.id}#ed25519-key{suffix}"

    @property
    def id(self) -> str:
        if self.application:
            return f"{self.base_url}/actor"
        return f"{self.base_url}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return self.key_ids(self.key_generation)[0]

    @property
    def ed25519_key_id(self) -> str:
        return self.key_ids(self.key_generation)[1]

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.id}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.id}/followers"

    @property
    def following(self) -> str:
        return f"{self.id}/following"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    @property
    def profile(self) -> str:
        if self.application:
            return self.id
        return f"{self.base_url}/@{self.username}"


@dataclass(frozen=True)
class ActorProfile:
    urls: ActorUrls
    actor_type: str
    name: str
    summary_html: str
    handle: str  # user@host, for FEP-2c59 "webfinger"
    rsa_public_pem: str
    ed25519_multibase: str
    manually_approves_followers: bool
    published: datetime
    icon_url: str | None = None
    image_url: str | None = None
    fields: Sequence[tuple[str, str]] = ()
    # Extension terms (charter adhesion…), defined by vocab.declics.TERMS.
    extension: Mapping[str, Any] | None = None
    # Portability: former ids, the new id after a move, and the next keys published
    # beside the current ones during a key rotation (RSA PEM, Ed25519 multibase).
    also_known_as: Sequence[str] = ()
    moved_to: str | None = None
    next_keys: tuple[str, str] | None = None


def _image(url: str) -> dict[str, Any]:
    return {"type": "Image", "url": url}


def actor_document(profile: ActorProfile) -> dict[str, Any]:
    urls = profile.urls
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": urls.id,
        "type": profile.actor_type,
        "preferredUsername": urls.username,
        "webfinger": profile.handle,
        "name": profile.name,
        "summary": profile.summary_html,
        "url": urls.profile,
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "publicKey": {
            "id": urls.key_id,
            "owner": urls.id,
            "publicKeyPem": profile.rsa_public_pem,
        },
        "assertionMethod": [
            {
                "id": urls.ed25519_key_id,
                "type": "Multikey",
                "controller": urls.id,
                "publicKeyMultibase": profile.ed25519_multibase,
            }
        ],
        "manuallyApprovesFollowers": profile.manually_approves_followers,
        "discoverable": True,
        "indexable": True,
        # Mastodon shows the day an account joined; it emits midnight too.
        "published": iso(profile.published.replace(hour=0, minute=0, second=0)),
        "attachment": [
            {"type": "PropertyValue", "name": name, "value": value}
            for name, value in profile.fields
        ],
    }
    if profile.next_keys is not None:
        _add_next_keys(doc, profile)
    if profile.extension:
        doc["@context"] = [*ACTOR_CONTEXT, declics.TERMS]
        doc.update(profile.extension)
    if profile.also_known_as or profile.moved_to:
        doc["@context"] = [*doc["@context"], MOVE_TERMS]
    if profile.also_known_as:
        doc["alsoKnownAs"] = list(profile.also_known_as)
    if profile.moved_to:
        doc["movedTo"] = profile.moved_to
    if profile.icon_url:
        doc["icon"] = _image(profile.icon_url)
    if profile.image_url:
        doc["image"] = _image(profile.image_url)
    return doc


def _add_next_keys(doc: dict[str, Any], profile: ActorProfile) -> None:
    """List the next keys after the current ones: peers that read only the first
    `publicKey` (Mastodon before 4.6) keep the key that signs until the switch."""
    assert profile.next_keys is not None  # noqa: S101 - checked by the caller
    urls = profile.urls
    rsa_id, ed_id = urls.key_ids(urls.key_generation + 1)
    rsa_pem, ed_multibase = profile.next_keys
    doc["publicKey"] = [
        doc["publicKey"],
        {"id": rsa_id, "owner": urls.id, "publicKeyPem": rsa_pem},
    ]
    doc["assertionMethod"].append(
        {
            "id": ed_id,
            "type": "Multikey",
            "controller": urls.id,
            "publicKeyMultibase": ed_multibase,
        }
    )


_URL_RE = re.compile(r"https?://[^\s<>\"']+")


def text_to_html(text: str) -> str:
    """Plain text to the small HTML Mastodon expects: paragraphs, line breaks, links."""

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        # Sentence punctuation after a URL belongs to the sentence, not the link.
        trimmed = url.rstrip(".,;:!?)")
        return f'<a href="{trimmed}" rel="nofollow noopener">{trimmed}</a>{url[len(trimmed) :]}'

    def linkify(escaped: str) -> str:
        return _URL_RE.sub(link, escaped)

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(linkify(html.escape(line)) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )


def public_audience(urls: ActorUrls) -> dict[str, list[str]]:
    return {"to": [AS_PUBLIC], "cc": [urls.followers]}


def note(
    urls: ActorUrls,
    object_id: str,
    content_html: str,
    published: datetime,
    *,
    language: str = "fr",
    in_reply_to: str | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": OBJECT_CONTEXT,
        "id": object_id,
        "type": "Note",
        "attributedTo": urls.id,
        "content": content_html,
        "contentMap": {language: content_html},
        "published": iso(published),
        "url": object_id,
        "sensitive": False,
        **public_audience(urls),
    }
    if in_reply_to:
        doc["inReplyTo"] = in_reply_to
    return doc


def activity(
    activity_type: str,
    activity_id: str,
    actor_id: str,
    obj: Any,
    *,
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    published: datetime | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": activity_type,
        "actor": actor_id,
        "object": _strip_context(obj),
    }
    if to:
        doc["to"] = list(to)
    if cc:
        doc["cc"] = list(cc)
    if published is not None:
        doc["published"] = iso(published)
    return doc


def _strip_context(obj: Any) -> Any:
    # A signed object keeps its @context: its integrity proof covers it.
    if isinstance(obj, Mapping) and "@context" in obj and "proof" not in obj:
        return {k: v for k, v in obj.items() if k != "@context"}
    return obj


def with_object_context(doc: dict[str, Any], obj: Mapping[str, Any]) -> dict[str, Any]:
    """Give an activity the context of the object it embeds (e.g. `sensitive`)."""
    context = obj.get("@context")
    if context is not None:
        doc["@context"] = context
    return doc


def tombstone(object_id: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": object_id,
        "type": "Tombstone",
        # formerType is a link in the AS2 context: a bare "Note" would be read as a
        # relative IRI, so name the type by its full IRI.
        "formerType": f"https://www.w3.org/ns/activitystreams#{former_type}",
        "deleted": iso(deleted),
    }


def ordered_collection(collection_id: str, total: int, first: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    return doc


def ordered_page(
    page_id: str,
    collection_id: str,
    items: Sequence[Any],
    next_page: str | None,
    prev_page: str | None,
    total: int,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        # Items lose their own @context inside the page: the page defines our terms.
        "@context": declics.context(),
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": list(items),
    }
    if next_page:
        doc["next"] = next_page
    if prev_page:
        doc["prev"] = prev_page
    return doc
