"""Every real fediverse payload in shared/fixtures/fediverse, read by federation.vocab.

Each fixture is classified and a few facts the server relies on are checked.
The table must list every file of the folder, so a new fixture cannot be
silently ignored. An entry of kind "refused" expects a ProtocolError whose
reason contains facts["reason"].
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

import pytest

from federation.vocab import normalize as n
from federation.vocab.constants import AS_PUBLIC
from tests.support.fixtures import fediverse_fixtures

FIXTURES = fediverse_fixtures()
if not FIXTURES.is_dir():
    pytest.skip(
        f"fediverse fixtures not found at {FIXTURES} "
        "(set DECLICS_FIXTURES_DIR to the shared/fixtures folder)",
        allow_module_level=True,
    )

NOT_FIXTURES = frozenset({"manifest.tsv"})


class Expect(NamedTuple):
    kind: str
    facts: dict[str, object]


MASTO = "http://mastodon.example.org/users/admin"
LAIN = "http://localtesting.pleroma.lol/users/lain"
PLEROMA_OBJECT = "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454"
MASTO_STATUS = MASTO + "/statuses/99512778738411822"
MENTION_LAIN = (
    '<p><span class="h-card"><a href="http://localtesting.pleroma.lol/users/lain" '
    'class="u-url mention">@<span>lain</span></a></span></p>'
)
ZORK = "http://localhost:8080/users/the_mighty_zork"
ACADEMY = "https://activitypub.academy/users/brauca_darradiul"
LEMMY = "https://enterprise.lemmy.ml"
TENFORWARD = LEMMY + "/c/tenforward"
TILVIDS = "https://tilvids.com/video-channels/thelinuxexperiment_channel"
WEDISTRIBUTE = "https://wedistribute.org/wp-json/pterotype/v1/actor/-blog"
FEDIFY = "https://e875a03fc2a35b.lhr.life/users/me"
PLEROMA_ACTOR = "https://queer.hacktivis.me/users/lanodan"
MISSKEY_ACTOR = "https://misskey.io/users/83ssedkv53"
OWNCAST = "https://owncast.example.org/federation/user/rgh"
MOBILIZON_GROUP = "https://mobilizon.fr/@contribateliers"
FRAMATUBE_VIDEO = "https://framatube.org/videos/watch/6050732a-8a7a-43d4-a6cd-809525a1d206"
FOSS_SATAN = "http://fossbros-anonymous.io/users/foss_satan"
PEERTUBE_ICON = "https://tilvids.com/lazy-static/avatars/1bbe97f1-d283-4db4-8bdd-e5320564aff9.jpg"

EXPECTED: dict[str, Expect] = {
    # --- actors -----------------------------------------------------------
    "actor-person_mastodon.json": Expect(
        "actor",
        {
            "id": ACADEMY,
            "type": "Person",
            "preferred_username": "brauca_darradiul",
            "inbox": ACADEMY + "/inbox",
            "shared_inbox": "https://activitypub.academy/inbox",
            "featured": ACADEMY + "/collections/featured",
            "url": "https://activitypub.academy/@brauca_darradiul",
            # PEM lines joined by spaces: still a usable key.
            "key_ids": (ACADEMY + "#main-key",),
            "discoverable": False,
            "summary": "",
            "icon_url": None,
        },
    ),
    "actor-application_lemmy-instance.json": Expect(
        "actor",
        {
            "id": LEMMY + "/",
            "type": "Application",
            "preferred_username": "enterprise.lemmy.ml",
            "name": "Enterprise",
            "inbox": LEMMY + "/inbox",
            "outbox": LEMMY + "/outbox",
            "shared_inbox": None,
            "followers": None,
            "key_ids": (LEMMY + "/#main-key",),
        },
    ),
    "actor-application_activityrelay.json": Expect(
        "actor",
        {
            "id": "https://relay.mastodon.host/actor",
            "type": "Application",
            "inbox": "https://relay.mastodon.host/inbox",
            "shared_inbox": "https://relay.mastodon.host/inbox",
            "outbox": None,
            "url": "https://relay.mastodon.host/actor",
            "key_ids": ("https://relay.mastodon.host/actor#main-key",),
        },
    ),
    "actor-service_owncast.json": Expect(
        "actor",
        {
            "id": OWNCAST,
            "type": "Service",
            "preferred_username": "rgh",
            "inbox": OWNCAST + "/inbox",
            "shared_inbox": None,
            "url": OWNCAST,
            "icon_url": "https://owncast.example.org/logo/external",
            "discoverable": True,
            "key_ids": (OWNCAST + "#main-key",),
        },
    ),
    "actor-person_pleroma.json": Expect(
        "actor",
        {
            "id": PLEROMA_ACTOR,
            "type": "Person",
            "name": "Haelwenn /элвэн/ :bzh: ",
            "shared_inbox": "https://queer.hacktivis.me/inbox",
            "featured": PLEROMA_ACTOR + "/collections/featured",
            "also_known_as": (),
            "key_ids": (PLEROMA_ACTOR + "#main-key",),
        },
    ),
    "actor-person_misskey.json": Expect(
        "actor",
        {
            "id": MISSKEY_ACTOR,
            "preferred_username": "aimu",
            "name": "あいむ",
            "shared_inbox": "https://misskey.io/inbox",
            "url": "https://misskey.io/@aimu",
            "icon_url": "https://s3.arkjp.net/misskey/"
            "webpublic-3f7e93c0-34f5-443c-acc0-f415cb2342b4.jpg",
            "key_ids": (MISSKEY_ACTOR + "#main-key",),
        },
    ),
    "actor-person_gotosocial.json": Expect(
        "actor",
        {
            "id": ZORK,
            "inbox": ZORK + "/inbox",
            "shared_inbox": None,
            "featured": ZORK + "/collections/featured",
            "discoverable": True,
            # GoToSocial key ids are a path, not a fragment.
            "key_ids": (ZORK + "/main-key",),
        },
    ),
    "actor-group_lemmy-community.json": Expect(
        "actor",
        {
            "id": TENFORWARD,
            "type": "Group",
            "inbox": TENFORWARD + "/inbox",
            "shared_inbox": LEMMY + "/inbox",
            "following": None,
            "featured": TENFORWARD + "//featured",
            "url": None,
            "icon_url": LEMMY + "/pictrs/image/waqyZwLAy4.webp",
            "image_url": LEMMY + "/pictrs/image/Wt8zoMcCmE.jpg",
            "key_ids": (TENFORWARD + "#main-key",),
        },
    ),
    "actor-group_peertube-channel.json": Expect(
        "actor",
        {
            "id": TILVIDS,
            "type": "Group",
            "shared_inbox": "https://tilvids.com/inbox",
            "icon_url": PEERTUBE_ICON,
            "image_url": "https://tilvids.com/lazy-static/banners/"
            "1a8d6881-30c8-47cb-8576-7af62d869c45.jpg",
            "key_ids": (TILVIDS + "#main-key",),
        },
    ),
    "actor-group_mobilizon.json": Expect(
        "actor",
        {
            "id": MOBILIZON_GROUP,
            "type": "Group",
            "inbox": MOBILIZON_GROUP + "/inbox",
            "shared_inbox": "https://mobilizon.fr/inbox",
            "discoverable": True,
            # "BEGIN RSA PUBLIC KEY" (PKCS#1) is accepted too.
            "key_ids": (MOBILIZON_GROUP + "#main-key",),
        },
    ),
    "actor-person_fedify.json": Expect(
        "actor",
        {
            "id": FEDIFY,
            "inbox": FEDIFY + "/inbox",
            "outbox": None,
            "followers": None,
            "following": None,
            "shared_inbox": None,
            "url": "https://e875a03fc2a35b.lhr.life/",
            "key_ids": (FEDIFY + "#main-key",),
        },
    ),
    "actor-organization_wordpress-pterotype.json": Expect(
        "actor",
        {
            "id": WEDISTRIBUTE,
            "type": "Organization",
            "preferred_username": "blog",
            "shared_inbox": None,
            "url": "https://wedistribute.org/",
            "key_ids": (WEDISTRIBUTE + "#publicKey",),
        },
    ),
    # --- discovery --------------------------------------------------------
    "webfinger_mastodon.json": Expect(
        "webfinger",
        {
            "subject": "acct:foo@ap.example.com",
            # Three rel=self links: text/html-ish and application/json ones skipped.
            "self_href": "https://ap.example.com/users/foo",
            "aliases": (
                "https://ap.example.com/@foo",
                "https://ap.example.com/users/foo",
            ),
        },
    ),
    "webfinger_peertube.json": Expect(
        "webfinger",
        {
            "subject": "acct:framasoft@framatube.org",
            "self_href": "https://framatube.org/accounts/framasoft",
        },
    ),
    "webfinger_pleroma.json": Expect(
        "webfinger",
        {
            "subject": "acct:lain@pleroma.soykaf.com",
            "self_href": "https://pleroma.soykaf.com/users/lain",
        },
    ),
    "nodeinfo-wellknown_mastodon.json": Expect(
        "nodeinfo-links",
        {
            "links": {
                "http://nodeinfo.diaspora.software/ns/schema/2.0": (
                    "https://mastodon.example.org/nodeinfo/2.0"
                )
            }
        },
    ),
    "nodeinfo-2.0_mastodon.json": Expect(
        "nodeinfo",
        {
            "version": "2.0",
            "software_name": "mastodon",
            "software_version": "4.1.0",
            "protocols": ("activitypub",),
            "metadata": {},
        },
    ),
    "nodeinfo-2.1_mobilizon.json": Expect(
        "nodeinfo",
        {
            "version": "2.1",
            "software_name": "mobilizon",
            "software_version": "5.1.0",
            "protocols": ("activitypub",),
        },
    ),
    # --- follow flow ------------------------------------------------------
    "follow_mastodon.json": Expect(
        "activity:Follow",
        {
            "actor": "https://masto.asonix.dog/users/asonix",
            "object_id": "https://ds9.lemmy.ml/c/testcom",
            "object": None,
            "to": (),
        },
    ),
    "accept-follow-embedded_mastodon.json": Expect(
        "activity:Accept",
        {
            "id": MASTO + "#accepts/follows/4",
            "actor": MASTO,
            "object_id": LAIN + "#follows/4",
            "embedded": "activity:Follow",
            "embedded.actor": LAIN,
            "embedded.object_id": MASTO,
        },
    ),
    "accept-follow-id-only_mitra.json": Expect(
        "activity:Accept",
        {
            "actor": "https://mitra.social/users/localtestgroup",
            "object_id": "https://voyager.lemmy.ml/activities/follow/"
            "7d782f02-b91d-4455-b6c0-772540f00c2d",
            "object": None,
            "to": ("https://voyager.lemmy.ml/u/silverpill",),
        },
    ),
    "reject-follow_mastodon.json": Expect(
        "activity:Reject",
        {
            "actor": MASTO,
            "object_id": LAIN + "#follows/4",
            "embedded": "activity:Follow",
            "embedded.actor": LAIN,
        },
    ),
    "undo-follow_mastodon.json": Expect(
        "activity:Undo",
        {
            "id": "https://masto.asonix.dog/users/asonix#follows/449/undo",
            "actor": "https://masto.asonix.dog/users/asonix",
            "object_id": "https://masto.asonix.dog/1ea87517-63c5-4118-8831-460ee641b2cf",
            "embedded": "activity:Follow",
            "embedded.object_id": "https://ds9.lemmy.ml/c/testcom",
        },
    ),
    # --- posts ------------------------------------------------------------
    "create-note-public-mention-cw_mastodon.json": Expect(
        "activity:Create",
        {
            "actor": MASTO,
            "object_id": MASTO_STATUS,
            "to": (AS_PUBLIC,),
            "cc": (MASTO + "/followers", LAIN),
            "embedded": "object:Note",
            "embedded.summary": "cw",
            "embedded.sensitive": True,
            "embedded.content": MENTION_LAIN,
            "embedded.attributed_to": MASTO,
        },
    ),
    "note-followers-only_pleroma.json": Expect(
        "object:Note",
        {
            "id": "https://testing.local/objects/d953809b-d968-49c8-aa8f-7545b9480a12",
            "attributed_to": "https://testing.local/users/karen",
            "to": ("https://testing.local/users/karen/followers",),
            "cc": (),
            "content": "private note (not really)",
        },
    ),
    "create-note-direct_mastodon.json": Expect(
        "activity:Create",
        {
            "actor": "https://framapiaf.org/users/admin",
            "to": ("https://framapiaf.org/users/tcit",),
            "cc": (),
            "embedded.to": ("https://framapiaf.org/users/tcit",),
            "embedded.cc": (),
        },
    ),
    "create-note-hashtag_mastodon.json": Expect(
        "activity:Create",
        {
            "object_id": MASTO_STATUS,
            "embedded": "object:Note",
            "embedded.tag_types": ("Mention", "Hashtag"),
        },
    ),
    "create-note-emoji-hashtags_mastodon.json": Expect(
        "activity:Create",
        {
            "actor": FOSS_SATAN,
            # Unlisted: Public in cc.
            "to": (FOSS_SATAN + "/followers",),
            "cc": (AS_PUBLIC,),
            "embedded.url": "https://ondergrond.org/@dumpsterqueer/106221567884565704",
            "embedded.tag_types": ("Hashtag", "Hashtag", "Emoji", "Emoji", "Emoji"),
        },
    ),
    "create-note-attachment_mastodon.json": Expect(
        "activity:Create",
        {
            "object_id": MASTO + "/statuses/99541822081679796",
            "embedded": "object:Note",
            "embedded.url": "http://mastodon.example.org/@admin/99541822081679796",
            "embedded.sensitive": False,
        },
    ),
    "create-note-contentmap_mastodon.json": Expect(
        "activity:Create",
        {
            "object_id": MASTO_STATUS,
            # No "content": the contentMap value stands in.
            "embedded.content": MENTION_LAIN,
        },
    ),
    "create-note_misskey.json": Expect(
        "activity:Create",
        {
            "actor": "https://mk.absturztau.be/users/8ozbzjs3o8",
            "published": "2022-08-01T11:06:49.568Z",
            "embedded.content": "<p><span>meow</span></p>",
            "embedded.summary": None,
            "embedded.url": None,
        },
    ),
    "create-note-reply_pleroma.json": Expect(
        "activity:Create",
        {
            "actor": "https://greenish.red/users/nutomic",
            "to": ("https://enterprise.lemmy.ml/u/picard", AS_PUBLIC),
            "embedded.in_reply_to": "https://enterprise.lemmy.ml/post/55143",
            "embedded.tag_types": ("Mention",),
        },
    ),
    "create-article_wordpress-pterotype.json": Expect(
        "activity:Create",
        {
            "actor": WEDISTRIBUTE,
            "to": (AS_PUBLIC, WEDISTRIBUTE + "/followers"),
            "embedded": "object:Article",
            "embedded.name": "The end is near: Mastodon plans to drop OStatus support",
            "embedded.url": "https://wedistribute.org/2019/07/mastodon-drops-ostatus/",
            "embedded.attributed_to": WEDISTRIBUTE,
        },
    ),
    "create-page_lemmy.json": Expect(
        "activity:Create",
        {
            "actor": "http://ds9.lemmy.ml/u/lemmy_alpha",
            "object_id": "http://ds9.lemmy.ml/post/1",
            "audience": ("https://enterprise.lemmy.ml/c/main",),
            "embedded": "object:Page",
            "embedded.name": "test post",
            "embedded.media_type": "text/html",
        },
    ),
    "create-event_mobilizon.json": Expect(
        "activity:Create",
        {
            "actor": "https://mobilizon.fr/@metacartes",
            "embedded": "object:Event",
            "embedded.name": "My first event",
            "embedded.url": "https://mobilizon.fr/events/39a0c4a6-f2b6-41dc-bbe2-fc5bff76cc93",
        },
    ),
    "create-question_mastodon.json": Expect(
        "activity:Create",
        {
            "actor": "https://mastodon.sdf.org/users/rinpatch",
            "embedded": "object:Question",
            "embedded.content": "<p>Why is Tenshi eating a corndog so cute?</p>",
        },
    ),
    "create-video_peertube.json": Expect(
        "activity:Create",
        {
            "actor": "https://framatube.org/accounts/framasoft",
            "object_id": FRAMATUBE_VIDEO,
            "embedded": "object:Video",
            # url is an array of Links: the text/html watch page wins.
            "embedded.url": FRAMATUBE_VIDEO,
            # attributedTo lists [Person, Group]: the Person is the author.
            "embedded.attributed_to": "https://framatube.org/accounts/framasoft",
            "embedded.media_type": "text/markdown",
        },
    ),
    "note-interaction-policy_gotosocial.json": Expect(
        "object:Note",
        {
            "attributed_to": ZORK,
            # to and cc are plain strings.
            "to": (AS_PUBLIC,),
            "cc": (ZORK + "/followers",),
            "sensitive": True,
            "summary": "introduction post",
            "content": "<p>hello everyone!</p>",
        },
    ),
    "update-note_mastodon.json": Expect(
        "activity:Update",
        {
            "id": "https://mastodon/users/john/statuses/9876#updates/1675500855",
            "object_id": "https://mastodon/users/john/statuses/9876",
            "embedded": "object:Note",
            "embedded.updated": "2023-02-04T08:54:15Z",
        },
    ),
    "update-person_mastodon.json": Expect(
        "activity:Update",
        {
            "actor": "http://mastodon.example.org/users/gargron",
            "object_id": "http://mastodon.example.org/users/gargron",
            "embedded": "actor",
            "embedded.name": "gargle",
            "embedded.shared_inbox": "http://mastodon.example.org/inbox",
            # The PEM is malformed: the actor parses, without a usable key.
            "embedded.keys": (),
        },
    ),
    "delete-note-tombstone_mastodon.json": Expect(
        "activity:Delete",
        {
            "actor": "https://mastodon.madrid/users/felix",
            "object_id": "https://mastodon.madrid/users/felix/statuses/107773559874184870",
            "embedded": "object:Tombstone",
        },
    ),
    "delete-actor_mastodon.json": Expect(
        "activity:Delete",
        {
            "actor": "https://mastodon/users/Alice",
            "object_id": "https://mastodon/users/Alice",
            "object": None,
            "to": (AS_PUBLIC,),
        },
    ),
    # --- interactions -----------------------------------------------------
    "announce_mastodon.json": Expect(
        "activity:Announce",
        {
            "actor": "https://first_domain/users/first",
            "object_id": "https://second_domain/users/second/statuses/109724234853",
            "object": None,
            "to": (AS_PUBLIC,),
            "cc": (
                "https://second_domain/users/second",
                "https://first_domain/users/first/followers",
            ),
        },
    ),
    "undo-announce_mastodon.json": Expect(
        "activity:Undo",
        {
            "actor": "https://first_domain/users/first",
            "embedded": "activity:Announce",
            # Edited test data: the inner actor differs; refusing that is the
            # inbox's job, not the reader's.
            "embedded.actor": "https://first_domain/users/john",
        },
    ),
    "like_mastodon.json": Expect(
        "activity:Like",
        {"actor": MASTO, "object_id": PLEROMA_OBJECT, "id": MASTO + "#likes/2"},
    ),
    "undo-like_mastodon.json": Expect(
        "activity:Undo",
        {
            "id": "https://other_domain/users/phoenix#likes/557/undo",
            "object_id": "https://other_domain/users/phoenix#likes/557",
            "embedded": "activity:Like",
            "embedded.object_id": "https://my_domain/activitypub/helge/id567",
        },
    ),
    "emojireact_pleroma.json": Expect(
        "activity:EmojiReact",
        {"actor": MASTO, "object_id": PLEROMA_OBJECT, "content": "👌"},
    ),
    "like-custom-emoji-reaction_misskey.json": Expect(
        "activity:Like",
        {
            "actor": "https://misskey.local.live/users/8x8yep20u2",
            "object_id": "https://pleroma.local.live/objects/89937a53-2692-4631-bb62-770091267391",
            "content": ":hanapog:",
        },
    ),
    "move_mastodon.json": Expect(
        "activity:Move",
        {
            "actor": "https://mastodon.example/users/alice",
            "object_id": "https://mastodon.example/users/alice",
            "target": "https://alice.com/users/109835986274379",
            "to": ("https://mastodon.example/users/alice/followers",),
        },
    ),
    "block_mastodon.json": Expect(
        "activity:Block",
        {"actor": MASTO, "object_id": LAIN, "id": MASTO + "#follows/2", "to": ()},
    ),
    "flag_mastodon.json": Expect(
        "activity:Flag",
        {
            "actor": "https://mastodon.example/actor",
            "object_id": "https://example.com/users/1",
            "object_ids": (
                "https://example.com/users/1",
                "https://example.com/posts/380590",
                "https://example.com/posts/380591",
            ),
            "to": ("https://example.com/users/1",),
            "content": "Please take a look at this user and their posts",
        },
    ),
    # --- collections ------------------------------------------------------
    "collection-followers_mastodon.json": Expect(
        "collection",
        {
            "type": "OrderedCollection",
            "total_items": 437,
            "first": "http://localhost:4001/users/masto_closed/followers?page=1",
            "items": (),
        },
    ),
    "collection-followers-page_mastodon.json": Expect(
        "collection",
        {
            "type": "OrderedCollectionPage",
            "next": "http://localhost:4001/users/masto_closed/followers?page=2",
            "items_count": 12,
            "first_item": "https://testing.uguu.ltd/users/rin",
        },
    ),
    "collection-outbox-page_gotosocial.json": Expect(
        "collection",
        {
            "type": "OrderedCollectionPage",
            "total_items": 9,
            "items_count": 3,
            "first_item": "activity:Create",
        },
    ),
    "collection-outbox_lemmy-community.json": Expect(
        "collection",
        {
            "id": "https://ds9.lemmy.ml/c/testcom/outbox",
            "total_items": 2,
            "items_count": 2,
            "first_item": "activity:Announce",
        },
    ),
    "collection-featured_mastodon.json": Expect(
        "collection",
        {"total_items": 1, "items_count": 1, "first_item": "object:Note"},
    ),
}


def _load(name: str) -> object:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        loaded: object = json.load(handle)
    return loaded


def _parse(kind: str, doc: object) -> object:
    """The reader's view of a document already classified as ``kind``."""
    if kind == "actor":
        return n.parse_actor(doc)
    if kind == "webfinger":
        return n.parse_webfinger(doc)
    if kind == "nodeinfo":
        return n.parse_nodeinfo(doc)
    if kind == "nodeinfo-links":
        return n.parse_nodeinfo_links(doc)
    if kind == "collection":
        return n.parse_collection(doc)
    if kind.startswith("activity:"):
        return n.parse_activity(doc)
    return n.parse_object(doc)


def _fact(view: object, name: str) -> object:
    """A named fact of a parsed view; a few names are computed (see the table)."""
    head, _, rest = name.partition(".")
    if head == "embedded":
        assert isinstance(view, n.Activity)
        assert view.object is not None, "activity has no embedded object"
        if not rest:
            return n.classify(view.object)
        return _fact(_parse(n.classify(view.object), view.object), rest)
    if name == "links":
        return view
    if name == "key_ids":
        assert isinstance(view, n.Actor)
        return tuple(key.id for key in view.keys)
    if name == "tag_types":
        assert isinstance(view, n.Object)
        return tuple(tag.get("type") for tag in view.tags)
    if name == "content":
        # Activities (Flag, Like, EmojiReact) carry content too; read it raw.
        raw = view.raw if isinstance(view, n.Activity | n.Object) else {}
        return n.first_text(raw, "content")
    if name in ("items_count", "first_item"):
        assert isinstance(view, n.Collection)
        if name == "items_count":
            return len(view.items)
        first = view.items[0]
        return n.classify(first) if isinstance(first, Mapping) else first
    return getattr(view, name)


def test_table_lists_every_fixture() -> None:
    on_disk = {path.name for path in FIXTURES.iterdir() if path.is_file()}
    on_disk -= NOT_FIXTURES
    assert sorted(on_disk - EXPECTED.keys()) == [], "fixtures missing from EXPECTED"
    assert sorted(EXPECTED.keys() - on_disk) == [], "EXPECTED names absent files"


def test_table_covers_the_manifest() -> None:
    manifest = (FIXTURES / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    listed = {line.split("\t", 1)[0] for line in manifest[1:] if line.strip()}
    assert listed == EXPECTED.keys()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    expect = EXPECTED[name]
    doc = _load(name)
    if expect.kind == "refused":
        with pytest.raises(n.ProtocolError) as caught:
            n.classify(doc)
        assert str(expect.facts["reason"]) in caught.value.reason
        return
    assert n.classify(doc) == expect.kind
    view = _parse(expect.kind, doc)
    for fact, wanted in expect.facts.items():
        assert _fact(view, fact) == wanted, fact


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_depth_is_modest(name: str) -> None:
    # Real payloads nest at most 7 levels, so an HTTP-layer depth limit of a few
    # dozen costs no interoperability.
    assert 1 <= n.json_depth(_load(name)) <= 16
