"""Hypothesis strategies and the settings profile the fuzz tests share.

Profiles: "default" keeps each property to a few seconds (the suite runs on shared
machines); `HYPOTHESIS_PROFILE=deep` runs ten times as many examples.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "default",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "deep",
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

URLS = st.sampled_from(
    [
        "https://a.example/users/alice",
        "https://a.example/notes/1",
        "http://127.0.0.1/x",
        "https://b.example/users/bob#main-key",
        "https://www.w3.org/ns/activitystreams#Public",
        "as:Public",
        "javascript:alert(1)",
        "https://user@a.example/",
        "https://a.example:99999/",
        "https://[::1/",
        "",
        "https://a.example/" + "x" * 2100,
    ]
)
TYPES = st.sampled_from(
    [
        "Follow", "Undo", "Accept", "Reject", "Create", "Update", "Delete", "Like",
        "Announce", "Note", "Article", "Person", "Organization", "Service",
        "OrderedCollection", "OrderedCollectionPage", "Collection", "Tombstone", "Block",
        "Multikey", "Link", "Mention", "Hashtag", "",
    ]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | URLS
    | TYPES
)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=24,
)
AS_KEYS = [
    "@context", "id", "type", "actor", "object", "target", "to", "cc", "bto", "bcc",
    "audience", "attributedTo", "inReplyTo", "content", "contentMap", "name", "summary",
    "url", "published", "updated", "tag", "attachment", "publicKey", "assertionMethod",
    "inbox", "outbox", "endpoints", "preferredUsername", "icon", "image", "first",
    "next", "items", "orderedItems", "totalItems", "partOf", "subject", "links", "rel",
    "href", "software", "version", "metadata", "protocols", "kind", "proof", "owner",
    "publicKeyPem", "publicKeyMultibase", "controller", "formerType", "licence", "themes",
]  # fmt: skip


def as2_value(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth == 0:
        return SCALARS
    return st.one_of(
        SCALARS,
        st.lists(st.one_of(SCALARS, as2_document(depth - 1)), max_size=3),
        as2_document(depth - 1),
    )


def as2_document(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Dictionaries with ActivityStreams keys and plausible or hostile values."""
    return st.dictionaries(st.sampled_from(AS_KEYS), as2_value(depth), max_size=10)


DOCUMENTS = st.one_of(as2_document(), JSON)


def toml_value(value: Any) -> str:
    """A TOML literal for a scalar or a list of scalars (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


TOML_SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["2023-09-14", "in-progress", "achieved", "CC-BY-SA-4.0", "France"])
)
TOML_VALUES = TOML_SCALARS | st.lists(TOML_SCALARS, max_size=4)
