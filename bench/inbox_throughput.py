"""Benchmark: signed inbox POSTs per second, Déclics against a bare aiohttp handler
(and activityrelay, side by side, when it is installed).

    python -m bench.inbox_throughput [--requests 10000] [--concurrency 32] [--no-relay]

A Mastodon-shaped sender (`tests.support.peer.Peer`, in this process) signs
`--requests` distinct `Create`s of a Note (draft-cavage, RSA-2048, digest) addressed
to one organisation; the load generator (`bench.load`, another process) posts them.
Each server runs in its own process on its own loopback address:

- Déclics: the web app alone (`bench.web_only`; workers would run in `declics worker`),
  SQLite, every check of `inbox.intake` (blocks, signature, origin, proofs, members);
- bare: `bench.bare`, the same signature checks and one SQLite INSERT;
- activityrelay 0.3.5 (`.cache/interop/relay`, from `scripts/interop-setup relay`): its
  inbox with the sender subscribed, so each `Create` is verified and relayed (to no one).

Each server first gets 20 warm-up requests (key fetch, connections). Prints the rate
of each and Déclics's rate as a share of the bare one (target: 90 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench import support
from tests.support.net import free_port
from tests.support.peer import Peer

WARM_UP = 20
RELAY_PYTHON = support.REPO / ".cache" / "interop" / "relay" / "venv" / "bin" / "python"


def creates(peer: Peer, inbox_url: str, count: int) -> list[dict[str, Any]]:
    actor = peer.actor_id("bench")
    requests = []
    for _ in range(count):
        note = f"{actor}/statuses/{uuid.uuid4()}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note}/activity",
            "type": "Create",
            "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": actor,
                "content": "<p>Une pratique partagée entre coopératives.</p>",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        }
        body = json.dumps(activity).encode()
        headers = peer.signed_headers("bench", inbox_url, body)
        requests.append(
            {"method": "POST", "url": inbox_url, "headers": headers, "body": body.decode()}
        )
    return requests


async def measure(
    name: str,
    peer: Peer,
    inbox_url: str,
    args: argparse.Namespace,
    work: Path,
    server: support.Process,
) -> support.Load:
    await support.generate_load(creates(peer, inbox_url, WARM_UP), work, 4, f"{name}-warm")
    load = await support.generate_load(
        creates(peer, inbox_url, args.requests), work, args.concurrency, name, server.pid
    )
    accepted = load.statuses.get("202", 0)
    print(
        f"{name:>14}: {load.per_second:8.1f} POST/s  ({load.count} in {load.seconds:.2f} s; "
        f"answers {load.statuses}{load.describe_cpu()})",
        flush=True,
    )
    if accepted != load.count:
        log = work / f"{name}.log"
        if log.exists():
            print(log.read_text("utf-8")[-3000:], file=sys.stderr)
        raise SystemExit(f"{name}: {load.count - accepted} requests were not accepted")
    return load


async def main_async(args: argparse.Namespace) -> int:
    print(f"machine: {support.machine()}")
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    async with support.database(args.postgres):
        return await run(args)


# One sender, from one address, is the whole load: the per-address, per-host and
# per-actor buckets (10 to 50 a second by default) would answer 429 to nearly all of
# it. They are raised for the Déclics process only; every bucket is still taken.
SENDER_LIMITS = {
    f"DECLICS_INBOX__{key}": "1000000"
    for key in (
        "PER_ADDRESS_PER_SECOND",
        "PER_ADDRESS_BURST",
        "PER_HOST_PER_SECOND",
        "PER_HOST_BURST",
        "PER_ACTOR_PER_SECOND",
        "PER_ACTOR_BURST",
    )
}


async def run(args: argparse.Namespace) -> int:
    os.environ.update(SENDER_LIMITS)
    with tempfile.TemporaryDirectory(prefix="declics-bench-") as tmp:
        work = Path(tmp)
        sender_ip, declics_ip, bare_ip, relay_ip = (f"127.0.4.{n}" for n in (1, 2, 3, 4))
        peer = Peer(sender_ip, free_port(sender_ip), users={"bench"})
        await peer.start()
        try:
            data_dir, base_url = await asyncio.to_thread(support.init_instance, work, declics_ip)
            async with support.running(
                support.declics_web(data_dir, declics_ip, workers=False),
                f"{base_url}/healthz",
                env=support.DEPLOYED_ENV,
                log=work / "declics.log",
            ) as server:
                ours = await measure(
                    "declics", peer, f"{base_url}/users/collectif/inbox", args, work, server
                )
            port = free_port(bare_ip)
            bare_url = f"http://{bare_ip}:{port}"
            bare_args = [support.PYTHON, "-m", "bench.bare", "--host", bare_ip]
            bare_args += ["--port", str(port), "--db", str(work / "bare.sqlite3")]
            async with support.running(bare_args, f"{bare_url}/json") as server:
                bare = await measure("bare aiohttp", peer, f"{bare_url}/inbox", args, work, server)
            print(
                f"declics / bare: {support.ratio(ours.per_second, bare.per_second)} (target 90 %)"
            )
            print(f"the same by server CPU per request: {support.cpu_ratio(ours, bare)}")
            if args.relay and RELAY_PYTHON.exists():
                port = free_port(relay_ip)
                relay_url = f"http://{relay_ip}:{port}"
                relay_dir = work / "relay"
                relay_dir.mkdir()
                relay_args = [str(RELAY_PYTHON), str(support.REPO / "bench" / "relay_server.py")]
                relay_args += ["--host", relay_ip, "--port", str(port)]
                relay_args += ["--data-dir", str(relay_dir), "--subscriber", peer.actor_id("bench")]
                relay_args += ["--subscriber-inbox", f"{peer.base}/inbox"]
                async with support.running(relay_args, f"{relay_url}/actor") as server:
                    relay = await measure(
                        "activityrelay", peer, f"{relay_url}/inbox", args, work, server
                    )
                print(
                    f"declics / activityrelay: {support.ratio(ours.per_second, relay.per_second)}"
                )
            elif args.relay:
                print("activityrelay: not installed (scripts/interop-setup relay); skipped")
        finally:
            await peer.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-relay", dest="relay", action="store_false")
    support.add_postgres_option(parser)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
