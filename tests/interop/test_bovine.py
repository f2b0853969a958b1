"""Déclics against bovine-herd 0.5.19 (a Python fediverse server nobody on the team wrote),
on loopback over http: follows both ways, Accept and Note delivery, bovine's authorized
fetch (it answers only signed GETs, and signs its own), and its lower-case
`Digest: sha-256=`. The bovine side is tests/interop/bovine/bovine_peer.py, run in
bovine's own venv (`scripts/interop-setup bovine`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.actors import follows, remote
from federation.inbox.intake import signer_for
from federation.inbox.states import InboxState
from federation.outbox import follow as follow_use_cases
from federation.outbox import publish
from tests.conftest import InstanceFactory
from tests.interop import python_peers
from tests.support.instance import Instance
from tests.support.net import free_port, loopback_ip
from tests.support.queries import follower_uris, following_state, id_of, inbox_items
from tests.support.wait import until

pytestmark = pytest.mark.interop

FAST = {"poll_interval_seconds": 0.05}
FINISHED = {InboxState.PROCESSED.value, InboxState.IGNORED.value}
START_TIMEOUT = 30.0
AS_JSON = {"Accept": "application/activity+json"}


class PeerFailed(AssertionError):
    pass


@dataclass
class BovinePeer:
    """A running bovine-herd server (bovine_peer.py) with one Person actor."""

    base_url: str
    process: Any
    output_path: Path
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)
    actor_id: str = ""
    inbox: str = ""

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        if self.process.returncode is not None:
            raise PeerFailed(
                f"the bovine peer exited ({self.process.returncode}):\n{self.output()}"
            )
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        async with self._http.request(method, f"{self.base_url}{path}", json=body) as response:
            answer = await response.json(content_type=None)
            if response.status != 200:
                raise PeerFailed(f"{method} {path}: {response.status} {answer}")
            return answer

    def output(self) -> str:
        return python_peers.tail(self.output_path)

    async def log(self) -> dict[str, Any]:
        """`received` (activities as they arrived), `requests` (bovine's outgoing requests:
        method, url, status, signed, digest), `errors` (its warnings), `offline_contexts`
        (JSON-LD contexts it would have fetched), `followers`, `following`."""
        answer: dict[str, Any] = await self._call("GET", "/control/log")
        return answer

    async def received(self, activity_type: str) -> list[dict[str, Any]]:
        return [a for a in (await self.log())["received"] if a.get("type") == activity_type]

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """`tests.support.wait.until`, and on time-out say what bovine saw and logged."""
        try:
            await until(check, what=what)
        except AssertionError as err:
            log = await self.log()
            raise AssertionError(
                f"{err}\nbovine received {[a.get('type') for a in log['received']]}"
                f"\nbovine requests: {log['requests']}\nbovine warnings: {log['errors']}"
                f"\n{self.output()}"
            ) from None

    async def follow(self, target: str) -> str:
        answer = await self._call("POST", "/control/follow", {"target": target})
        return str(answer["id"])

    async def post_note(self, content: str) -> dict[str, str]:
        answer: dict[str, str] = await self._call("POST", "/control/note", {"content": content})
        return answer

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        await python_peers.stop(self.process)


@pytest.fixture
async def bovine(pytestconfig: pytest.Config, tmp_path: Path) -> AsyncIterator[BovinePeer]:
    """A started bovine peer with the actor `bob`; stopped (killed if need be) at teardown."""
    python = python_peers.python_of(pytestconfig, "bovine")
    ip = loopback_ip()
    port = free_port(ip)
    data_dir = tmp_path / "bovine"
    data_dir.mkdir()
    output_path = tmp_path / f"bovine-{ip}-{port}.log"
    process = await python_peers.start(
        python,
        python_peers.program("bovine", "bovine_peer.py"),
        ["--host", ip, "--port", str(port), "--actor", "bob", "--data-dir", str(data_dir)],
        cwd=data_dir,
        output_path=output_path,
    )
    peer = BovinePeer(f"http://{ip}:{port}", process, output_path)

    async def ready() -> bool:
        if process.returncode is not None:
            raise PeerFailed(f"the bovine peer exited ({process.returncode}):\n{peer.output()}")
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{peer.base_url}/control/log") as response,
            ):
                if response.status == 503:  # the actor is being created
                    return False
                if response.status != 200:
                    raise PeerFailed(f"{response.status} {await response.text()}")
                log = await response.json()
        except (aiohttp.ClientConnectionError, OSError):
            return False
        peer.actor_id, peer.inbox = log["actor"], log["inbox"]
        return True

    try:
        await until(ready, timeout=START_TIMEOUT, what="the bovine peer to listen")
        yield peer
    finally:
        await peer.stop()


@dataclass(frozen=True)
class Seen:
    """A request the Déclics server answered."""

    method: str
    path: str
    status: int
    signed: bool
    digest: str | None


async def recording_instance(instances: InstanceFactory) -> tuple[Instance, list[Seen]]:
    """A started Déclics instance recording each request it answers (the app
    `Instance.start` serves, plus a signal hook)."""
    instance = await instances("collectif", start=False, delivery=FAST)
    seen: list[Seen] = []

    async def record(request: web.Request, response: web.StreamResponse) -> None:
        names = {name.lower() for name in request.headers}
        signed = "signature" in names or "signature-input" in names
        digest = request.headers.get("Digest")
        seen.append(Seen(request.method, request.path, response.status, signed, digest))

    await instance.start(on_response=record)
    return instance, seen


def posts_from_bovine(seen: list[Seen], instance: Instance) -> list[Seen]:
    return [s for s in seen if s.method == "POST"]


async def assert_quiet(peer: BovinePeer) -> None:
    """bovine logged no warning or error (signature, key, digest, delivery trouble)."""
    log = await peer.log()
    assert log["errors"] == [], f"bovine logged problems: {log['errors']}\n{peer.output()}"


async def test_bovine_follows_member_and_receives_accept_and_note(
    instances: InstanceFactory, bovine: BovinePeer
) -> None:
    a, seen = await recording_instance(instances)

    # bovine follows the member by actor URL; the member accepts.
    follow_id = await bovine.follow(a.actor_id)

    async def accepted() -> bool:
        return any(id_of(x.get("object")) == follow_id for x in await bovine.received("Accept"))

    await bovine.until(accepted, "Déclics' Accept to reach bovine")
    assert await follower_uris(a) == {bovine.actor_id}
    [follow] = await inbox_items(a, "Follow")
    assert follow.activity_uri == follow_id
    [accept] = [x for x in await bovine.received("Accept") if id_of(x["object"]) == follow_id]
    assert accept["actor"] == a.actor_id

    # bovine took the accept: the member is in its following collection.
    async def in_following() -> bool:
        return a.actor_id in (await bovine.log())["following"]

    await bovine.until(in_following, "bovine to record the member in its following")

    # The member posts a note: bovine receives the Create.
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        note, _ = await publish.post_note(session, org, "Bonjour bovine", a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def got_note() -> bool:
        return any(id_of(c.get("object")) == note.uri for c in await bovine.received("Create"))

    await bovine.until(got_note, "the Create to reach bovine")
    [create] = [c for c in await bovine.received("Create") if id_of(c["object"]) == note.uri]
    assert create["actor"] == a.actor_id
    assert create["object"]["content"] == "<p>Bonjour bovine</p>"

    # bovine signs its POSTs (draft-cavage, lower-case `Digest: sha-256=`): Déclics took them.
    posts = posts_from_bovine(seen, a)
    assert posts, seen
    assert all(p.signed and p.status == 202 for p in posts), posts
    assert all(p.digest is not None and p.digest.startswith("sha-256=") for p in posts), posts
    # bovine fetched our actor with signed GETs (it fetches what it must deliver to and the
    # keys it verifies), and each was answered.
    actor_gets = [s for s in seen if s.method == "GET" and s.path == f"/users/{a.username}"]
    assert actor_gets and all(g.signed and g.status == 200 for g in actor_gets), seen
    ours = [r for r in (await bovine.log())["requests"] if r["url"].startswith(a.base_url)]
    assert all(r["status"] in (200, 202) for r in ours), ours
    await assert_quiet(bovine)


async def test_member_follows_bovine_actor_and_receives_its_post(
    instances: InstanceFactory, bovine: BovinePeer
) -> None:
    a, seen = await recording_instance(instances)

    # bovine only answers signed GETs of its actor (authorized fetch).
    async with (
        aiohttp.ClientSession() as http,
        http.get(bovine.actor_id, headers=AS_JSON) as response,
    ):
        assert response.status == 401

    # The member follows bovine's actor: our fetch is a signed GET, which bovine answers.
    org = await a.organisation()
    signer = await signer_for(a.rt, org.domain)
    target = await remote.resolve(a.rt, bovine.actor_id, signer)
    assert target.inbox == bovine.inbox
    async with a.rt.sessions.begin() as session:
        follow_id = await follow_use_cases.follow(session, org, target, a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def accepted() -> bool:
        return await following_state(a, bovine.actor_id) == follows.ACCEPTED

    await bovine.until(accepted, "bovine's Accept to reach Déclics")
    [follow] = [f for f in await bovine.received("Follow") if f.get("id") == follow_id]
    assert follow["actor"] == a.actor_id
    assert a.actor_id in (await bovine.log())["followers"]

    # bovine posts a public note to its followers: the member's server stores it.
    sent = await bovine.post_note("<p>Bonjour de bovine</p>")

    async def stored() -> bool:
        return any(i.activity_uri == sent["id"] for i in await inbox_items(a, "Create"))

    await bovine.until(stored, "bovine's Create to be stored by Déclics")
    [item] = [i for i in await inbox_items(a, "Create") if i.activity_uri == sent["id"]]
    assert item.actor_uri == bovine.actor_id
    assert id_of(item.payload["object"]) == sent["object"]

    async def finished() -> bool:
        [row] = [i for i in await inbox_items(a, "Create") if i.activity_uri == sent["id"]]
        return row.state in FINISHED

    await bovine.until(finished, "the inbox worker to process bovine's Create")

    # Every POST bovine made to us (the Accept, the Create) was verified and accepted, with
    # its lower-case digest.
    posts = posts_from_bovine(seen, a)
    assert len(posts) >= 2, seen
    assert all(p.status == 202 and p.digest and p.digest.startswith("sha-256=") for p in posts)
    await assert_quiet(bovine)
