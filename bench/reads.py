"""Benchmark: actor and WebFinger GETs per second, Déclics against a bare aiohttp handler.

    python -m bench.reads [--requests 20000] [--concurrency 32]

The load generator (`bench.load`, another process) sends `--requests` GETs of the
organisation's actor document (`Accept: application/activity+json`), then as many
WebFinger look-ups (`/.well-known/webfinger?resource=acct:…`), to:

- Déclics: the web app alone (`bench.web_only`), SQLite;
- bare: `bench.bare`'s `GET /json`, a `web.json_response` of the same actor document
  (fetched from Déclics once), serialised on each request.

Prints each rate and Déclics's as a share of the bare one (target: 80 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

import aiohttp

from bench import support
from tests.support.net import free_port

AS = "application/activity+json"


def gets(url: str, count: int, accept: str) -> list[dict[str, object]]:
    return [{"method": "GET", "url": url, "headers": {"Accept": accept}, "body": None}] * count


async def measure(
    name: str,
    url: str,
    accept: str,
    args: argparse.Namespace,
    work: Path,
    server: support.Process,
) -> support.Load:
    await support.generate_load(gets(url, 20, accept), work, 4, f"{name}-warm")
    load = await support.generate_load(
        gets(url, args.requests, accept), work, args.concurrency, name, server.pid
    )
    print(
        f"{name:>18}: {load.per_second:8.1f} GET/s  ({load.count} in {load.seconds:.2f} s; "
        f"answers {load.statuses}{load.describe_cpu()})",
        flush=True,
    )
    if load.statuses.get("200", 0) != load.count:
        raise SystemExit(f"{name}: not every GET was answered 200")
    return load


async def main_async(args: argparse.Namespace) -> int:
    print(f"machine: {support.machine()}")
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    async with support.database(args.postgres):
        return await run(args)


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="declics-bench-") as tmp:
        work = Path(tmp)
        declics_ip, bare_ip = "127.0.4.12", "127.0.4.13"
        data_dir, base_url = await asyncio.to_thread(support.init_instance, work, declics_ip)
        actor_url = f"{base_url}/users/collectif"
        finger_url = f"{base_url}/.well-known/webfinger?resource=acct:collectif@{base_url[7:]}"
        async with support.running(
            support.declics_web(data_dir, declics_ip, workers=False),
            f"{base_url}/healthz",
            env=support.DEPLOYED_ENV,
        ) as server:
            actor = await measure("declics actor", actor_url, AS, args, work, server)
            finger = await measure(
                "declics webfinger", finger_url, "application/jrd+json", args, work, server
            )
            async with (
                aiohttp.ClientSession() as session,
                session.get(actor_url, headers={"Accept": AS}) as response,
            ):
                document = await response.json(content_type=None)
        (work / "actor.json").write_text(json.dumps(document), encoding="utf-8")
        port = free_port(bare_ip)
        bare_url = f"http://{bare_ip}:{port}"
        bare_args = [support.PYTHON, "-m", "bench.bare", "--host", bare_ip, "--port", str(port)]
        bare_args += ["--db", str(work / "bare.sqlite3"), "--json", str(work / "actor.json")]
        async with support.running(bare_args, f"{bare_url}/json") as server:
            bare = await measure("bare aiohttp JSON", f"{bare_url}/json", AS, args, work, server)
    print(f"declics actor / bare: {support.ratio(actor.per_second, bare.per_second)} (target 80 %)")
    share = support.ratio(finger.per_second, bare.per_second)
    print(f"declics webfinger / bare: {share} (target 80 %)")
    print(
        f"the same by server CPU per request: actor {support.cpu_ratio(actor, bare)}, "
        f"webfinger {support.cpu_ratio(finger, bare)}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    support.add_postgres_option(parser)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
