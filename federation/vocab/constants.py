"""ActivityStreams, security and discovery constants shared by the whole server."""

from __future__ import annotations

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Mastodon and others also accept the compacted and bare forms of the Public
# collection, so a reader must treat all three as "public".
PUBLIC_FORMS = frozenset({AS_PUBLIC, "as:Public", "Public"})

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"

AS_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_MEDIA_TYPE = "application/jrd+json"

ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})

COLLECTION_TYPES = frozenset(
    {"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"}
)

# Activity types we recognise as activities (AS2 core plus the extensions peers
# send: Misskey/Pleroma EmojiReact, Mastodon QuoteRequest/FeatureRequest).
# Question is deliberately absent: in practice it is a poll object, not an activity.
ACTIVITY_TYPES = frozenset(
    {
        "Accept",
        "Add",
        "Announce",
        "Arrive",
        "Block",
        "Create",
        "Delete",
        "Dislike",
        "EmojiReact",
        "FeatureRequest",
        "Flag",
        "Follow",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Like",
        "Listen",
        "Move",
        "Offer",
        "QuoteRequest",
        "Read",
        "Reject",
        "Remove",
        "TentativeAccept",
        "TentativeReject",
        "Travel",
        "Undo",
        "Update",
        "View",
    }
)

# Activities that are meaningless without an object; a document of one of these
# types lacking "object" is refused instead of half-processed.
OBJECT_REQUIRED_TYPES = frozenset(
    {
        "Accept",
        "Announce",
        "Block",
        "Create",
        "Delete",
        "EmojiReact",
        "Flag",
        "Follow",
        "Like",
        "Move",
        "Reject",
        "Undo",
        "Update",
    }
)

NODEINFO_20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_SCHEMA_PREFIX = "http://nodeinfo.diaspora.software/ns/schema/"
