"""Key rotation without a move: followers (a Déclics member, a Mastodon-shaped
account) keep verifying every delivery, before, during and after the rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from federation import http_signatures, keypairs
from federation.actors import local
from federation.store.models import Delivery, InboxItem, RemoteKey
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by, post
from tests.e2e.test_federation import follow, following_state
from tests.e2e.test_portability_archive import declics
from tests.support.instance import Instance
from tests.support.peer import Peer
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}
AS2 = {"Accept": "application/activity+json"}


async def actor_document(instance: Instance) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(instance.actor_id, headers=AS2) as response,
    ):
        return dict(await response.json(content_type=None))


async def all_delivered(a: Instance, peer: Peer, count: int) -> bool:
    """Every delivery of A's is delivered (2xx, so the signature verified), and the
    peer has `count` posts from A, all verified."""
    async with a.rt.sessions() as session:
        states = set((await session.execute(select(Delivery.state))).scalars())
    from_a = [r for r in peer.received if r.activity.get("actor") == a.actor_id]
    return states == {"delivered"} and len(from_a) >= count


async def test_followers_keep_verifying_across_a_key_rotation(
    instances: InstanceFactory,
    peers: PeerFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    mastodon = await peers(["alice"])
    await follow(b, a.handle)

    async def accepted() -> bool:
        return await following_state(b, a) == "accepted"

    await until(accepted, what="B's follow")
    await followed_by(a, mastodon)
    await post(a, "avant la rotation")
    await until(lambda: all_delivered(a, mastodon, 2), what="deliveries before")

    # Rotate: both keys published, the current one first; an Update tells followers
    code, _out, err = await declics(
        monkeypatch, capsys, ["keys", "rotate", "--data-dir", str(a.data_dir)], stdin=""
    )
    assert code == 0, err
    a.rt.delivery_wakeup.set()
    document = await actor_document(a)
    published = document["publicKey"]
    assert isinstance(published, list)
    assert [k["id"] for k in published] == [f"{a.actor_id}#main-key", f"{a.actor_id}#main-key-1"]
    methods = [m["id"] for m in document["assertionMethod"]]  # type: ignore[attr-defined]
    assert methods == [f"{a.actor_id}#ed25519-key", f"{a.actor_id}#ed25519-key-1"]
    await until(lambda: all_delivered(a, mastodon, 3), what="the first Update")

    async def b_knows_both() -> bool:
        async with b.rt.sessions() as session:
            ids = set(
                (
                    await session.execute(
                        select(RemoteKey.key_id).where(RemoteKey.owner_uri == a.actor_id)
                    )
                ).scalars()
            )
        return {f"{a.actor_id}#main-key", f"{a.actor_id}#main-key-1"} <= ids

    await until(b_knows_both, what="B fetching the new key")
    await post(a, "pendant la rotation")
    await until(lambda: all_delivered(a, mastodon, 4), what="deliveries during")

    # During the grace period B accepts a request signed with the new key too
    org = await a.organisation()
    assert org.next_rsa_private_pem is not None
    new_key = keypairs.private_from_pem(org.next_rsa_private_pem)
    assert isinstance(new_key, rsa.RSAPrivateKey)
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{a.actor_id}#updates/signed-with-the-new-key",
        "type": "Update",
        "actor": a.actor_id,
        "object": a.actor_id,
    }
    body = json.dumps(activity).encode()
    url = f"{b.actor_id}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= http_signatures.sign_cavage(
        "POST",
        url,
        headers,
        body,
        f"{a.actor_id}#main-key-1",
        new_key,
        datetime.now(UTC),
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers=headers) as response,
    ):
        assert response.status == 202, await response.text()

    # Drop the old keys: the new one signs, the document lists it alone
    code, _out, err = await declics(
        monkeypatch, capsys, ["keys", "drop-old", "--data-dir", str(a.data_dir)], stdin=""
    )
    assert code == 0, err
    a.rt.delivery_wakeup.set()
    document = await actor_document(a)
    assert document["publicKey"]["id"] == f"{a.actor_id}#main-key-1"  # type: ignore[index]
    async with a.rt.sessions() as session:
        moved = await local.find(session, local.domain_of(a.base_url), "collectif")
        assert moved is not None and moved.key_generation == 1
        assert moved.rsa_private_pem == org.next_rsa_private_pem
    await post(a, "après la rotation")
    await until(lambda: all_delivered(a, mastodon, 6), what="deliveries after")

    # Every request the Mastodon-shaped follower got from A verified
    from_a = [r for r in mastodon.received if r.activity.get("actor") == a.actor_id]
    assert all(r.verified for r in from_a), [r.reason for r in from_a if not r.verified]
    signed_with = {r.headers["signature"].split('keyId="', 1)[1].split('"', 1)[0] for r in from_a}
    assert signed_with == {f"{a.actor_id}#main-key", f"{a.actor_id}#main-key-1"}

    # And B processed A's notes and updates, whichever key signed them
    async def b_processed() -> bool:
        async with b.rt.sessions() as session:
            items = list(
                (
                    await session.execute(
                        select(InboxItem).where(InboxItem.actor_uri == a.actor_id)
                    )
                ).scalars()
            )
        return len(items) >= 6 and all(i.state in ("processed", "ignored") for i in items)

    await until(b_processed, what="B processing A's activities")

    # A second rotation cannot start before the first ends, nor drop-old twice
    code, _out, err = await declics(
        monkeypatch, capsys, ["keys", "drop-old", "--data-dir", str(a.data_dir)], stdin=""
    )
    assert code == 2 and "no key rotation under way" in err
