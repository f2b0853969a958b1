"""Inbox fuzz over the real HTTP stack: never a 5xx, never an unhandled exception.

A real instance and a Mastodon-shaped peer run on loopback in a background event
loop; hypothesis (which drives synchronous tests) POSTs hostile activities to the
inbox, unsigned, with broken signatures, or validly signed by the peer's actors so
that they reach the checks after the signature and the handlers. Afterwards every
activity the inbox took is processed without an internal error.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from federation.store.models import InboxItem
from tests.support.fuzz import TYPES, as2_document, as2_value
from tests.support.instance import Instance, make_instance
from tests.support.peer import Peer, start_peer

T = TypeVar("T")
MODES = ["signed", "signed-other-actor", "unsigned", "broken-signature", "raw-bytes"]


@dataclass
class Served:
    instance: Instance
    peer: Peer
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    tmp = tmp_path_factory.mktemp("fuzz")
    served = Served(None, None, loop)  # type: ignore[arg-type]
    served.instance = served.run(make_instance(tmp, "collectif", inbox={"per_actor_burst": 100000}))
    served.peer = served.run(start_peer(["alice", "bob"]))
    try:
        yield served
    finally:
        served.run(served.peer.stop())
        served.run(served.instance.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("POST", parts.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@given(
    data=st.data(),
    document=as2_document(2),
    kind=TYPES,
    obj=as2_value(2),
    mode=st.sampled_from(MODES),
    raw=st.binary(max_size=200),
)
def test_inbox_never_answers_5xx(
    served: Served,
    data: st.DataObject,
    document: dict[str, Any],
    kind: str,
    obj: Any,
    mode: str,
    raw: bytes,
) -> None:
    peer, instance = served.peer, served.instance
    url = f"{instance.actor_id}/inbox"
    name = data.draw(st.sampled_from(["alice", "bob"]))
    # Mostly shaped like a real activity from the peer, so that the deeper checks run.
    if data.draw(st.booleans()):
        document = {
            **document,
            "id": f"{peer.actor_id(name)}#fuzz/{uuid.uuid4()}",
            "type": kind,
            "actor": peer.actor_id(name),
            "object": data.draw(st.sampled_from([obj, instance.actor_id, {**document}])),
        }
    body = raw if mode == "raw-bytes" else json.dumps(document).encode()
    headers = {"Content-Type": "application/activity+json"}
    if mode == "signed":
        headers = peer.signed_headers(name, url, body)
    elif mode == "signed-other-actor":
        headers = peer.signed_headers("bob" if name == "alice" else "alice", url, body)
    elif mode == "broken-signature":
        headers = peer.signed_headers(name, url, body)
        headers["Signature"] = headers["Signature"][: data.draw(st.integers(0, 200))]
    elif mode == "raw-bytes":
        headers = peer.signed_headers(name, url, body)
    status, answer = post(url, body, headers)
    assert status < 500, (status, answer[:300])
    assert status in (202, 400, 401, 403, 404, 413, 429), (status, answer[:300])
    if status >= 400:
        assert json.loads(answer)["error"]


def test_what_the_fuzz_let_in_is_processed_without_internal_error(served: Served) -> None:
    async def items() -> list[InboxItem]:
        async with served.instance.rt.sessions() as session:
            return list((await session.execute(select(InboxItem))).scalars())

    async def settle() -> list[InboxItem]:
        for _ in range(300):
            found = await items()
            if all(item.state != "received" or item.attempts > 0 for item in found):
                return found
            await asyncio.sleep(0.1)
        return await items()

    found = served.run(settle())
    errors = [item.last_error for item in found if "internal error" in (item.last_error or "")]
    assert not errors, errors[:5]
