"""Relay subscriptions without a real relay: a relay-shaped test peer (an `Application`
actor, like activityrelay's) that records what it receives and sends what activityrelay
sends. The `declics relay` commands, the fan-out of public activities only, the relay's
follow back, and its `Announce` of a practice reaching the library.

The real activityrelay is tests/interop/test_relay.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from federation import cli
from federation.actors import follows
from federation.inbox.states import InboxState
from federation.outbox import profile, publish, relays
from federation.store.models import Delivery, InboxItem, LocalActor
from federation.vocab.constants import AS_PUBLIC
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by
from tests.e2e.test_practices import library, practice_file
from tests.e2e.test_practices import publish as publish_practice
from tests.support.instance import Instance
from tests.support.net import free_port, loopback_ip
from tests.support.peer import Peer, Received
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}
RELAY = "relay"


class RelayPeer(Peer):
    """The test peer with an `Application` actor, as activityrelay serves its own."""

    def actor_document(self, name: str) -> dict[str, Any]:
        document = super().actor_document(name)
        document["type"] = "Application"
        return document

    @property
    def relay_id(self) -> str:
        return self.actor_id(RELAY)


@pytest.fixture
async def relay() -> AsyncIterator[RelayPeer]:
    ip = loopback_ip()
    peer = RelayPeer(ip, free_port(ip), users={RELAY})
    await peer.start()
    try:
        yield peer
    finally:
        await peer.stop()


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`declics …` in a thread (it runs its own event loop), output captured."""
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def app_actor_of(instance: Instance) -> LocalActor:
    org = await instance.organisation()
    async with instance.rt.sessions() as session:
        return await relays.application(session, org.domain)


async def subscription_state(instance: Instance, relay_id: str) -> str | None:
    app_actor = await app_actor_of(instance)
    async with instance.rt.sessions() as session:
        rows = await relays.subscriptions(session, app_actor)
    return next((row.state for row, actor in rows if actor.uri == relay_id), None)


async def relay_accepts(instance: Instance, relay: RelayPeer, follow: Received) -> None:
    """What activityrelay sends after a subscriber's Follow: a signed Accept to its shared
    inbox, echoing the Follow with the relay's actor as object."""
    accept = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": relay.new_id(RELAY),
        "type": "Accept",
        "to": [follow.activity["actor"]],
        "actor": relay.relay_id,
        "object": {
            "id": follow.activity["id"],
            "type": "Follow",
            "object": relay.relay_id,
            "actor": follow.activity["actor"],
        },
    }
    status, answer = await relay.send(RELAY, f"{instance.base_url}/inbox", accept)
    assert status == 202, answer

    async def accepted() -> bool:
        return await subscription_state(instance, relay.relay_id) == follows.ACCEPTED

    await until(accepted, what="the relay's Accept to be processed")


async def inbox_item(instance: Instance, activity_id: str) -> InboxItem | None:
    async with instance.rt.sessions() as session:
        return (
            await session.execute(select(InboxItem).where(InboxItem.activity_uri == activity_id))
        ).scalar_one_or_none()


async def finished(instance: Instance, activity_id: str) -> InboxItem:
    async def done() -> bool:
        item = await inbox_item(instance, activity_id)
        return item is not None and item.state in (
            InboxState.PROCESSED.value,
            InboxState.IGNORED.value,
        )

    await until(done, what=f"{activity_id} to be processed")
    item = await inbox_item(instance, activity_id)
    assert item is not None
    return item


async def deliveries_settled(instance: Instance) -> None:
    """Every planned delivery has been attempted and delivered."""

    async def settled() -> bool:
        async with instance.rt.sessions() as session:
            states = set((await session.execute(select(Delivery.state))).scalars())
        return states <= {"delivered"}

    await until(settled, what="every delivery to be made")


def types_received(peer: Peer) -> list[str]:
    return [str(r.activity.get("type")) for r in peer.received]


async def test_relay_commands_and_fan_out_of_public_activities_only(
    instances: InstanceFactory,
    peers: PeerFactory,
    relay: RelayPeer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", delivery=FAST)
    alice = await peers(["alice"])
    await followed_by(a, alice)  # an ordinary follower, to compare with
    data = ["--data-dir", str(a.data_dir)]

    # Subscribing sends the relay a Follow of as:Public by the application actor.
    code, out, err = await run_cli(capsys, "relay", "subscribe", relay.relay_id, *data)
    assert (code, err) == (0, ""), err
    assert "pending until the relay accepts" in out

    async def followed() -> bool:
        return bool(relay.inbox_of("Follow"))

    await until(followed, what="the Follow to reach the relay")
    [follow] = relay.inbox_of("Follow")
    assert follow.verified, follow.reason
    assert follow.path == f"/users/{RELAY}/inbox"
    assert follow.activity["actor"] == f"{a.base_url}/actor"
    assert follow.activity["object"] == AS_PUBLIC
    code, out, _ = await run_cli(capsys, "relay", "list", *data)
    assert (code, out.split()) == (0, [f"{relay.base}/inbox", "pending", relay.relay_id])

    # While the subscription is pending, nothing is relayed.
    pending_practice = await publish_practice(a, practice_file("En attente"))
    await deliveries_settled(a)
    assert types_received(relay) == ["Follow"]
    assert any(r.activity["object"]["id"] == pending_practice for r in alice.inbox_of("Create"))

    await relay_accepts(a, relay, follow)
    code, out, _ = await run_cli(capsys, "relay", "list", "--json", *data)
    assert '"state": "accepted"' in out

    # activityrelay follows the application actor back: accepted. Nobody else may.
    relay_follow: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": relay.new_id(RELAY),
        "type": "Follow",
        "to": [f"{a.base_url}/actor"],
        "object": f"{a.base_url}/actor",
        "actor": relay.relay_id,
    }
    status, _ = await relay.send(RELAY, f"{a.base_url}/inbox", relay_follow)
    assert status == 202

    async def accepted_back() -> bool:
        return any(
            r.activity["object"]["id"] == relay_follow["id"] for r in relay.inbox_of("Accept")
        )

    await until(accepted_back, what="the Accept of the relay's Follow")
    stranger_follow = {
        **relay_follow,
        "id": alice.new_id("alice"),
        "actor": alice.actor_id("alice"),
    }
    status, _ = await alice.send("alice", f"{a.base_url}/inbox", stranger_follow)
    assert status == 202
    item = await finished(a, stranger_follow["id"])
    assert item.last_error == "ignored: follow of the application actor by no relay of ours"

    # Public activities of the organisation go to the relay's (shared) inbox as well...
    practice = await publish_practice(a, practice_file("Relayée"))
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        note, _ = await publish.post_note(session, org, "Bonjour le relais", a.rt.clock.now())
        row = await session.get(LocalActor, org.id)
        assert row is not None
        # ... not the profile's Update (sent with public=False) ...
        await profile.update(session, row, {"name": "Collectif relayé"}, a.rt.clock.now())
        # ... nor a followers-only activity.
        only_followers = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": publish.new_uri(row, "activities"),
            "type": "Create",
            "actor": a.actor_id,
            "object": {"id": publish.new_uri(row, "objects"), "type": "Note", "content": "x"},
            "to": [f"{a.actor_id}/followers"],
        }
        await publish.to_followers(session, row, only_followers, a.rt.clock.now())
    a.rt.delivery_wakeup.set()
    await deliveries_settled(a)
    relayed = [r for r in relay.received if r.activity["type"] == "Create"]
    assert sorted(r.activity["object"]["id"] for r in relayed) == sorted([practice, note.uri])
    assert all(r.path == "/inbox" and r.verified for r in relayed)
    assert types_received(relay) == ["Follow", "Accept", "Create", "Create"]
    alice_got = {r.activity["id"] for r in alice.received}
    assert only_followers["id"] in alice_got
    assert "Update" in types_received(alice)

    # Unsubscribing sends an Undo of the Follow and forgets the relay both ways.
    code, out, err = await run_cli(capsys, "relay", "unsubscribe", f"{relay.base}/inbox", *data)
    assert (code, err) == (0, ""), err

    async def undone() -> bool:
        return bool(relay.inbox_of("Undo"))

    await until(undone, what="the Undo to reach the relay")
    [undo] = relay.inbox_of("Undo")
    assert undo.activity["object"]["id"] == follow.activity["id"]
    assert undo.activity["object"]["object"] == AS_PUBLIC
    code, out, _ = await run_cli(capsys, "relay", "list", *data)
    assert out.strip() == "(no relay)"
    app_actor = await app_actor_of(a)
    async with a.rt.sessions() as session:
        assert await follows.followers(session, app_actor.id) == []
    code, _, err = await run_cli(capsys, "relay", "unsubscribe", relay.relay_id, *data)
    assert code == 2 and "not subscribed" in err


async def test_relay_announce_of_a_practice_reaches_the_library(
    instances: InstanceFactory, peers: PeerFactory, relay: RelayPeer
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    alice = await peers(["alice"])
    # B publishes practices; A follows neither B nor alice.
    first = await publish_practice(b, practice_file("Compostage partagé"))
    second = await publish_practice(b, practice_file("Vélos en commun"))

    org = await a.organisation()
    app_actor = await app_actor_of(a)
    found = await relays.resolve(a.rt, org.domain, relay.relay_id)
    async with a.rt.sessions.begin() as session:
        await relays.subscribe(session, app_actor, found, a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def followed() -> bool:
        return bool(relay.inbox_of("Follow"))

    await until(followed, what="the Follow to reach the relay")

    def announce(actor: str, peer: Peer, name: str, uri: str) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": peer.new_id(name),
            "type": "Announce",
            "to": [f"{actor}/followers"],
            "actor": actor,
            "object": uri,
        }

    # Before the relay accepts, its Announces are not taken.
    early = announce(relay.relay_id, relay, RELAY, first)
    assert (await relay.send(RELAY, f"{a.base_url}/inbox", early))[0] == 202
    assert (await finished(a, early["id"])).state == InboxState.IGNORED.value

    await relay_accepts(a, relay, relay.inbox_of("Follow")[0])

    # The relay announces B's practice: A fetches it from B and files it under its author.
    relayed = announce(relay.relay_id, relay, RELAY, first)
    assert (await relay.send(RELAY, f"{a.base_url}/inbox", relayed))[0] == 202
    item = await finished(a, relayed["id"])
    assert item.last_error is None and item.state == InboxState.PROCESSED.value
    stored = (await library(a))[first]
    assert stored.actor_uri == b.actor_id
    assert stored.kind == "practice" and stored.title == "Compostage partagé"

    # An actor A does not follow cannot do the same.
    stranger = announce(alice.actor_id("alice"), alice, "alice", second)
    assert (await alice.send("alice", f"{a.base_url}/inbox", stranger))[0] == 202
    assert (await finished(a, stranger["id"])).state == InboxState.IGNORED.value
    assert second not in await library(a)
