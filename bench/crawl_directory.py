"""Benchmark: crawl a simulated network of Déclics members and check the politeness.

One in-process aiohttp server plays the network: `--members` members spread over
`--hosts` loopback addresses (127.0.2.x), each with an actor, NodeInfo, commitments,
a following collection (the next member in a ring and a few random ones) and a
directory listing the whole network (its own entry first), all with ETags. A real
Déclics instance (SQLite in a temporary directory, dev mode) follows three of them
and runs crawl rounds with its own code (`Crawler.refresh`, what `declics directory
refresh` runs). The server timestamps every request, per host, so the benchmark
checks that no host ever got more than the token bucket allows (burst + rate × span).

    python -m bench.crawl_directory [--members 1000] [--hosts 50] [--rate 10]

Prints the time and request rate of a first round (empty cache) and of a second one
(conditional GETs), and the busiest second seen by any host. Exits 1 if the directory
is incomplete or a host was served faster than the limit. No traffic leaves 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from federation import charter, cli
from federation.actors import local, remote
from federation.actors.follows import ACCEPTED
from federation.network.crawler import Crawler, RoundReport
from federation.network.politeness import HostRateLimiter
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import DirectoryMember, DirectoryVouch, Following
from federation.vocab.normalize import parse_actor
from tests.support.net import free_port

PAGE = 20
TEXT = charter.load()
AS = "application/activity+json"


@dataclasses.dataclass(frozen=True)
class Member:
    number: int
    host: str  # ip:port

    @property
    def id(self) -> str:
        return f"http://{self.host}/users/m{self.number}"


class Network:
    """The simulated members and the log of every request they received."""

    def __init__(self, members: int, hosts: list[str], seed: int) -> None:
        self.members = [Member(i, hosts[i % len(hosts)]) for i in range(members)]
        rng = random.Random(seed)
        self.following: dict[int, list[int]] = {}
        for i in range(members):
            others = {(i + 1) % members, *rng.sample(range(members), min(4, members))} - {i}
            self.following[i] = sorted(others)
        self.requests: dict[str, list[float]] = defaultdict(list)

    def followers_of(self, number: int) -> list[int]:
        return [i for i, followed in self.following.items() if number in followed]

    def actor(self, m: Member) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": m.id,
            "type": "Organization",
            "preferredUsername": f"m{m.number}",
            "name": f"Membre {m.number}",
            "summary": f"<p>Coopérative simulée numéro {m.number}.</p>",
            "inbox": f"{m.id}/inbox",
            "outbox": f"{m.id}/outbox",
            "following": f"{m.id}/following",
            "followers": f"{m.id}/followers",
            "charterVersion": TEXT.version,
            "charterHash": f"sha256:{TEXT.sha256}",
            "commitmentStatements": f"http://{m.host}/commitments/m{m.number}",
            "directory": f"{m.id}/directory",
            "territory": ["Lyon", "Nantes", "Lille", "Rennes"][m.number % 4],
        }

    def commitments(self, m: Member) -> dict[str, Any]:
        progress = ("to-start", "in-progress", "achieved")
        return {
            "id": f"http://{m.host}/commitments/m{m.number}",
            "type": "Article",
            "kind": "commitments",
            "attributedTo": m.id,
            "charterVersion": TEXT.version,
            "commitments": [
                {"number": n, "progress": progress[(m.number + n) % 3]} for n in (1, 5, 6)
            ],
        }

    def directory_items(self, m: Member) -> list[dict[str, Any]]:
        ordered = [m, *(x for x in self.members if x is not m)]
        return [{"id": x.id, "name": f"Membre {x.number}", "practiceCount": 3} for x in ordered]


def _collection(url: str, items: list[Any], page: str | None) -> dict[str, Any]:
    if page is None:
        return {
            "id": url,
            "type": "OrderedCollection",
            "totalItems": len(items),
            "first": f"{url}?page=1",
        }
    number = int(page)
    chunk = items[(number - 1) * PAGE : number * PAGE]
    document: dict[str, Any] = {
        "id": f"{url}?page={number}",
        "type": "OrderedCollectionPage",
        "partOf": url,
        "orderedItems": chunk,
    }
    if number * PAGE < len(items):
        document["next"] = f"{url}?page={number + 1}"
    return document


def make_app(network: Network) -> web.Application:
    by_number = {m.number: m for m in network.members}

    def reply(
        request: web.Request, document: dict[str, Any], content_type: str = AS
    ) -> web.Response:
        body = json.dumps(document).encode()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type=content_type, headers={"ETag": etag})

    @web.middleware
    async def log(request: web.Request, handler: Any) -> web.StreamResponse:
        network.requests[request.host.split(":")[0]].append(time.monotonic())
        response: web.StreamResponse = await handler(request)
        return response

    def member_of(request: web.Request) -> Member:
        number = int(request.match_info["n"])
        if number not in by_number or by_number[number].host != request.host:
            raise web.HTTPNotFound()
        return by_number[number]

    async def nodeinfo_links(request: web.Request) -> web.Response:
        href = f"http://{request.host}/nodeinfo/2.1"
        return reply(
            request,
            {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": href}]},
            "application/json",
        )

    async def nodeinfo(request: web.Request) -> web.Response:
        return reply(
            request,
            {
                "version": "2.1",
                "software": {"name": "declics", "version": "sim"},
                "protocols": ["activitypub"],
                "metadata": {
                    "network": "Déclics",
                    "charter": {"version": TEXT.version, "sha256": TEXT.sha256},
                },
            },
            "application/json",
        )

    async def actor(request: web.Request) -> web.Response:
        return reply(request, network.actor(member_of(request)))

    async def commitments(request: web.Request) -> web.Response:
        return reply(request, network.commitments(member_of(request)))

    async def following(request: web.Request) -> web.Response:
        m = member_of(request)
        items = [by_number[i].id for i in network.following[m.number]]
        return reply(request, _collection(f"{m.id}/following", items, request.query.get("page")))

    async def directory(request: web.Request) -> web.Response:
        m = member_of(request)
        items = network.directory_items(m)
        return reply(request, _collection(f"{m.id}/directory", items, request.query.get("page")))

    app = web.Application(middlewares=[log])
    app.add_routes(
        [
            web.get("/.well-known/nodeinfo", nodeinfo_links),
            web.get("/nodeinfo/2.1", nodeinfo),
            web.get("/users/m{n:[0-9]+}", actor),
            web.get("/users/m{n:[0-9]+}/following", following),
            web.get("/users/m{n:[0-9]+}/directory", directory),
            web.get("/commitments/m{n:[0-9]+}", commitments),
        ]
    )
    return app


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def follow_seeds(rt: Any, network: Network, seeds: list[Member]) -> None:
    now = datetime.now(UTC)
    async with rt.sessions.begin() as session:
        org = (await local.organisations(session))[0]
        for m in seeds:
            row = await remote.store(session, parse_actor(network.actor(m)), now)
            session.add(
                Following(
                    local_actor_id=org.id,
                    remote_actor_id=row.id,
                    follow_activity_uri=f"{org.base_url}/activities/bench-{m.number}",
                    state=ACCEPTED,
                    created_at=now,
                    accepted_at=now,
                )
            )


async def run(args: argparse.Namespace) -> int:
    ips = [f"127.0.2.{i + 1}" for i in range(args.hosts)]
    port = free_port(ips[0])
    network = Network(args.members, [f"{ip}:{port}" for ip in ips], args.seed)
    runner = web.AppRunner(make_app(network), access_log=None)
    await runner.setup()
    for ip in ips:
        await web.TCPSite(runner, ip, port).start()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "observer"
        base = f"http://127.0.0.1:{free_port('127.0.0.1')}"
        argv = ["init", "--data-dir", str(data_dir), "--base-url", base, "--username", "observer"]
        code = await asyncio.to_thread(cli.main, [*argv, "--name", "Observer", "--dev"])
        if code:
            return code
        settings = load_settings(data_dir)
        settings = dataclasses.replace(
            settings,
            directory=dataclasses.replace(
                settings.directory,
                max_members=max(args.members + 10, 100),
                per_host_requests_per_second=args.rate,
                concurrency=args.concurrency,
            ),
            fetch=dataclasses.replace(settings.fetch, timeout_seconds=60.0),
        )
        rt = build_runtime(settings)
        try:
            await follow_seeds(rt, network, network.members[:3])
            limiter = HostRateLimiter(args.rate)
            reports: list[tuple[RoundReport, float]] = []
            for _ in range(2):
                started = time.monotonic()
                report = await Crawler(rt, limiter).refresh()
                reports.append((report, time.monotonic() - started))
            async with rt.sessions() as session:
                found = (await session.execute(select(func.count(DirectoryMember.id)))).scalar_one()
                vouches = (
                    await session.execute(select(func.count(DirectoryVouch.id)))
                ).scalar_one()
        finally:
            await rt.close()
    await runner.cleanup()

    expected_vouches = sum(len(f) for f in network.following.values())
    allowed = HostRateLimiter(args.rate).burst + args.rate
    busiest = max(busiest_second(times) for times in network.requests.values())
    print(
        f"simulated network: {args.members} members on {args.hosts} hosts; "
        f"limit {args.rate:g} requests/s per host (burst {allowed - args.rate:g}), "
        f"{args.concurrency} actors at a time"
    )
    for label, (report, seconds) in zip(("first round", "second round"), reports, strict=True):
        print(
            f"{label}: {seconds:.1f} s, {report.requests} requests "
            f"({report.not_modified} answered 304), "
            f"{report.requests / seconds:.0f} requests/s, {report.members} members"
        )
    print(
        f"directory: {found} members, {vouches} vouches "
        f"(expected {args.members}, {expected_vouches})"
    )
    print(f"busiest second on one host: {busiest} requests (allowed: {allowed:g})")
    ok = found == args.members and vouches == expected_vouches and busiest <= allowed
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s per host")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
