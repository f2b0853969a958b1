"""Edge cases of federation.vocab.normalize (real payloads: test_fixtures_table.py)."""

from __future__ import annotations

import pytest

from federation import keypairs
from federation.vocab import normalize as n
from federation.vocab.constants import AS_PUBLIC, NODEINFO_20, NODEINFO_21

ACTOR = "https://a.example/users/alice"
RSA_PEM = keypairs.public_to_pem(keypairs.public_of(keypairs.generate_rsa()))
ED_MULTIBASE = keypairs.public_to_multibase(keypairs.public_of(keypairs.generate_ed25519()))


def actor_doc(**extra: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": ACTOR,
        "type": "Person",
        "preferredUsername": "alice",
        "inbox": ACTOR + "/inbox",
        "publicKey": {
            "id": ACTOR + "#main-key",
            "owner": ACTOR,
            "publicKeyPem": RSA_PEM,
        },
    }
    doc.update(extra)
    return doc


def activity_doc(**extra: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": ACTOR + "#likes/557",
        "type": "Like",
        "actor": ACTOR,
        "object": "https://b.example/notes/1",
    }
    doc.update(extra)
    return doc


def refusal(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(n.ProtocolError) as caught:
        call(*args)
    assert caught.value.reason
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


# --- small helpers --------------------------------------------------------


def test_as_list() -> None:
    assert n.as_list(None) == []
    assert n.as_list(["a"]) == ["a"]
    assert n.as_list("a") == ["a"]
    assert n.as_list({"id": "x"}) == [{"id": "x"}]


def test_id_of() -> None:
    assert n.id_of("https://x/1") == "https://x/1"
    assert n.id_of({"id": "https://x/1", "type": "Note"}) == "https://x/1"
    assert n.id_of([{"id": "https://x/1"}, "https://x/2"]) == "https://x/1"
    assert n.id_of({"id": 3}) is None
    assert n.id_of([]) is None
    assert n.id_of(42) is None
    assert n.id_of(None) is None


def test_ids_of_keeps_order_and_drops_duplicates() -> None:
    value = [
        "https://x/1",
        {"id": "https://x/2"},
        "https://x/1",
        7,
        {"type": "Note"},
        "",
    ]
    assert n.ids_of(value) == ("https://x/1", "https://x/2")
    assert n.ids_of("https://x/1") == ("https://x/1",)
    assert n.ids_of(None) == ()


@pytest.mark.parametrize(
    "address", [AS_PUBLIC, "as:Public", "Public"], ids=["full", "compact", "bare"]
)
def test_public_forms(address: str) -> None:
    assert n.is_public(address)
    activity = n.parse_activity(activity_doc(to=address, cc=[address, ACTOR]))
    # Folded onto the full IRI, so callers test one spelling only.
    assert activity.to == (AS_PUBLIC,)
    assert activity.cc == (AS_PUBLIC, ACTOR)


def test_not_public() -> None:
    assert not n.is_public("https://www.w3.org/ns/activitystreams#public")
    assert not n.is_public(ACTOR + "/followers")


def test_types_of() -> None:
    assert n.types_of({"type": "Note"}) == ("Note",)
    assert n.types_of({"type": ["as:Note", "Note", "toot:Thing", 3]}) == (
        "Note",
        "toot:Thing",
    )
    assert n.types_of({"type": "https://www.w3.org/ns/activitystreams#Person"}) == ("Person",)
    assert n.types_of({}) == ()


def test_first_text_falls_back_to_language_maps() -> None:
    doc = {
        "contentMap": {"fr": "<p>bonjour</p>", "en": "<p>hello</p>"},
        "name": None,
        "nameMap": {"en": "Title"},
        "summary": "",
        "summaryMap": {"en": "cw"},
        "updated": 3,
    }
    assert n.first_text(doc, "content") == "<p>bonjour</p>"
    assert n.first_text(doc, "name") == "Title"
    assert n.first_text(doc, "summary") == "cw"
    assert n.first_text({"content": "x", "contentMap": {"en": "y"}}, "content") == "x"
    assert n.first_text({"summary": ""}, "summary") == ""
    assert n.first_text(doc, "updated") is None


# --- URIs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://a.example/users/alice",
        "http://localhost:8080/users/zork",
        "https://a.example/users/alice#likes/557",
        "https://first_domain/users/first",
        "HTTPS://A.example/x",
    ],
)
def test_check_http_uri_accepts(uri: str) -> None:
    assert n.check_http_uri(uri, "id") == uri


@pytest.mark.parametrize(
    "value",
    [
        "ftp://x",
        "/users/alice",
        "https://",
        "https:///path",
        "acct:alice@a.example",
        "https://a.example/" + "x" * 2048,
        "https://a.example/a b",
        "https://a.example\n.evil/x",
        "https://a.example/\t",
        "https://good.example@evil.example/",
        "https://a.example:99999/",
        "https://a.example:port/",
        "",
        None,
        3,
        ["https://a.example/"],
    ],
)
def test_check_http_uri_refuses(value: object) -> None:
    assert refusal(n.check_http_uri, value, "actor id") == ("actor id is not an http(s) URI")


def test_host_of() -> None:
    assert n.host_of("https://A.Example:8443/users/x") == "a.example"
    assert n.host_of("https://a.example./x") == "a.example"
    assert n.host_of("https://bücher.example/x") == "xn--bcher-kva.example"
    assert n.host_of("http://[::1]:8080/x") == "::1"
    refusal(n.host_of, "ftp://a.example/x")
    refusal(n.host_of, "a.example")


# --- actors ---------------------------------------------------------------


def test_parse_actor_minimal() -> None:
    actor = n.parse_actor(actor_doc())
    assert actor.id == ACTOR
    assert actor.type == "Person"
    assert actor.preferred_username == "alice"
    assert actor.inbox == ACTOR + "/inbox"
    assert actor.outbox is None
    assert actor.shared_inbox is None
    assert actor.manually_approves_followers is False
    assert actor.discoverable is False
    assert actor.keys == (n.ActorKey(id=ACTOR + "#main-key", owner=ACTOR, pem=RSA_PEM),)
    assert actor.multikeys == ()
    assert actor.raw["preferredUsername"] == "alice"


def test_actor_type_array_picks_first_actor_type() -> None:
    actor = n.parse_actor(actor_doc(type=["Thing", "Service", "Person"]))
    assert actor.type == "Service"
    assert actor.types == ("Thing", "Service", "Person")


def test_actor_without_handle_is_kept() -> None:
    doc = actor_doc()
    del doc["preferredUsername"]
    actor = n.parse_actor(doc)
    assert actor.preferred_username is None
    assert actor.webfinger is None


def test_actor_webfinger_property() -> None:
    assert n.parse_actor(actor_doc(webfinger="acct:org@coop.example")).webfinger == (
        "org@coop.example"
    )
    assert n.parse_actor(actor_doc(webfinger=["x"])).webfinger is None


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "actor is not a JSON object"),
        ("https://a.example/users/alice", "actor is not a JSON object"),
        ({"type": "Person", "inbox": ACTOR + "/inbox"}, "actor has no id"),
        (actor_doc(id="ftp://a.example/alice"), "actor id is not an http(s) URI"),
        (actor_doc(type="Note"), "actor type is not one of"),
        (actor_doc(type=None), "actor type is not one of"),
        (actor_doc(inbox=None), "actor has no inbox"),
        (actor_doc(inbox="mailto:x@y"), "actor inbox is not an http(s) URI"),
    ],
)
def test_parse_actor_refusals(doc: object, reason: str) -> None:
    assert reason in refusal(n.parse_actor, doc)


def test_shared_inbox_endpoints_then_legacy() -> None:
    endpoints = {"sharedInbox": "https://a.example/inbox"}
    assert n.parse_actor(actor_doc(endpoints=endpoints)).shared_inbox == ("https://a.example/inbox")
    legacy = actor_doc(sharedInbox="https://a.example/shared")
    assert n.parse_actor(legacy).shared_inbox == "https://a.example/shared"
    both = actor_doc(endpoints=endpoints, sharedInbox="https://a.example/shared")
    assert n.parse_actor(both).shared_inbox == "https://a.example/inbox"
    bad = actor_doc(endpoints={"sharedInbox": "not a uri"})
    assert n.parse_actor(bad).shared_inbox is None


def test_key_owner_mismatch_is_dropped() -> None:
    keys = [
        {
            "id": ACTOR + "#main-key",
            "owner": "https://a.example/users/bob",
            "publicKeyPem": RSA_PEM,
        },
        {"id": ACTOR + "#other", "publicKeyPem": RSA_PEM},
        {"id": ACTOR + "#second", "owner": ACTOR, "publicKeyPem": RSA_PEM},
    ]
    actor = n.parse_actor(actor_doc(publicKey=keys))
    assert [key.id for key in actor.keys] == [ACTOR + "#second"]


def test_malformed_pem_is_dropped_but_actor_parses() -> None:
    broken = RSA_PEM.replace("\n", "\n ", 3)[:-60] + "\n-----END PUBLIC KEY-----\n"
    key = {"id": ACTOR + "#main-key", "owner": ACTOR, "publicKeyPem": broken}
    assert n.parse_actor(actor_doc(publicKey=key)).keys == ()
    garbage = {"id": ACTOR + "#main-key", "owner": ACTOR, "publicKeyPem": "hello"}
    assert n.parse_actor(actor_doc(publicKey=garbage)).keys == ()
    assert n.parse_actor(actor_doc(publicKey=None)).keys == ()


def test_space_joined_pem_is_kept() -> None:
    body = RSA_PEM.strip().replace("\n", " ")
    key = {"id": ACTOR + "#main-key", "owner": ACTOR, "publicKeyPem": body}
    assert n.parse_actor(actor_doc(publicKey=key)).keys[0].pem == body


def test_key_on_another_host_is_dropped() -> None:
    key = {
        "id": "https://b.example/users/bob#main-key",
        "owner": ACTOR,
        "publicKeyPem": RSA_PEM,
    }
    assert n.parse_actor(actor_doc(publicKey=key)).keys == ()


def test_multikeys() -> None:
    methods = [
        ACTOR + "#by-reference",
        {
            "id": ACTOR + "#ed",
            "type": "Multikey",
            "controller": ACTOR,
            "publicKeyMultibase": ED_MULTIBASE,
        },
        {
            "id": ACTOR + "#theirs",
            "type": "Multikey",
            "controller": "https://b.example/x",
            "publicKeyMultibase": ED_MULTIBASE,
        },
        {
            "id": ACTOR + "#bad",
            "type": "Multikey",
            "controller": ACTOR,
            "publicKeyMultibase": "zzz",
        },
        {
            "id": ACTOR + "#notkey",
            "type": "Other",
            "controller": ACTOR,
            "publicKeyMultibase": ED_MULTIBASE,
        },
    ]
    actor = n.parse_actor(actor_doc(assertionMethod=methods))
    assert actor.multikeys == (
        n.ActorMultikey(id=ACTOR + "#ed", controller=ACTOR, multibase=ED_MULTIBASE),
    )


def test_actor_links_and_images() -> None:
    actor = n.parse_actor(
        actor_doc(
            url=[
                {
                    "type": "Link",
                    "mediaType": "application/json",
                    "href": "https://a.example/x.json",
                },
                {
                    "type": "Link",
                    "mimeType": "text/html",
                    "href": "https://a.example/@alice",
                },
            ],
            icon="https://a.example/avatar.png",
            image=[
                {"type": "Image", "url": {"href": "https://a.example/header.png"}},
                {"type": "Image", "url": "https://a.example/other.png"},
            ],
            outbox={"id": "https://a.example/outbox", "type": "OrderedCollection"},
            followers=["https://a.example/followers"],
            featured=12,
            alsoKnownAs=["https://old.example/users/alice", "acct:x@y"],
            movedTo={"id": "https://new.example/users/alice"},
            manuallyApprovesFollowers=True,
            discoverable="yes",
            summaryMap={"en": "<p>bio</p>"},
        )
    )
    assert actor.url == "https://a.example/@alice"
    # A bare string icon is an object reference, not an image URL.
    assert actor.icon_url is None
    assert actor.image_url == "https://a.example/header.png"
    assert actor.outbox == "https://a.example/outbox"
    assert actor.followers == "https://a.example/followers"
    assert actor.featured is None
    assert actor.also_known_as == ("https://old.example/users/alice",)
    assert actor.moved_to == "https://new.example/users/alice"
    assert actor.manually_approves_followers is True
    assert actor.discoverable is False
    assert actor.summary == "<p>bio</p>"


def test_actor_url_falls_back_to_non_html_link() -> None:
    link = {
        "type": "Link",
        "mediaType": "application/json",
        "href": "https://a.example/x",
    }
    assert n.parse_actor(actor_doc(url=[link, "ftp://nope"])).url == "https://a.example/x"


# --- activities -----------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "activity is not a JSON object"),
        ("str", "activity is not a JSON object"),
        (None, "activity is not a JSON object"),
        ({"type": "Create"}, "activity has no id"),
        ({"id": ACTOR + "/1", "actor": ACTOR, "object": "x"}, "activity has no type"),
        (activity_doc(id="ftp://x"), "activity id is not an http(s) URI"),
        (activity_doc(id=17), "activity id is not an http(s) URI"),
        (activity_doc(actor=None), "activity has no actor"),
        (activity_doc(actor={"type": "Person"}), "activity has no actor"),
        (
            activity_doc(actor="acct:alice@a.example"),
            "activity actor is not an http(s) URI",
        ),
        (activity_doc(type="Create", object=None), "Create has no object"),
        (activity_doc(type="Follow", object=[]), "Follow has no object"),
        (activity_doc(type="Undo", object=""), "Undo has no object"),
        (activity_doc(type=["Thing", "Flag"], object={}), "Flag has no object"),
    ],
)
def test_parse_activity_refusals(doc: object, reason: str) -> None:
    assert refusal(n.parse_activity, doc) == reason


def test_create_without_object_refused_even_when_key_missing() -> None:
    doc = activity_doc(type="Create")
    del doc["object"]
    assert refusal(n.parse_activity, doc) == "Create has no object"


def test_activity_types_without_required_object() -> None:
    doc = activity_doc(type="Add")
    del doc["object"]
    activity = n.parse_activity(doc)
    assert activity.object_id is None
    assert activity.object is None
    assert activity.object_ids == ()


def test_activity_with_object_id() -> None:
    activity = n.parse_activity(activity_doc())
    assert activity.id == ACTOR + "#likes/557"
    assert activity.type == "Like"
    assert activity.object_id == "https://b.example/notes/1"
    assert activity.object is None
    assert activity.object_ids == ("https://b.example/notes/1",)
    assert activity.to == activity.cc == activity.audience == ()
    assert activity.target is None
    assert activity.published is None


def test_activity_with_embedded_object_and_actor() -> None:
    note = {"id": "https://a.example/notes/1", "type": "Note", "content": "hi"}
    activity = n.parse_activity(
        activity_doc(
            type=["as:Create"],
            actor=[{"id": ACTOR, "type": "Person"}, "https://c.example/x"],
            object=note,
            to="https://b.example/users/bob",
            audience={"id": "https://g.example/c/main", "type": "Group"},
            target={"id": "https://a.example/collections/featured"},
            published="2026-01-01T00:00:00Z",
            signature={"type": "RsaSignature2017", "signatureValue": "x"},
            proof={"type": "DataIntegrityProof"},
        )
    )
    assert activity.type == "Create"
    assert activity.types == ("Create",)
    assert activity.actor == ACTOR
    assert activity.object == note
    assert activity.object_id == "https://a.example/notes/1"
    assert activity.to == ("https://b.example/users/bob",)
    assert activity.audience == ("https://g.example/c/main",)
    assert activity.target == "https://a.example/collections/featured"
    assert activity.published == "2026-01-01T00:00:00Z"
    assert "signature" in activity.raw
    assert "proof" in activity.raw
    assert "@context" not in activity.raw


def test_flag_object_array() -> None:
    objects = [ACTOR, {"id": "https://a.example/notes/1"}, ACTOR]
    activity = n.parse_activity(activity_doc(type="Flag", object=objects))
    assert activity.object_id == ACTOR
    assert activity.object is None
    assert activity.object_ids == (ACTOR, "https://a.example/notes/1")


# --- objects --------------------------------------------------------------


def test_parse_object() -> None:
    note = n.parse_object(
        {
            "id": "https://a.example/notes/1",
            "type": ["Note"],
            "attributedTo": [
                {"type": "Group", "id": "https://a.example/c/chan"},
                {"type": "Person", "id": ACTOR},
            ],
            "contentMap": {"en": "<p>hi</p>"},
            "inReplyTo": {"id": "https://b.example/notes/0"},
            "url": "https://a.example/@alice/1",
            "to": "as:Public",
            "cc": [ACTOR + "/followers"],
            "sensitive": True,
            "tag": [{"type": "Mention", "href": ACTOR}, "junk", None],
            "updated": "2026-01-02T00:00:00Z",
        }
    )
    assert note.type == "Note"
    assert note.attributed_to == ACTOR
    assert note.content == "<p>hi</p>"
    assert note.in_reply_to == "https://b.example/notes/0"
    assert note.url == "https://a.example/@alice/1"
    assert note.to == (AS_PUBLIC,)
    assert note.cc == (ACTOR + "/followers",)
    assert note.sensitive is True
    assert note.tags == ({"type": "Mention", "href": ACTOR},)
    assert note.updated == "2026-01-02T00:00:00Z"
    assert note.published is None


def test_object_attribution_list_without_person() -> None:
    doc = {
        "id": "https://a.example/n",
        "type": "Note",
        "attributedTo": ["https://a.example/g"],
    }
    assert n.parse_object(doc).attributed_to == "https://a.example/g"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "object is not a JSON object"),
        ({"type": "Note"}, "object has no id"),
        ({"id": "https://a.example/n"}, "object has no type"),
        ({"id": "urn:uuid:1", "type": "Note"}, "object id is not an http(s) URI"),
    ],
)
def test_parse_object_refusals(doc: object, reason: str) -> None:
    assert refusal(n.parse_object, doc) == reason


# --- WebFinger, collections, NodeInfo ---------------------------------------


def test_webfinger_self_link_selection() -> None:
    jrd = n.parse_webfinger(
        {
            "subject": "acct:alice@a.example",
            "aliases": ["https://a.example/@alice", 3],
            "links": [
                {
                    "rel": "self",
                    "type": "text/html",
                    "href": "https://a.example/@alice",
                },
                {"rel": "self", "href": "https://a.example/untyped"},
                {"rel": "self", "type": "application/activity+json", "href": "ftp://x"},
                {
                    "rel": "self",
                    "type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                    "href": ACTOR,
                },
                {
                    "rel": "self",
                    "type": "application/activity+json",
                    "href": ACTOR + "2",
                },
            ],
        }
    )
    assert jrd.subject == "acct:alice@a.example"
    assert jrd.aliases == ("https://a.example/@alice",)
    assert jrd.self_href == ACTOR


def test_webfinger_without_usable_self_link() -> None:
    jrd = n.parse_webfinger({"subject": "acct:a@b", "links": "nope"})
    assert jrd.self_href is None
    ld_without_profile = {"rel": "self", "type": "application/ld+json", "href": ACTOR}
    assert (
        n.parse_webfinger({"subject": "acct:a@b", "links": [ld_without_profile]}).self_href is None
    )


@pytest.mark.parametrize("doc", [{"links": []}, {"subject": "", "links": []}, {"subject": 1}, []])
def test_webfinger_refusals(doc: object) -> None:
    assert "WebFinger response" in refusal(n.parse_webfinger, doc)


def test_parse_collection() -> None:
    page = n.parse_collection(
        {
            "type": "CollectionPage",
            "id": "https://a.example/c?page=1",
            "items": ["https://a.example/1", {"id": "https://a.example/2"}],
            "next": {"id": "https://a.example/c?page=2"},
            "totalItems": True,
        }
    )
    assert page.type == "CollectionPage"
    assert page.items == ("https://a.example/1", {"id": "https://a.example/2"})
    assert page.next == "https://a.example/c?page=2"
    assert page.total_items is None
    embedded_first = {"type": "OrderedCollectionPage", "orderedItems": []}
    coll = n.parse_collection(
        {"type": "OrderedCollection", "totalItems": 0, "first": embedded_first}
    )
    assert coll.id is None
    assert coll.total_items == 0
    assert coll.first == embedded_first
    assert coll.items == ()
    assert refusal(n.parse_collection, {"type": "Note"}) == "document is not a collection"


def test_nodeinfo_links() -> None:
    links = n.parse_nodeinfo_links(
        {
            "links": [
                {
                    "rel": "https://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": "https://a.example/ni/2.1",
                },
                {"rel": NODEINFO_20, "href": "https://a.example/ni/2.0"},
                {"rel": "http://example.org/other", "href": "https://a.example/x"},
                {"rel": NODEINFO_20, "href": "https://a.example/dupe"},
            ]
        }
    )
    assert links == {
        NODEINFO_21: "https://a.example/ni/2.1",
        NODEINFO_20: "https://a.example/ni/2.0",
    }
    assert "no NodeInfo schema" in refusal(n.parse_nodeinfo_links, {"links": []})


def test_nodeinfo() -> None:
    info = n.parse_nodeinfo(
        {
            "version": "1.0",
            "software": {"name": " Diaspora ", "version": 1},
            "protocols": {
                "inbound": ["activitypub"],
                "outbound": ["ActivityPub", "diaspora"],
            },
        }
    )
    assert info.software_name == "diaspora"
    assert info.software_version is None
    assert info.protocols == ("activitypub", "diaspora")
    assert info.metadata == {}
    assert "no version" in refusal(n.parse_nodeinfo, {"software": {"name": "x"}})
    assert "no software name" in refusal(n.parse_nodeinfo, {"version": "2.0"})


# --- shape ----------------------------------------------------------------


def test_json_depth_basics() -> None:
    assert n.json_depth("x") == 0
    assert n.json_depth([]) == 1
    assert n.json_depth({}) == 1
    assert n.json_depth({"a": [1, {"b": []}], "c": 2}) == 4


def test_json_depth_of_deep_nesting_has_no_recursion_error() -> None:
    deep: list[object] = []
    for _ in range(10_000):
        deep = [deep]
    assert n.json_depth(deep) == 10_001


def test_json_depth_terminates_on_cycles() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert n.json_depth(loop) == 1


def test_classify() -> None:
    assert n.classify(actor_doc()) == "actor"
    assert n.classify(activity_doc()) == "activity:Like"
    assert n.classify({"id": "https://a.example/n", "type": "Question"}) == "object:Question"
    assert n.classify({"subject": "acct:a@b", "links": []}) == "webfinger"
    assert n.classify({"type": "OrderedCollection"}) == "collection"
    assert refusal(n.classify, []) == "document is not a JSON object"
    assert refusal(n.classify, {"id": ACTOR}) == "document has no type"
    assert refusal(n.classify, activity_doc(type="Create", object=None)) == ("Create has no object")


def test_protocol_error_is_a_value_error() -> None:
    err = n.ProtocolError("activity has no id")
    assert isinstance(err, ValueError)
    assert err.reason == "activity has no id"
