"""Déclics against Fedify 2.3.6 (an ActivityPub framework nobody on the team wrote), on
loopback over http: follows both ways, Create/Update/Delete delivery, RFC 9421 first knock and
the fall-back to draft-cavage. The Fedify side is tests/interop/fedify/peer.mjs.

WebFinger by `acct:` handle over https is in test_fedify_webfinger.py.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from federation.actors import follows, remote
from federation.content import practices
from federation.inbox.intake import signer_for
from federation.inbox.states import InboxState
from federation.outbox import follow as follow_use_cases
from federation.outbox import objects, profile, publish
from federation.store.models import LocalActor
from tests.conftest import InstanceFactory
from tests.interop.conftest import FedifyPeer, FedifyPeerFactory
from tests.support.instance import Instance
from tests.support.queries import follower_uris, following_state, id_of, inbox_items

pytestmark = pytest.mark.interop

FAST = {"poll_interval_seconds": 0.05}
FINISHED = {InboxState.PROCESSED.value, InboxState.IGNORED.value}


@dataclass(frozen=True)
class Seen:
    """An inbox POST as the Déclics server answered it."""

    path: str
    status: int
    spec: str | None  # "rfc9421" (Signature-Input), "draft-cavage" (Signature only), None


async def recording_instance(
    instances: InstanceFactory, **overrides: dict[str, Any]
) -> tuple[Instance, list[Seen]]:
    """A started Déclics instance that records the signature spec and the answer of
    every POST it receives."""
    instance = await instances("collectif", start=False, delivery=FAST, **overrides)
    seen: list[Seen] = []

    async def record(request: web.Request, response: web.StreamResponse) -> None:
        if request.method != "POST":
            return
        names = {name.lower() for name in request.headers}
        spec = (
            "rfc9421"
            if "signature-input" in names
            else "draft-cavage"
            if "signature" in names
            else None
        )
        seen.append(Seen(request.path, response.status, spec))

    await instance.start(on_response=record)
    return instance, seen


def assert_has_proof(payload: dict[str, Any], actor_id: str) -> None:
    """FEP-8b32: Fedify signs its activities with an Ed25519 Data Integrity proof
    (verifying it is Déclics' job, not this test's)."""
    proofs = payload.get("proof")
    proof = proofs[0] if isinstance(proofs, list) else proofs
    assert isinstance(proof, dict), f"no FEP-8b32 proof in {payload}"
    assert proof.get("type") == "DataIntegrityProof"
    assert proof.get("cryptosuite") == "eddsa-jcs-2022"
    assert proof.get("proofPurpose") == "assertionMethod"
    assert str(proof.get("verificationMethod", "")).startswith(f"{actor_id}#")
    # ... and with an RSA Linked Data signature as well (what Mastodon checks to forward).
    assert payload.get("signature", {}).get("type") == "RsaSignature2017"


async def assert_quiet(peer: FedifyPeer, *, known: tuple[str, ...] = ()) -> None:
    """Fedify logged no warning or error: no signature, key, JSON-LD or delivery trouble
    (apart from the `known` messages, reported as pytest warnings)."""
    errors = (await peer.log())["errors"]
    unexpected = [e for e in errors if e["message"] not in known]
    assert unexpected == [], f"Fedify logged problems: {unexpected}\n{peer.output()}"
    for message in sorted({e["message"] for e in errors}):
        warnings.warn(f"known Fedify interop finding: {message}", stacklevel=2)


async def posts_to(peer: FedifyPeer, instance: Instance) -> list[tuple[str | None, int]]:
    """(signature spec, status) of every POST Fedify made to `instance`, as Fedify saw
    them, once every answer has reached Fedify."""
    posts: list[dict[str, Any]] = []

    async def answered() -> bool:
        nonlocal posts
        posts = [
            r
            for r in (await peer.log())["requests"]
            if r["method"] == "POST" and r["url"].startswith(f"{instance.base_url}/")
        ]
        return all(r["status"] is not None for r in posts)

    await peer.until(answered, "Fedify to get the answers to its POSTs")
    return [(r["spec"], r["status"]) for r in posts]


async def fedify_follows(instance: Instance, peer: FedifyPeer) -> str:
    """Fedify follows the member by actor URL; returns once Fedify holds the Accept."""
    follow_id = await peer.follow(instance.actor_id)

    async def accepted() -> bool:
        return any(id_of(a.get("object")) == follow_id for a in await peer.received("Accept"))

    await peer.until(accepted, "Déclics' Accept to reach Fedify")
    return follow_id


async def member_follows(instance: Instance, peer: FedifyPeer) -> None:
    """The member follows the Fedify actor (what `declics follow <url>` does)."""
    org = await instance.organisation()
    signer = await signer_for(instance.rt, org.domain)
    target = await remote.resolve(instance.rt, peer.actor_id, signer)
    async with instance.rt.sessions.begin() as session:
        await follow_use_cases.follow(session, org, target, instance.rt.clock.now())
    instance.rt.delivery_wakeup.set()

    async def accepted() -> bool:
        return await following_state(instance, peer.actor_id) == follows.ACCEPTED

    await peer.until(accepted, "Fedify's Accept to reach Déclics")


async def test_fedify_follows_member_and_receives_note_update_delete(
    instances: InstanceFactory, fedify_peers: FedifyPeerFactory
) -> None:
    a, _seen = await recording_instance(instances)
    peer = await fedify_peers("alice")

    # Fedify follows the member by actor URL over http and gets the Accept.
    follow_id = await fedify_follows(a, peer)
    assert await follower_uris(a) == {peer.actor_id}
    [follow] = await inbox_items(a, "Follow")
    assert follow.activity_uri == follow_id
    assert follow.actor_uri == peer.actor_id
    assert_has_proof(follow.payload, peer.actor_id)
    [accept] = [a_ for a_ in await peer.received("Accept") if id_of(a_["object"]) == follow_id]
    assert accept["actor"] == a.actor_id

    # The member posts a note: Fedify receives the Create.
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        note, _ = await publish.post_note(session, org, "Bonjour Fedify", a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def got_note() -> bool:
        return any(id_of(c.get("object")) == note.uri for c in await peer.received("Create"))

    await peer.until(got_note, "the Create to reach Fedify")
    [create] = [c for c in await peer.received("Create") if id_of(c["object"]) == note.uri]
    assert create["actor"] == a.actor_id
    assert create["object"]["type"] == "Note"
    assert create["object"]["content"] == "<p>Bonjour Fedify</p>"
    assert create["object"]["attributedTo"] == a.actor_id

    # The member publishes a practice: Fedify receives the Article, its extension
    # terms and its author's integrity proof intact.
    draft = practices.parse_file(
        "---\ntitle: Mutualiser la comptabilité\nsummary: Entre coopératives\n"
        "themes: [7]\n---\nCorps en *Markdown*.\n",
        "CC-BY-SA-4.0",
    )
    async with a.rt.sessions.begin() as session:
        practice, _ = await practices.publish(session, org, draft, a.rt.clock.now(), "fr")
    a.rt.delivery_wakeup.set()

    async def got_article() -> bool:
        return any(id_of(c.get("object")) == practice.uri for c in await peer.received("Create"))

    await peer.until(got_article, "the Create(Article) to reach Fedify")
    [article] = [
        c["object"] for c in await peer.received("Create") if id_of(c["object"]) == practice.uri
    ]
    assert article["type"] == "Article"
    assert article["name"] == "Mutualiser la comptabilité"
    assert "#<span>Cooperation</span>" in article["summary"]
    assert article["url"] == practice.uri

    # The member changes its profile: Fedify receives the Update of the actor.
    async with a.rt.sessions.begin() as session:
        row = await session.get(LocalActor, org.id)
        await profile.update(
            session, row, {"name": "Collectif renommé", "summary": "Nouveau"}, a.rt.clock.now()
        )
    a.rt.delivery_wakeup.set()

    async def got_update() -> bool:
        return any(id_of(u.get("object")) == a.actor_id for u in await peer.received("Update"))

    await peer.until(got_update, "the Update to reach Fedify")
    [update] = [u for u in await peer.received("Update") if id_of(u["object"]) == a.actor_id]
    assert update["actor"] == a.actor_id
    assert update["object"]["name"] == "Collectif renommé"
    assert update["object"]["type"] == "Organization"

    # The member deletes the note: Fedify receives a Delete with a Tombstone.
    async with a.rt.sessions.begin() as session:
        row = await session.get(LocalActor, org.id)
        assert row is not None
        stored_note = await objects.find(session, row, "note", note.uri)
        assert stored_note is not None
        await objects.delete(session, row, stored_note, a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def got_delete() -> bool:
        return any(id_of(d.get("object")) == note.uri for d in await peer.received("Delete"))

    await peer.until(got_delete, "the Delete to reach Fedify")
    [delete] = [d for d in await peer.received("Delete") if id_of(d["object"]) == note.uri]
    assert delete["actor"] == a.actor_id
    assert delete["object"]["type"] == "Tombstone"
    # formerType names the type by its IRI: Fedify reads it without a warning.
    assert delete["object"]["formerType"] in (
        "Note",
        "as:Note",
        "https://www.w3.org/ns/activitystreams#Note",
    )
    await assert_quiet(peer)


async def test_member_follows_fedify_actor_and_stores_its_note(
    instances: InstanceFactory, fedify_peers: FedifyPeerFactory
) -> None:
    a, _seen = await recording_instance(instances)
    peer = await fedify_peers("alice")

    await member_follows(a, peer)
    assert (await peer.log())["followers"] == [a.actor_id]

    sent = await peer.post_note("<p>Hello from Fedify</p>")

    async def stored() -> bool:
        return any(i.activity_uri == sent["id"] for i in await inbox_items(a, "Create"))

    await peer.until(stored, "Fedify's Create to be stored by Déclics")
    [item] = [i for i in await inbox_items(a, "Create") if i.activity_uri == sent["id"]]
    assert item.actor_uri == peer.actor_id
    assert item.payload["actor"] == peer.actor_id
    assert item.payload["object"]["id"] == sent["object"]
    assert item.payload["object"]["content"] == "<p>Hello from Fedify</p>"
    assert "https://www.w3.org/ns/activitystreams#Public" in str(item.payload["to"])
    assert_has_proof(item.payload, peer.actor_id)

    async def finished() -> bool:
        [row] = [i for i in await inbox_items(a, "Create") if i.activity_uri == sent["id"]]
        return row.state in FINISHED

    # A plain note is kept as received, not processed further (it is no reply to us).
    await peer.until(finished, "the inbox worker to process the Create")
    [item] = [i for i in await inbox_items(a, "Create") if i.activity_uri == sent["id"]]
    assert item.state in FINISHED, (item.state, item.last_error)
    await assert_quiet(peer)


async def test_fedify_first_knock_is_rfc9421(
    instances: InstanceFactory, fedify_peers: FedifyPeerFactory
) -> None:
    a, seen = await recording_instance(instances)
    peer = await fedify_peers("alice")

    follow_id = await fedify_follows(a, peer)
    assert [i.activity_uri for i in await inbox_items(a, "Follow")] == [follow_id]
    # Déclics saw one RFC 9421-signed POST and accepted it: no 401, no second knock.
    assert seen == [Seen(f"/users/{a.username}/inbox", 202, "rfc9421")]
    # Fedify agrees: it sent one POST to Déclics, RFC 9421, answered 202.
    assert await posts_to(peer, a) == [("rfc9421", 202)]
    await assert_quiet(peer)


async def test_fedify_falls_back_to_cavage_when_rfc9421_is_refused(
    instances: InstanceFactory, fedify_peers: FedifyPeerFactory
) -> None:
    a, seen = await recording_instance(instances, signatures={"accept_rfc9421": False})
    peer = await fedify_peers("alice")

    # RFC 9421 is answered 401; Fedify knocks again with draft-cavage and the follow completes.
    follow_id = await fedify_follows(a, peer)
    assert [i.activity_uri for i in await inbox_items(a, "Follow")] == [follow_id]
    assert await follower_uris(a) == {peer.actor_id}
    inbox = f"/users/{a.username}/inbox"
    assert seen == [Seen(inbox, 401, "rfc9421"), Seen(inbox, 202, "draft-cavage")]

    # Fedify remembers the choice for this server: its next POSTs (the Accept of our
    # Follow, then a Create) go straight to draft-cavage.
    await member_follows(a, peer)
    sent = await peer.post_note("<p>Second knock remembered</p>")

    async def stored() -> bool:
        return any(i.activity_uri == sent["id"] for i in await inbox_items(a, "Create"))

    await peer.until(stored, "Fedify's Create to be stored by Déclics")
    assert seen == [
        Seen(inbox, 401, "rfc9421"),
        Seen(inbox, 202, "draft-cavage"),
        Seen(inbox, 202, "draft-cavage"),  # the Accept, to the member's inbox
        Seen("/inbox", 202, "draft-cavage"),  # the Create, to the shared inbox
    ]
    assert await posts_to(peer, a) == [
        ("rfc9421", 401),
        ("draft-cavage", 202),
        ("draft-cavage", 202),
        ("draft-cavage", 202),
    ]
    await assert_quiet(peer)
