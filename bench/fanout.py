"""Benchmark: one practice delivered to 10,000 followers on 1,000 hosts, and memory.

    python -m bench.fanout [--followers 10000] [--hosts 1000]

- Sinks (`bench.sink`, another process) listen on `--hosts` loopback addresses
  (127.0.6.1 onwards, one port) and count the POSTs.
- A Déclics instance (SQLite) gets `--followers` accepted followers spread evenly over
  the hosts, each with its own inbox and no shared inbox (so every follower costs one
  signed POST: the worst case), written straight into its database with a crawl round
  that has just ended (else the directory's crawler would visit the 10,000 at once).
- `declics serve` runs it (web app and workers in one process, the default). Its
  resident memory is read once idle, then sampled every 50 ms during the fan-out.
- `declics practice publish` (another process) publishes `config/practice.example.md`;
  the fan-out time runs from its start to the last POST the sinks receive (the worker
  finds work by polling, up to `[delivery] poll_interval_seconds` = 1 s).
- Reference, in this process: the same number of RSA-2048 PKCS#1 v1.5 SHA-256
  signatures of a draft-cavage signing string with the organisation's key, timed alone.

Prints the time, deliveries per second, the ratio to the signatures alone (target:
1.3 at most), and memory idle and at peak (targets: 60 MB and 100 MB). Exits 1 unless
every follower's inbox got exactly one POST and every delivery is `delivered`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import func, insert, select

from bench import support
from bench.sink import addresses
from federation.actors import local
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import CrawlRound, Delivery, Follower, RemoteActor
from tests.support.net import free_port

FIRST_SINK = "127.0.6.1"
INSTANCE_IP = "127.0.5.1"


async def add_followers(data_dir: Path, hosts: list[str], port: int, followers: int) -> None:
    rt = build_runtime(load_settings(data_dir))
    now = datetime.now(UTC)
    try:
        async with rt.sessions.begin() as session:
            org = (await local.organisations(session))[0]
            actors = []
            for n in range(followers):
                host = f"{hosts[n % len(hosts)]}:{port}"
                uri = f"http://{host}/users/f{n}"
                actors.append(
                    {
                        "uri": uri,
                        "host": host,
                        "actor_type": "Person",
                        "username": f"f{n}",
                        "inbox": f"{uri}/inbox",
                        "shared_inbox": None,
                        "document": {"id": uri, "type": "Person"},
                        "fetched_at": now,
                    }
                )
            await session.execute(insert(RemoteActor), actors)
            ids = (await session.execute(select(RemoteActor.id))).scalars().all()
            await session.execute(
                insert(Follower),
                [
                    {
                        "local_actor_id": org.id,
                        "remote_actor_id": i,
                        "follow_activity_uri": f"http://bench.invalid/follows/{i}",
                        "state": "accepted",
                        "created_at": now,
                        "accepted_at": now,
                    }
                    for i in ids
                ],
            )
            # A crawl round that just ended: the directory's crawler (which would visit
            # every follower) stays idle for `refresh_hours`, as between two rounds.
            session.add(CrawlRound(reason="schedule", started_at=now, finished_at=now))
    finally:
        await rt.close()


async def signatures_alone(data_dir: Path, count: int) -> float:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            signer = local.signer_of((await local.organisations(session))[0])
    finally:
        await rt.close()
    text = (
        b"(request-target): post /users/f1/inbox\nhost: 127.0.6.1:40000\n"
        b"date: Sat, 28 Nov 2026 21:00:00 GMT\n"
        b"digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    )
    started = time.perf_counter()
    for _ in range(count):
        signer.rsa_key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    return time.perf_counter() - started


def cpu_of(server: int, sink: int) -> tuple[tuple[float, float], tuple[float, float]]:
    return support.thread_cpu_seconds(server), support.thread_cpu_seconds(sink)


def cpu_used(before: tuple[float, float], after: tuple[float, float]) -> tuple[float, float]:
    return after[0] - before[0], after[1] - before[1]


async def sink_count(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        figures: dict[str, float] = await response.json()
        return figures


async def delivered(data_dir: Path) -> dict[str, int]:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            rows = await session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)
            )
            return {state: count for state, count in rows.all()}
    finally:
        await rt.close()


async def main_async(args: argparse.Namespace) -> int:
    print(f"machine: {support.machine()}")
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    async with support.database(args.postgres):
        return await run(args)


async def run(args: argparse.Namespace) -> int:
    hosts = addresses(FIRST_SINK, args.hosts)
    port = free_port(FIRST_SINK)
    count_url = f"http://{FIRST_SINK}:{port}/count"
    with tempfile.TemporaryDirectory(prefix="declics-bench-") as tmp:
        work = Path(tmp)
        data_dir, base_url = await asyncio.to_thread(support.init_instance, work, INSTANCE_IP)
        await add_followers(data_dir, hosts, port, args.followers)
        sink_args = [support.PYTHON, "-m", "bench.sink", "--hosts", str(args.hosts)]
        sink_args += ["--first", FIRST_SINK, "--port", str(port)]
        async with (
            support.running(sink_args, count_url) as sink,
            support.running(
                support.declics_web(data_dir, INSTANCE_IP, workers=True),
                f"{base_url}/healthz",
                env=support.DEPLOYED_ENV,
                log=work / "declics.log",
            ) as server,
        ):
            await asyncio.sleep(args.idle_seconds)
            idle = support.rss_mb(server.pid)
            with support.PeakRss(server.pid) as peak:
                cpu_before = cpu_of(server.pid, sink.pid)
                waited = support.runqueue_seconds(server.pid)
                started = time.time()
                publish = await asyncio.create_subprocess_exec(
                    support.PYTHON,
                    "-m",
                    "federation",
                    "practice",
                    "publish",
                    str(support.REPO / "config" / "practice.example.md"),
                    "--data-dir",
                    str(data_dir),
                    stdout=subprocess.DEVNULL,
                    cwd=support.REPO,
                )
                if await publish.wait() != 0:
                    raise SystemExit("declics practice publish failed")
                deadline = time.monotonic() + args.timeout
                while (figures := await sink_count(count_url))["count"] < args.followers:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"only {figures['count']} POSTs in {args.timeout} s")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)  # a late duplicate would show now
                figures = await sink_count(count_url)
                cpu_after = cpu_of(server.pid, sink.pid)
                waited = support.runqueue_seconds(server.pid) - waited
            states = await delivered(data_dir)
        # The reference, measured after the fan-out so that nothing else runs.
        cpu_alone = time.process_time()
        alone = await signatures_alone(data_dir, args.followers)
        cpu_alone = time.process_time() - cpu_alone
    total = figures["last"] - started
    spread = figures["last"] - figures["first"]
    print(f"followers: {args.followers} on {args.hosts} hosts (one inbox each)")
    print(
        f"fan-out: {total:.2f} s from publish to the last POST "
        f"({spread:.2f} s first to last POST; {args.followers / spread:.0f} POST/s)"
    )
    print(f"RSA signatures alone: {alone:.2f} s ({args.followers / alone:.0f}/s)")
    print(
        f"ratio: {spread / alone:.2f} (first to last POST), {total / alone:.2f} (from publish)"
        " (target 1.3 at most)"
    )
    (serve_main, serve_all), (_, sink_all) = (
        cpu_used(b, a) for b, a in zip(cpu_before, cpu_after, strict=True)
    )
    print(
        f"CPU during the fan-out: declics serve {serve_all:.2f} s "
        f"(event loop thread {serve_main:.2f} s, other threads {serve_all - serve_main:.2f} s), "
        f"sinks {sink_all:.2f} s; signatures alone {cpu_alone:.2f} s"
    )
    print(f"event loop thread ready but waiting for a core (machine load): {waited:.2f} s")
    print(f"connections the sinks accepted: {figures['connections']:.0f}")
    print(f"resident memory: idle {idle:.1f} MB (target 60), peak {peak.peak:.1f} MB (target 100)")
    ok = figures["count"] == args.followers and figures["distinct"] == args.followers
    ok = ok and states == {"delivered": args.followers}
    print(
        f"sinks: {figures['count']:.0f} POSTs to {figures['distinct']:.0f} inboxes; "
        f"deliveries {states}"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    support.add_postgres_option(parser)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
