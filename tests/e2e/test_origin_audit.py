"""Authentication beyond signatures: who may say what about which object.

- an Announce of another author's object is taken from its origin by a signed GET,
  never from the copy in the message;
- only an object's author may Update or Delete it (a same-host actor may not);
- a replayed activity, even with a changed body under the same id, is a no-op.
Refusals of objects from another origin at intake are in test_hostile_inbox.py.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from federation.actors import remote
from federation.inbox import intake
from federation.store.models import Following, InboxItem, LibraryItem
from tests.conftest import InstanceFactory, PeerFactory
from tests.support.instance import Instance
from tests.support.peer import Peer
from tests.support.wait import until

AS = "https://www.w3.org/ns/activitystreams"


async def follow_accepted(instance: Instance, peer: Peer, names: list[str]) -> None:
    """Our organisation follows these peer actors (fetched for real, follow seeded)."""
    org = await instance.organisation()
    signer = await intake.signer_for(instance.rt, org.domain)
    for name in names:
        actor = await remote.resolve(instance.rt, peer.actor_id(name), signer)
        now = instance.rt.clock.now()
        async with instance.rt.sessions.begin() as session:
            session.add(
                Following(
                    local_actor_id=org.id,
                    remote_actor_id=actor.id,
                    follow_activity_uri=f"{instance.actor_id}#follows/{name}",
                    state="accepted",
                    created_at=now,
                    accepted_at=now,
                )
            )


def practice(peer: Peer, name: str, author: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.object_id(name),
        "type": "Article",
        "kind": "practice",
        "name": f"Practice {name}",
        "content": f"<p>{text}</p>",
        "attributedTo": peer.actor_id(author),
        "to": [f"{AS}#Public"],
        **extra,
    }


async def library(instance: Instance) -> dict[str, LibraryItem]:
    async with instance.rt.sessions() as session:
        rows = (await session.execute(select(LibraryItem))).scalars()
        return {row.uri: row for row in rows}


async def settled(instance: Instance, count: int) -> bool:
    async with instance.rt.sessions() as session:
        done = await session.execute(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.state.in_(("processed", "ignored", "failed")))
        )
        return int(done.scalar() or 0) >= count


async def test_announce_takes_the_object_from_its_origin_not_the_message(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice", "bob"])
    await follow_accepted(a, peer, ["alice"])
    peer.documents["p1"] = practice(peer, "p1", "bob", "genuine words")
    forged = practice(peer, "p1", "bob", "words put in bob's mouth")
    announce = {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Announce",
        "actor": peer.actor_id("alice"),
        "object": forged,
        "to": [f"{AS}#Public"],
    }
    status, answer = await peer.send("alice", f"{a.actor_id}/inbox", announce)
    assert status == 202, answer
    await until(lambda: settled(a, 1), what="the Announce to be processed")
    item = (await library(a))[peer.object_id("p1")]
    assert "genuine words" in (item.content_html or "")
    assert "mouth" not in json.dumps(item.document)
    assert ("/objects/p1", True) in peer.fetches  # a signed GET of the origin


async def test_only_the_author_updates_or_deletes_and_replays_change_nothing(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice", "bob"])
    await follow_accepted(a, peer, ["alice", "bob"])
    url = f"{a.actor_id}/inbox"
    original = practice(peer, "p2", "alice", "first version", updated="2026-01-01T00:00:00Z")
    create = {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Create",
        "actor": peer.actor_id("alice"),
        "object": original,
        "to": [f"{AS}#Public"],
    }
    assert (await peer.send("alice", url, create))[0] == 202
    await until(lambda: settled(a, 1), what="the Create")
    assert "first version" in ((await library(a))[original["id"]].content_html or "")

    # Bob, on the same server and followed too, tries to change and delete it.
    hijack = practice(peer, "p2", "bob", "bob's version", updated="2026-02-01T00:00:00Z")
    update = {
        "@context": AS,
        "id": peer.new_id("bob"),
        "type": "Update",
        "actor": peer.actor_id("bob"),
        "object": hijack,
    }
    status, answer = await peer.send("bob", url, update)
    assert status == 202, answer  # bob's own object by its attribution; the handler decides
    delete = {
        "@context": AS,
        "id": peer.new_id("bob"),
        "type": "Delete",
        "actor": peer.actor_id("bob"),
        "object": original["id"],
    }
    assert (await peer.send("bob", url, delete))[0] == 202
    # The same Create again, and a changed body under the same activity id.
    replay = dict(create, object=dict(original, content="<p>replayed change</p>"))
    for body in (create, replay):
        status, answer = await peer.send("alice", url, body)
        assert status == 202, answer

    await until(lambda: settled(a, 3), what="the Update and the Delete")
    item = (await library(a))[original["id"]]
    assert (item.actor_uri, item.deleted_at) == (peer.actor_id("alice"), None)
    assert "first version" in (item.content_html or "")
    async with a.rt.sessions() as session:
        stored = await session.execute(select(func.count()).select_from(InboxItem))
        assert stored.scalar() == 3  # the replays were not stored again
