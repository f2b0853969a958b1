"""Shared fixtures: real Déclics instances and Mastodon-shaped peers on loopback."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.instance import Instance, make_instance
from tests.support.peer import Peer, start_peer
from tests.support.postgres import drop_session_databases, instance_backend, session_server

InstanceFactory = Callable[..., Awaitable[Instance]]
PeerFactory = Callable[..., Awaitable[Peer]]


def pytest_report_header(config: pytest.Config) -> str:
    return f"declics instances on: {instance_backend()}"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `heavy` share one xdist group, so one worker runs them one after the
    other (with `--dist loadgroup`). With DECLICS_TEST_DATABASE=postgresql, tests that
    only make sense on SQLite are skipped, and everything is skipped when there is no
    PostgreSQL to run on."""
    for item in items:
        if item.get_closest_marker("heavy") is not None:
            item.add_marker(pytest.mark.xdist_group("heavy"))
    if instance_backend() != "postgresql":
        return
    server = session_server()
    unreachable = None
    if server.unreachable is not None:
        unreachable = pytest.mark.skip(
            reason=f"DECLICS_TEST_DATABASE=postgresql but PostgreSQL is not reachable at "
            f"{server.shown}: {server.unreachable}"
        )
    for item in items:
        if unreachable is not None:
            item.add_marker(unreachable)
            continue
        for mark in item.iter_markers("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {mark.args[0]}"))
        for mark in item.iter_markers("own_database"):
            item.add_marker(pytest.mark.skip(reason=f"run in the first pass: {mark.args[0]}"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_session_databases()


@pytest.fixture
async def instances(tmp_path: Path) -> AsyncIterator[InstanceFactory]:
    made: list[Instance] = []

    async def factory(username: str = "collectif", **kwargs: Any) -> Instance:
        instance = await make_instance(tmp_path, username, **kwargs)
        made.append(instance)
        return instance

    yield factory
    for instance in made:
        try:
            if instance.runner is not None:
                await asyncio.wait_for(instance.stop(), 10)
            else:
                await instance.rt.close()
        except TimeoutError:
            for task in asyncio.all_tasks():
                task.print_stack(file=sys.stderr)
            raise


@pytest.fixture
async def peers() -> AsyncIterator[PeerFactory]:
    made: list[Peer] = []

    async def factory(users: list[str], **kwargs: Any) -> Peer:
        peer = await start_peer(users, **kwargs)
        made.append(peer)
        return peer

    yield factory
    for peer in made:
        await peer.stop()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never send traffic beyond 127.0.0.0/8, whatever a payload points at."""
    from urllib.parse import urlsplit

    from federation.transport.client import FederationClient, FetchError

    original = FederationClient.check_url

    def check_url(self: FederationClient, url: str) -> None:
        original(self, url)  # the real rule first, so its reasons show in tests
        host = urlsplit(url).hostname or ""
        if not host.startswith("127."):
            raise FetchError(f"test network: {host} is not on loopback")

    monkeypatch.setattr(FederationClient, "check_url", check_url)
