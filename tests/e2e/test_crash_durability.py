"""A server killed with SIGKILL in the middle of a fan-out loses no delivery."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from federation.actors import local
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import Delivery, Follower, RemoteActor
from tests.conftest import PeerFactory
from tests.support.instance import init_instance
from tests.support.serve import start_server
from tests.support.wait import until

FOLLOWERS = 300


async def seed_followers(data_dir: Path, peer_users: list[tuple[str, str]]) -> None:
    """Followers on a peer, each with its own inbox (no shared inbox to fold them)."""
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions.begin() as session:
            org = (await local.organisations(session))[0]
            now = rt.clock.now()
            for actor_id, inbox in peer_users:
                actor = RemoteActor(
                    uri=actor_id,
                    host=actor_id.split("/")[2].split(":")[0],
                    actor_type="Person",
                    username=actor_id.rsplit("/", 1)[1],
                    name=None,
                    inbox=inbox,
                    shared_inbox=None,
                    url=None,
                    document={},
                    fetched_at=now,
                )
                session.add(actor)
                await session.flush()
                session.add(
                    Follower(
                        local_actor_id=org.id,
                        remote_actor_id=actor.id,
                        follow_activity_uri=f"{actor_id}#follow",
                        state="accepted",
                        created_at=now,
                        accepted_at=now,
                    )
                )
    finally:
        await rt.close()


SERVER_ENV = {
    "DECLICS_DELIVERY__LEASE_SECONDS": "3",
    "DECLICS_DELIVERY__CONCURRENCY": "8",
    "DECLICS_DELIVERY__PER_HOST_CONCURRENCY": "8",
    "DECLICS_DELIVERY__POLL_INTERVAL_SECONDS": "0.2",
}


async def run_cli(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "federation",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.heavy("a SIGKILL timed against progress")
async def test_sigkill_during_fan_out_loses_no_delivery(tmp_path: Path, peers: PeerFactory) -> None:
    # Given a member with 300 followers, each with its own inbox on a slow peer
    names = [f"f{i}" for i in range(FOLLOWERS)]
    peer = await peers(names, shared_inbox=False)
    peer.delay = 0.05
    data_dir, base_url = await asyncio.to_thread(init_instance, tmp_path, "collectif")
    await seed_followers(data_dir, [(peer.actor_id(n), peer.inbox(n)) for n in names])
    server = await start_server(data_dir, base_url, SERVER_ENV)
    try:
        # When a note is posted from the command line while the server runs,
        # and the server is killed with SIGKILL in the middle of the fan-out
        await run_cli("post", "--data-dir", str(data_dir), "Annonce importante")
        await until(lambda: _at_least(peer, 40), timeout=30, what="fan-out to start")
        server.send_signal(signal.SIGKILL)
        await server.wait()
        delivered_before_kill = len({r.path for r in peer.received})
        assert delivered_before_kill < FOLLOWERS, "the kill came too late to test anything"

        # Then after a restart every inbox gets the note, each signed
        server = await start_server(data_dir, base_url, SERVER_ENV)
        await until(lambda: _at_least(peer, FOLLOWERS), timeout=90, what="every delivery")
        # Rows the killed process held are re-sent once their lease expires.
        await until(lambda: _all_delivered(data_dir), timeout=30, what="the ledger to settle")
    finally:
        server.send_signal(signal.SIGKILL)
        await server.wait()
    paths = {r.path for r in peer.received}
    assert paths == {f"/users/{n}/inbox" for n in names}
    assert all(r.verified for r in peer.received), [r.reason for r in peer.received][:3]
    assert {r.activity["type"] for r in peer.received} == {"Create"}
    assert await ledger_states(data_dir) == {"delivered": FOLLOWERS}


async def ledger_states(data_dir: Path) -> dict[str, int]:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            rows = await session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)
            )
            return {state: count for state, count in rows.all()}
    finally:
        await rt.close()


async def _all_delivered(data_dir: Path) -> bool:
    return await ledger_states(data_dir) == {"delivered": FOLLOWERS}


async def _at_least(peer: object, count: int) -> bool:
    from tests.support.peer import Peer

    assert isinstance(peer, Peer)
    return len({r.path for r in peer.received}) >= count
