"""Hostile or broken inbox POSTs: each gets a 4xx with a reason, and nothing is stored."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from federation import http_signatures, proofs
from federation.store.models import Follower, InboxItem, RemoteActor
from tests.conftest import InstanceFactory, PeerFactory
from tests.support.instance import Instance
from tests.support.peer import Peer
from tests.support.wait import until


def follow_of(peer: Peer, target: str, name: str = "alice") -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(name),
        "type": "Follow",
        "actor": peer.actor_id(name),
        "object": target,
    }


@dataclass(frozen=True)
class Case:
    """Build (body, headers) for a POST to `url`; expect `status` and `reason`."""

    name: str
    build: Callable[[Peer, str, str], tuple[bytes, dict[str, str]]]
    status: int
    reason: str


def _signed(peer: Peer, url: str, body: bytes, name: str = "alice") -> dict[str, str]:
    return peer.signed_headers(name, url, body)


def unsigned(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    return json.dumps(follow_of(peer, target)).encode(), {"Content-Type": "application/json"}


def wrong_digest(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow_of(peer, target)).encode()
    headers = _signed(peer, url, body)
    # The signature covers the header, so it verifies; only the digest check fails.
    other = json.dumps(follow_of(peer, target)).encode()
    key_id = f"{peer.actor_id('alice')}#main-key"
    now = datetime.now(UTC)
    resigned = http_signatures.sign_cavage("POST", url, {}, other, key_id, peer.key, now)
    return body, {**headers, **resigned}


def body_changed(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow_of(peer, target)).encode()
    headers = _signed(peer, url, body)
    return body.replace(b"Follow", b"Block "), headers


def corrupted(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow_of(peer, target)).encode()
    headers = _signed(peer, url, body)
    value = headers["Signature"]
    start = value.index('signature="') + len('signature="')
    raw = bytearray(base64.b64decode(value[start : value.index('"', start)]))
    raw[10] ^= 0xFF
    flipped = base64.b64encode(bytes(raw)).decode()
    headers["Signature"] = value[:start] + flipped + value[value.index('"', start) :]
    return body, headers


def stale(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow_of(peer, target)).encode()
    key_id = f"{peer.actor_id('alice')}#main-key"
    then = datetime.now(UTC) - timedelta(hours=2)
    signed = http_signatures.sign_cavage("POST", url, {}, body, key_id, peer.key, then)
    return body, {"Content-Type": "application/activity+json", **signed}


def not_key_owner(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    # Signed by alice, but claims to be bob's Follow.
    body = json.dumps(follow_of(peer, target, name="bob")).encode()
    return body, _signed(peer, url, body, name="alice")


def key_not_held(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow_of(peer, target)).encode()
    key_id = f"{peer.actor_id('alice')}#other-key"
    now = datetime.now(UTC)
    signed = http_signatures.sign_cavage("POST", url, {}, body, key_id, peer.key, now)
    return body, {"Content-Type": "application/activity+json", **signed}


def unknown_actor(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow_of(peer, target, name="ghost")).encode()
    return body, _signed(peer, url, body, name="ghost")


def invalid_json(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = b'{"type": "Follow",'
    return body, _signed(peer, url, body)


def not_an_object(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = b"[1, 2, 3]"
    return body, _signed(peer, url, body)


def too_deep(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    doc: dict[str, Any] = follow_of(peer, target)
    nested: Any = "x"
    for _ in range(200):
        nested = [nested]
    doc["junk"] = nested
    body = json.dumps(doc).encode()
    return body, _signed(peer, url, body)


def oversize(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    doc = follow_of(peer, target)
    doc["padding"] = "x" * (2 * 1024 * 1024)
    body = json.dumps(doc).encode()
    return body, _signed(peer, url, body)


def no_id(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    doc = follow_of(peer, target)
    del doc["id"]
    body = json.dumps(doc).encode()
    return body, _signed(peer, url, body)


def foreign_object(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id("alice"),
        "type": "Create",
        "actor": peer.actor_id("alice"),
        "object": {
            "id": "https://elsewhere.example/notes/1",
            "type": "Note",
            "attributedTo": peer.actor_id("alice"),
            "content": "forged",
        },
    }
    body = json.dumps(doc).encode()
    return body, _signed(peer, url, body)


def misattributed(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id("alice"),
        "type": "Create",
        "actor": peer.actor_id("alice"),
        "object": {
            "id": f"{peer.base}/notes/1",
            "type": "Note",
            "attributedTo": peer.actor_id("bob"),
            "content": "in bob's name",
        },
    }
    body = json.dumps(doc).encode()
    return body, _signed(peer, url, body)


CASES = [
    Case("unsigned", unsigned, 401, "not signed"),
    Case("wrong digest", wrong_digest, 401, "digest"),
    Case("body changed after signing", body_changed, 401, "digest"),
    Case("corrupted signature", corrupted, 401, "does not verify"),
    Case("stale date", stale, 401, "too old"),
    Case("actor is not the key owner", not_key_owner, 401, "does not belong"),
    Case("key not held by the actor", key_not_held, 401, "key"),
    Case("unknown actor (404)", unknown_actor, 401, "fetch"),
    Case("invalid JSON", invalid_json, 400, "not valid JSON"),
    Case("not a JSON object", not_an_object, 400, "not a JSON object"),
    Case("too deep JSON", too_deep, 400, "nested deeper"),
    Case("oversize body", oversize, 413, "too large"),
    Case("activity without id", no_id, 400, "id"),
    Case("object on another host", foreign_object, 401, "server"),
    Case("object attributed to another", misattributed, 401, "attributed"),
]


async def stored_counts(instance: Instance) -> tuple[int, int, int]:
    async with instance.rt.sessions() as session:
        items = (await session.execute(select(func.count()).select_from(InboxItem))).scalar()
        followers = (await session.execute(select(func.count()).select_from(Follower))).scalar()
        actors = (
            await session.execute(
                select(func.count()).select_from(RemoteActor).where(RemoteActor.username == "bob")
            )
        ).scalar()
    return int(items or 0), int(followers or 0), int(actors or 0)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_refused_with_reason_and_nothing_stored(
    case: Case, instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice", "bob"])
    url = f"{a.actor_id}/inbox"
    body, headers = case.build(peer, url, a.actor_id)
    status, answer = await peer.post(url, body, headers)
    assert status == case.status, answer
    assert case.reason.lower() in str(answer.get("error", "")).lower(), answer
    assert await stored_counts(a) == (0, 0, 0)


async def test_valid_follow_is_stored_once_even_if_replayed(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    follow = follow_of(peer, a.actor_id)
    for _ in range(3):
        status, _answer = await peer.send("alice", f"{a.actor_id}/inbox", follow)
        assert status == 202

    async def accepted() -> bool:
        return (await stored_counts(a))[:2] == (1, 1) and len(peer.inbox_of("Accept")) == 1

    await until(accepted, what="one follower and one Accept")


@pytest.mark.parametrize("accept_rfc9421", [True, False])
async def test_rfc9421_verified_or_refused_for_second_knock(
    accept_rfc9421: bool, instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", signatures={"accept_rfc9421": accept_rfc9421})
    peer = await peers(["alice"])
    status, answer = await peer.send(
        "alice", f"{a.actor_id}/inbox", follow_of(peer, a.actor_id), scheme="rfc9421"
    )
    if accept_rfc9421:
        assert status == 202, answer
    else:
        # 401 makes Fedify-style senders knock again with draft-cavage.
        assert status == 401
        assert "RFC 9421" in answer["error"]
        status, answer = await peer.send(
            "alice", f"{a.actor_id}/inbox", follow_of(peer, a.actor_id)
        )
        assert status == 202, answer


async def test_integrity_proof_verified_and_tampering_refused(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    good = peer.with_proof("alice", follow_of(peer, a.actor_id))
    status, answer = await peer.send("alice", url, good)
    assert status == 202, answer
    # Altered after the proof was made (the HTTP signature is made afterwards, so
    # only the proof can tell).
    tampered = peer.with_proof("alice", follow_of(peer, a.actor_id))
    tampered["object"] = f"{a.base_url}/users/someone-else"
    status, answer = await peer.send("alice", url, tampered)
    assert status == 401
    assert "integrity proof refused" in answer["error"]
    # A proof made with another actor's key is refused too.
    foreign = follow_of(peer, a.actor_id)
    foreign = proofs.create_proof(
        foreign, peer.ed_key, f"{peer.actor_id('bob')}#ed25519-key", datetime.now(UTC)
    )
    status, answer = await peer.send("alice", url, foreign)
    assert status == 401
    assert "another actor" in answer["error"]
