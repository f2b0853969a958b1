"""Benchmark: the commons' read paths with a large library.

A real instance (`declics init --dev`, SQLite, in a temporary directory) holds
`--events` events and `--offers` needs and offers of followed members (half of the
offers expired), stored with `library.store` as the inbox stores them. It is served
on 127.0.0.1 and asked, over HTTP, `--repeat` times each: the network's iCalendar
feed, the directory page (which lists current needs and offers) and a library search
of needs and offers (expired ones left out). Prints the time of each request (median
and worst) and the process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from federation import cli
from federation.app import create_app
from federation.content import library
from federation.runtime import build_runtime
from federation.settings import load_settings
from tests.support.net import free_port

MEMBER = "https://member{n}.example/users/m"


def event(n: int, now: datetime) -> dict[str, Any]:
    actor = MEMBER.format(n=n % 50)
    start = now + timedelta(days=n % 365, hours=n % 9)
    return {
        "id": f"{actor.rsplit('/users', 1)[0]}/events/{uuid.uuid4()}",
        "type": "Event",
        "kind": "event",
        "attributedTo": actor,
        "name": f"Atelier numéro {n}",
        "summary": "<p>Un atelier du réseau.</p>",
        "content": "<p>Ordre du jour.</p>",
        "source": {"content": "Ordre du jour, " * 20, "mediaType": "text/markdown"},
        "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "location": {
            "type": "Place",
            "name": "Maison des coopératives",
            "address": {"type": "PostalAddress", "addressLocality": "Lyon"},
        },
        "published": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "themes": [7],
    }


def offer(n: int, now: datetime) -> dict[str, Any]:
    actor = MEMBER.format(n=n % 50)
    ends = now + timedelta(days=(30 if n % 2 else -1))
    kind = "need" if n % 3 else "offer"
    return {
        "id": f"{actor.rsplit('/users', 1)[0]}/{kind}s/{uuid.uuid4()}",
        "type": "Note",
        "kind": kind,
        "attributedTo": actor,
        "name": f"Partenaire recherché {n}",
        "content": "<p>Nous cherchons un partenaire.</p>",
        "published": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": ends.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "themes": [1 + n % 7],
    }


async def timed(http: aiohttp.ClientSession, url: str, repeat: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        async with http.get(url) as response:
            body = await response.read()
            assert response.status == 200, (url, response.status)
        times.append(time.perf_counter() - started)
        size = len(body)
    return times, size


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "member"
        port = free_port("127.0.0.1")
        base = f"http://127.0.0.1:{port}"
        argv = ["init", "--data-dir", str(data_dir), "--base-url", base, "--username", "m"]
        code = await asyncio.to_thread(cli.main, [*argv, "--name", "Membre", "--dev"])
        if code:
            return code
        rt = build_runtime(load_settings(data_dir))
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with rt.sessions.begin() as session:
            for n in range(args.events):
                doc = event(n, now)
                await library.store(session, doc["attributedTo"], doc, now)
            for n in range(args.offers):
                doc = offer(n, now)
                await library.store(session, doc["attributedTo"], doc, now)
        stored = time.perf_counter() - started
        runner = web.AppRunner(create_app(rt), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            print(f"stored {args.events} events and {args.offers} needs/offers in {stored:.1f} s")
            async with aiohttp.ClientSession() as http:
                for label, path in (
                    ("network-events.ics", "/users/m/network-events.ics"),
                    ("directory page", "/directory"),
                    ("library: needs", "/library?kind=need"),
                    ("library: search", "/library?q=partenaire"),
                ):
                    times, size = await timed(http, f"{base}{path}", args.repeat)
                    print(
                        f"{label:20} median {statistics.median(times) * 1000:7.1f} ms"
                        f"  worst {max(times) * 1000:7.1f} ms  {size / 1024:8.0f} KiB"
                    )
        finally:
            await runner.cleanup()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process: {peak:.0f} MiB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
