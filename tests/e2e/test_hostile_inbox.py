"""Hostile inbox POSTs over real HTTP: each gets its answer and changes nothing.

One instance and one Mastodon-shaped peer serve the whole table (module scope), so
"nothing stored or changed" is checked against the same database after every case:
a snapshot of every table an inbound activity could touch is taken before and after.
The cases are listed in THREAT_MODEL.md (rows I-16 onwards; I-1 to I-15 are in
test_inbox_refusals.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.support.instance import Instance, make_instance
from tests.support.peer import Peer, start_peer
from tests.support.snapshot import snapshot

pytestmark = pytest.mark.asyncio(loop_scope="module")

AS = "https://www.w3.org/ns/activitystreams"
Build = Callable[[Peer, str, str], tuple[bytes, dict[str, str]]]


@dataclass(frozen=True)
class Case:
    name: str
    build: Build
    status: int
    reason: str


@dataclass
class World:
    instance: Instance
    peer: Peer


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    instance = await make_instance(tmp, "collectif")
    peer = await start_peer(["alice", "bob"])
    yield World(instance, peer)
    await peer.stop()
    await instance.stop()


# -- building requests --------------------------------------------------------


def follow(peer: Peer, target: str, name: str = "alice", **extra: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.new_id(name),
        "type": "Follow",
        "actor": peer.actor_id(name),
        "object": target,
        **extra,
    }


def create(peer: Peer, obj: dict[str, Any], name: str = "alice") -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.new_id(name),
        "type": "Create",
        "actor": peer.actor_id(name),
        "object": obj,
    }


def signed(peer: Peer, url: str, doc: Any, name: str = "alice") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(doc).encode()
    return body, peer.signed_headers(name, url, body)


def raw_signed(peer: Peer, url: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, peer.signed_headers("alice", url, body)


def cavage(
    peer: Peer,
    url: str,
    body: bytes,
    covered: list[str],
    *,
    date: datetime | None = None,
    key_id: str | None = None,
    algorithm: str = "rsa-sha256",
    digest: str | None = None,
) -> dict[str, str]:
    """A draft-cavage signature over exactly `covered`, made by hand."""
    path = url.split("/", 3)[3]
    headers = {
        "Host": url.split("/")[2],
        "Date": (date or datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Digest": digest or "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
        "Content-Type": "application/activity+json",
    }
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): post /{path}")
        else:
            lines.append(f"{name}: {headers[name.title()]}")
    raw = peer.key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    key = key_id or f"{peer.actor_id('alice')}#main-key"
    headers["Signature"] = (
        f'keyId="{key}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode()}"'
    )
    return headers


def with_signature(value: str) -> Build:
    def build(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(follow(peer, target)).encode()
        headers = peer.signed_headers("alice", url, body)
        headers["Signature"] = value.replace("{actor}", peer.actor_id("alice"))
        return body, headers

    return build


def document(make: Callable[[Peer, str], Any]) -> Build:
    def build(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
        return signed(peer, url, make(peer, target))

    return build


def body_bytes(raw: bytes) -> Build:
    def build(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
        return raw_signed(peer, url, raw)

    return build


FULL = ["(request-target)", "host", "date", "digest"]


def no_digest_covered(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, cavage(peer, url, body, ["(request-target)", "host", "date"])


def no_date_covered(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, cavage(peer, url, body, ["(request-target)", "host", "digest"])


def no_target_covered(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, cavage(peer, url, body, ["host", "date", "digest"])


def future_date(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    later = datetime.now(UTC) + timedelta(hours=3)
    return body, cavage(peer, url, body, FULL, date=later)


def signed_for_other_path(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, peer.signed_headers("alice", url.replace("/inbox", "/outbox"), body)


def digest_missing(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    headers = peer.signed_headers("alice", url, body)
    del headers["Digest"]
    return body, headers


def md5_digest(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    fake = "MD5=" + base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324
    return body, cavage(peer, url, body, FULL, digest=fake)


def hmac_algorithm(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, cavage(peer, url, body, FULL, algorithm="hmac-sha256")


def file_key_id(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, cavage(peer, url, body, FULL, key_id="file:///etc/passwd")


def other_host_key(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    # The key id names another server: the key is looked up there and not found.
    body = json.dumps(follow(peer, target)).encode()
    return body, cavage(peer, url, body, FULL, key_id="http://127.0.0.1:9/users/alice#main-key")


def garbage_signature_input(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    headers = peer.signed_headers("alice", url, body)
    headers["Signature-Input"] = "sig1=((((("
    headers["Signature"] = "sig1=:AAAA:"
    return body, headers


def rfc9421_no_signature(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    headers = peer.signed_headers("alice", url, body, scheme="rfc9421")
    del headers["Signature"]
    return body, headers


def authorization_garbage(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    return body, {
        "Content-Type": "application/activity+json",
        "Authorization": "Signature ???",
    }


def header_line_break(peer: Peer, url: str, target: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(follow(peer, target)).encode()
    headers = peer.signed_headers("alice", url, body)
    headers["Signature"] = headers["Signature"].replace('headers="', 'headers="x-evil ')
    return body, headers


def forged_activity_id(peer: Peer, target: str) -> dict[str, Any]:
    return follow(peer, target, id="http://127.0.0.1:9/activities/forged")


def note(peer: Peer, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{peer.base}/notes/{hash(str(extra)) & 0xFFFF}",
        "type": "Note",
        "attributedTo": peer.actor_id("alice"),
        "content": "hello",
        "to": [f"{AS}#Public"],
        **extra,
    }


def update_foreign(peer: Peer, target: str) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Update",
        "actor": peer.actor_id("alice"),
        "object": note(peer, id="http://127.0.0.1:9/notes/1"),
    }


def update_misattributed(peer: Peer, target: str) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Update",
        "actor": peer.actor_id("alice"),
        "object": note(peer, attributedTo=peer.actor_id("bob")),
    }


def update_of_other_actor(peer: Peer, target: str) -> dict[str, Any]:
    bob = peer.actor_document("bob")
    bob["name"] = "Bob, as alice says"
    return {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Update",
        "actor": peer.actor_id("alice"),
        "object": bob,
    }


def delete_foreign(peer: Peer, target: str) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Delete",
        "actor": peer.actor_id("alice"),
        "object": target,
    }


def create_without_object_id(peer: Peer, target: str) -> dict[str, Any]:
    obj = note(peer)
    del obj["id"]
    return create(peer, obj)


def many_recipients(peer: Peer, target: str) -> dict[str, Any]:
    return create(peer, note(peer), name="alice") | {
        "cc": [f"{peer.base}/users/u{i}" for i in range(1001)]
    }


def many_object_recipients(peer: Peer, target: str) -> dict[str, Any]:
    return create(peer, note(peer, bcc=[f"{peer.base}/users/u{i}" for i in range(1001)]))


def many_keys(peer: Peer, target: str) -> dict[str, Any]:
    return follow(peer, target) | {f"k{i}": i for i in range(6000)}


def many_items(peer: Peer, target: str) -> dict[str, Any]:
    return follow(peer, target, tag=list(range(6000)))


def long_text(peer: Peer, target: str) -> dict[str, Any]:
    return create(peer, note(peer, content="x" * 300_000))


def long_key(peer: Peer, target: str) -> dict[str, Any]:
    return follow(peer, target) | {"k" * 300_000: 1}


def long_id(peer: Peer, target: str) -> dict[str, Any]:
    return follow(peer, target, id=peer.actor_id("alice") + "#" + "a" * 3000)


CASES = [
    # JSON that the decoder must refuse without crashing (I-16 … I-27)
    Case("NaN constant", body_bytes(b'{"type": "Follow", "x": NaN}'), 400, "NaN"),
    Case("Infinity constant", body_bytes(b'{"type": "Follow", "x": -Infinity}'), 400, "Infinity"),
    Case("100 000 nested arrays", body_bytes(b"[" * 100_000), 400, "nested"),
    Case("100 000 nested objects", body_bytes(b'{"a":' * 100_000), 400, "nested"),
    Case("integer of 5 000 digits", body_bytes(b'{"x": ' + b"9" * 5000 + b"}"), 400, "JSON"),
    Case("invalid UTF-8", body_bytes(b'{"type": "\xff\xfe"}'), 400, "not valid JSON"),
    Case("empty body", body_bytes(b""), 400, "not valid JSON"),
    Case("JSON string", body_bytes(b'"Follow"'), 400, "not a JSON object"),
    Case("JSON null", body_bytes(b"null"), 400, "not a JSON object"),
    Case("6 000 keys", document(many_keys), 400, "keys and items"),
    Case("6 000 array items", document(many_items), 400, "keys and items"),
    Case("text of 300 000 characters", document(long_text), 400, "longer than"),
    Case("key of 300 000 characters", document(long_key), 400, "longer than"),
    Case("1 001 recipients", document(many_recipients), 400, "recipients"),
    Case("1 001 recipients on the object", document(many_object_recipients), 400, "recipients"),
    # Signatures (I-31 …)
    Case("Signature header garbage", with_signature("xyz"), 401, "unparseable"),
    Case("Signature without keyId", with_signature('signature="AAAA"'), 401, "keyId"),
    Case(
        "Signature without signature",
        with_signature('keyId="{actor}#main-key",headers="date"'),
        401,
        "no signature",
    ),
    Case(
        "signature not base64",
        with_signature(
            'keyId="{actor}#main-key",headers="(request-target) host date digest",'
            'signature="!!!not base64!!!"'
        ),
        401,
        "base64",
    ),
    Case(
        "duplicate signature parameter",
        with_signature('keyId="a",keyId="b",signature="AAAA"'),
        401,
        "duplicate",
    ),
    Case("unsupported algorithm", hmac_algorithm, 401, "algorithm"),
    Case("digest not covered", no_digest_covered, 401, "digest"),
    Case("date not covered", no_date_covered, 401, "date"),
    Case("request target not covered", no_target_covered, 401, "request-target"),
    Case("date three hours ahead", future_date, 401, "future"),
    Case("signed for another path", signed_for_other_path, 401, "does not verify"),
    Case("signed body without Digest", digest_missing, 401, "digest"),
    Case("MD5 digest only", md5_digest, 401, "sha-256"),
    Case("keyId is a file URL", file_key_id, 401, "keyId is not an http(s) URI"),
    # Temporary: the sender is asked to retry, and nothing is kept meanwhile.
    Case("keyId on a server that does not answer", other_host_key, 503, "cannot fetch key"),
    Case("covered header absent", header_line_break, 401, "missing"),
    Case("Signature-Input garbage", garbage_signature_input, 401, "Signature-Input"),
    Case("Signature-Input without Signature", rfc9421_no_signature, 401, "without a Signature"),
    Case("Authorization garbage", authorization_garbage, 401, "signature"),
    # Activity shape and origin (I-50 …)
    Case(
        "no type",
        document(lambda p, t: {k: v for k, v in follow(p, t).items() if k != "type"}),
        400,
        "type",
    ),
    Case(
        "no actor",
        document(lambda p, t: {k: v for k, v in follow(p, t).items() if k != "actor"}),
        400,
        "actor",
    ),
    Case(
        "javascript: actor",
        document(lambda p, t: follow(p, t, actor="javascript:alert(1)")),
        400,
        "actor",
    ),
    Case("file: id", document(lambda p, t: follow(p, t, id="file:///etc/passwd")), 400, "id"),
    Case("id longer than 2 048", document(long_id), 400, "id"),
    Case(
        "Follow without object",
        document(lambda p, t: {k: v for k, v in follow(p, t).items() if k != "object"}),
        400,
        "object",
    ),
    Case("activity id on another host", document(forged_activity_id), 401, "activity id"),
    Case("Update of an object on another host", document(update_foreign), 401, "server"),
    Case("Update attributed to another actor", document(update_misattributed), 401, "attributed"),
    Case("Update of another actor's profile", document(update_of_other_actor), 401, "own profile"),
    Case("Delete of our organisation", document(delete_foreign), 401, "another server"),
    Case("Create of an object without id", document(create_without_object_id), 401, "server"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_hostile_post_answered_and_nothing_changed(case: Case, world: World) -> None:
    instance, peer = world.instance, world.peer
    url = f"{instance.actor_id}/inbox"
    before = await snapshot(instance)
    body, headers = case.build(peer, url, instance.actor_id)
    status, answer = await peer.post(url, body, headers)
    assert status == case.status, answer
    assert case.reason.lower() in str(answer.get("error", "")).lower(), answer
    after = await snapshot(instance)
    # A verified key may be cached (that is the sender's own, fetched from its
    # origin); nothing else may appear or change.
    after.pop(f"actor {peer.actor_id('alice')}", None)
    before.pop(f"actor {peer.actor_id('alice')}", None)
    assert after == before
