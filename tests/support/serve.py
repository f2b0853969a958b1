"""`declics serve` in a process of its own, for tests that kill it (SIGKILL) or load it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from tests.support.wait import until


async def start_server(
    data_dir: Path, base_url: str, env: Mapping[str, str]
) -> asyncio.subprocess.Process:
    """Start `serve` with `env` added to ours; return once it answers."""
    host, port = base_url.split("://")[1].split(":")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "federation",
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        host,
        "--port",
        port,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )

    async def answers() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{base_url}/actor") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    await until(answers, timeout=20, what="the server to start")
    return process
