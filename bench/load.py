"""The load generator: sends prepared requests with N connections and prints figures.

    python -m bench.load REQUESTS.jsonl [--concurrency 32]

Each line of the file is {"method", "url", "headers", "body"} (body: text or null).
The requests go out in order, `--concurrency` at a time, over kept-alive connections.
Prints one JSON object: count, seconds (first send to last answer), statuses.
Run in its own process so that the server measured does not share its core with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp


async def run(requests: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for request in queue:
                body = request.get("body")
                try:
                    async with session.request(
                        request["method"],
                        request["url"],
                        headers=request["headers"],
                        data=body.encode("utf-8") if body is not None else None,
                    ) as response:
                        await response.read()
                        statuses[str(response.status)] += 1
                except (aiohttp.ClientError, TimeoutError) as err:
                    statuses[type(err).__name__] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {"count": len(requests), "seconds": seconds, "statuses": dict(statuses)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("requests", type=Path)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    requests = [json.loads(line) for line in args.requests.read_text("utf-8").splitlines()]
    print(json.dumps(asyncio.run(run(requests, args.concurrency))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
