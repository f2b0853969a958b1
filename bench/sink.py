"""Loopback sinks for the fan-out benchmark: many hosts, one process, POSTs counted.

    python -m bench.sink --hosts 1000 --first 127.0.6.1 --port N

Listens on `--hosts` consecutive loopback addresses from `--first`, all on port N, and
answers every POST with 202 (what a remote server's inbox answers; the signature is the
receiver's cost, not the sender's, so it is not verified here). `GET /count` on any
host gives the POSTs received so far and the times of the first and the last one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import sys
import time
from typing import Any

from aiohttp import web


def addresses(first: str, count: int) -> list[str]:
    start = ipaddress.IPv4Address(first)
    found = [str(start + i) for i in range(count)]
    if not all(ipaddress.IPv4Address(a) in ipaddress.IPv4Network("127.0.0.0/8") for a in found):
        raise SystemExit("sinks listen on 127.0.0.0/8 only")
    return found


def make_app() -> web.Application:
    state: dict[str, Any] = {"count": 0, "first": None, "last": None, "paths": set()}

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        now = time.time()
        state["count"] += 1
        state["first"] = state["first"] or now
        state["last"] = now
        state["paths"].add(f"{request.host}{request.path}")
        return web.Response(status=202)

    async def count(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "count": state["count"],
                "distinct": len(state["paths"]),
                "first": state["first"],
                "last": state["last"],
            }
        )

    app = web.Application()
    app.add_routes([web.get("/count", count), web.post("/{path:.*}", inbox)])
    return app


async def serve(hosts: list[str], port: int) -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    for host in hosts:
        await web.TCPSite(runner, host, port, backlog=1024).start()
    print("ready", flush=True)
    await asyncio.Event().wait()  # until interrupted


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--first", default="127.0.6.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(addresses(args.first, args.hosts), args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
