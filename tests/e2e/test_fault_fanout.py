"""A 2,000-inbox fan-out while a third of the hosts misbehave and the server is killed.

Sinks: one process per kind (tests/support/sinks.py), each listening on several
127.x addresses, so that 41 remote hosts take part: 20 healthy ones and 3 of each
misbehaving kind (hang, reset, slow byte by byte, 5xx, redirect loop, huge body,
non-JSON body). The server (`declics serve`, a real process) is killed with SIGKILL
twice during the fan-out. Afterwards:

- every healthy inbox got the note exactly as planned (the sink counts each once);
- every delivery to a misbehaving host is scheduled for a retry (pending, or being
  retried), with the reason recorded;
- the server's peak resident memory (VmHWM) stayed under MEMORY_BOUND_MB.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import Delivery
from tests.e2e.test_crash_durability import run_cli, seed_followers
from tests.support import sinks
from tests.support.instance import init_instance
from tests.support.net import free_port
from tests.support.serve import start_server
from tests.support.wait import until

REPO = Path(__file__).resolve().parents[2]
FOLLOWERS = 2000
HEALTHY_HOSTS = [f"127.0.1.{i}" for i in range(1, 21)]
BAD_KINDS = [kind for kind in sinks.KINDS if kind != "healthy"]
BAD_HOSTS = {
    kind: [f"127.0.2.{k * 3 + j + 1}" for j in range(3)] for k, kind in enumerate(BAD_KINDS)
}
MEMORY_BOUND_MB = 200
SERVER_ENV = {
    "DECLICS_DELIVERY__LEASE_SECONDS": "3",
    "DECLICS_DELIVERY__CONCURRENCY": "32",
    "DECLICS_DELIVERY__PER_HOST_CONCURRENCY": "4",
    "DECLICS_DELIVERY__POLL_INTERVAL_SECONDS": "0.2",
    "DECLICS_DELIVERY__TIMEOUT_SECONDS": "2",
    "DECLICS_DELIVERY__BREAKER_FAILURES": "3",
    "DECLICS_DELIVERY__BREAKER_SECONDS": "600",
}


def inbox_of(index: int, port: int) -> tuple[str, bool]:
    """The follower's actor id's inbox, and whether its host is healthy."""
    if index % 3:
        host = HEALTHY_HOSTS[index % len(HEALTHY_HOSTS)]
        healthy = True
    else:
        kind = BAD_KINDS[(index // 3) % len(BAD_KINDS)]
        host = BAD_HOSTS[kind][index % 3]
        healthy = False
    return f"http://{host}:{port}/users/f{index}/inbox", healthy


async def start_sink(kind: str, port: int, hosts: list[str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.sinks",
        kind,
        str(port),
        *hosts,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 20)
    assert line.strip() == b"ready", line
    return process


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def received(port: int) -> set[str]:
    paths: set[str] = set()
    # Any of the healthy sink's addresses answers for the whole process.
    url = f"http://{HEALTHY_HOSTS[0]}:{port}/_received"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        paths.update(await response.json())
    return paths


async def ledger(data_dir: Path) -> list[tuple[str, str, str | None]]:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            rows = await session.execute(
                select(Delivery.inbox_url, Delivery.state, Delivery.last_error)
            )
            return [(url, state, error) for url, state, error in rows.all()]
    finally:
        await rt.close()


# About a minute alone; more on a machine shared with other work.
@pytest.mark.timeout(300)
@pytest.mark.heavy("two SIGKILLs timed against progress; bounds memory")
async def test_fan_out_survives_bad_hosts_and_two_sigkills(tmp_path: Path) -> None:
    port = free_port(HEALTHY_HOSTS[0])
    processes = [await start_sink("healthy", port, HEALTHY_HOSTS)]
    for kind in BAD_KINDS:
        processes.append(await start_sink(kind, port, BAD_HOSTS[kind]))
    server: asyncio.subprocess.Process | None = None
    peaks: list[float] = []
    try:
        data_dir, base_url = await asyncio.to_thread(init_instance, tmp_path, "collectif")
        followers = [inbox_of(i, port) for i in range(FOLLOWERS)]
        await seed_followers(
            data_dir, [(inbox.removesuffix("/inbox"), inbox) for inbox, _ in followers]
        )
        healthy = {inbox.split("://")[1] for inbox, ok in followers if ok}
        server = await start_server(data_dir, base_url, SERVER_ENV)
        await run_cli("post", "--data-dir", str(data_dir), "Annonce importante")

        for reached in (300, 800):

            async def progress(count: int = reached) -> bool:
                return len(await received(port)) >= count

            await until(progress, timeout=60, what=f"{reached} deliveries")
            peaks.append(peak_rss_mb(server.pid))
            server.send_signal(signal.SIGKILL)
            await server.wait()
            assert len(await received(port)) < len(healthy), "killed too late to test anything"
            server = await start_server(data_dir, base_url, SERVER_ENV)

        async def all_healthy() -> bool:
            return await received(port) >= healthy

        await until(all_healthy, timeout=90, what="every healthy inbox")

        async def settled() -> bool:
            rows = await ledger(data_dir)
            # A retry may be under way ("sending"): it keeps its last reason meanwhile.
            return all(state == "delivered" or error for _, state, error in rows)

        await until(settled, timeout=30, what="the ledger to record every outcome")
        peaks.append(peak_rss_mb(server.pid))
    finally:
        if server is not None and server.returncode is None:
            server.send_signal(signal.SIGKILL)
            await server.wait()
        for process in processes:
            process.kill()
            await process.wait()

    rows = await ledger(data_dir)
    assert len(rows) == FOLLOWERS
    by_url = {url: (state, error) for url, state, error in rows}
    for inbox, ok in followers:
        state, error = by_url[inbox]
        if ok:
            assert state == "delivered", (inbox, state, error)
        else:
            # Due again later, or being retried when the server was killed (its lease
            # then expires and the row is claimed again): with the reason either way.
            assert state in ("pending", "sending") and error, (inbox, state, error)
    reasons = {error or "" for state, error in by_url.values() if state != "delivered"}
    text = " ".join(reasons)
    for expected in ("timed out", "connection reset", "server error", "HTTP 307", "not attempted"):
        assert expected in text, (expected, sorted(reasons)[:10])
    assert max(peaks) < MEMORY_BOUND_MB, peaks
    print(f"fault fan-out: peak RSS per run {[round(p) for p in peaks]} MB")
