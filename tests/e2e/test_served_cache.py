"""Actor documents and WebFinger answers are served from memory with an ETag; a change
is seen at once when made by this process, within `served.TTL` when made by another."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from federation import served
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_inbox_refusals import follow_of
from tests.support.instance import Instance

AS = {"Accept": "application/activity+json"}
# Seen within served.TTL + 1 s: a bound a loaded machine could break.
WITHIN_TTL = pytest.mark.serial("bounds how soon another process's change is seen")


async def get(url: str, headers: dict[str, str]) -> tuple[int, CIMultiDict[str], bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers=headers, allow_redirects=False) as response,
    ):
        return response.status, CIMultiDict(response.headers), await response.read()


def finger_url(instance: Instance) -> str:
    return f"{instance.base_url}/.well-known/webfinger?resource=acct:{instance.handle}"


async def declics_elsewhere(instance: Instance, *args: str) -> None:
    """Run the command line in another process, as an operator would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "federation",
        *args,
        "--data-dir",
        str(instance.data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (out, err)


async def name_seen_within(url: str, name: str, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        status, _headers, body = await get(url, AS)
        assert status == 200
        if name.encode() in body:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name!r} not served within {seconds} s")


async def test_actor_and_webfinger_answer_304_to_their_etag(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    for url, accept in ((a.actor_id, AS), (finger_url(a), {"Accept": "application/jrd+json"})):
        status, headers, body = await get(url, accept)
        assert status == 200 and body
        etag = headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"')
        for sent in (etag, f"W/{etag}", f'"other", {etag}'):
            status, again, body = await get(url, {**accept, "If-None-Match": sent})
            assert status == 304 and body == b""
            assert again["ETag"] == etag
            assert again["Cache-Control"] == headers["Cache-Control"]
        status, _headers, body = await get(url, {**accept, "If-None-Match": '"other"'})
        assert status == 200 and body


async def test_a_profile_change_of_this_process_is_served_at_once(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    status, headers, _body = await get(a.actor_id, AS)
    assert status == 200
    async with a.rt.sessions.begin() as session:
        org: Any = await session.merge(await a.organisation())
        org.name = "Collectif renommé"
    status, again, body = await get(a.actor_id, {**AS, "If-None-Match": headers["ETag"]})
    assert status == 200 and "Collectif renommé".encode() in body
    assert again["ETag"] != headers["ETag"]


@WITHIN_TTL
async def test_a_profile_change_of_another_process_is_served_within_the_ttl(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    assert (await get(a.actor_id, AS))[0] == 200  # now in the cache
    await declics_elsewhere(a, "profile", "--name", "Nom changé ailleurs")
    waited = await name_seen_within(a.actor_id, "Nom changé ailleurs", served.TTL + 3.0)
    assert waited <= served.TTL + 1.0


@WITHIN_TTL
async def test_a_move_recorded_by_another_process_redirects_within_the_ttl(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    profile = f"{a.base_url}/@{a.username}"
    assert (await get(profile, {"Accept": "text/html"}))[0] == 200  # "nobody moved" cached
    assert (await get(finger_url(a), {}))[0] == 200
    new_home = "https://ailleurs.example/users/collectif"
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from sqlalchemy import update\n"
        "from federation.runtime import build_runtime\n"
        "from federation.settings import load_settings\n"
        "from federation.store.models import LocalActor\n"
        "async def main():\n"
        "    rt = build_runtime(load_settings(Path(sys.argv[1])))\n"
        "    async with rt.sessions.begin() as s:\n"
        "        await s.execute(update(LocalActor).where(LocalActor.username == sys.argv[2])"
        ".values(moved_to=sys.argv[3]))\n"
        "    await rt.close()\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(a.data_dir), a.username, new_home
    )
    assert await process.wait() == 0
    written = time.monotonic()
    while True:
        status, headers, _body = await get(profile, {"Accept": "text/html"})
        if status == 301:
            assert headers["Location"] == new_home
            break
        assert status == 200
        assert time.monotonic() - written <= served.TTL + 1.0, "the move was not seen"
        await asyncio.sleep(0.1)
    # The WebFinger answer was kept apart: it has its own TTL from the same write.
    while new_home.encode() not in (await get(finger_url(a), {}))[2]:
        assert time.monotonic() - written <= served.TTL + 1.0, "WebFinger still old"
        await asyncio.sleep(0.1)


@WITHIN_TTL
async def test_a_block_recorded_by_another_process_applies_within_the_ttl(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    inbox = f"{a.actor_id}/inbox"
    status, _answer = await peer.send("alice", inbox, follow_of(peer, a.actor_id))
    assert status == 202  # the blocks (none) are now in memory

    async def answer_becomes(expected: int) -> None:
        started = time.monotonic()
        while True:
            status, _answer = await peer.send("alice", inbox, follow_of(peer, a.actor_id))
            if status == expected:
                return
            assert time.monotonic() - started <= served.TTL + 1.0, f"still {status}"
            await asyncio.sleep(0.1)

    await declics_elsewhere(a, "block", "domain", peer.ip)
    await answer_becomes(403)
    await declics_elsewhere(a, "unblock", "domain", peer.ip)
    await answer_becomes(202)
