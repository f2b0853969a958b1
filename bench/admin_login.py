"""Cost of the admin's login: the scrypt hash, logins through a real instance, and
the memory of the login rate limiter when full.

    .venv/bin/python -m bench.admin_login [--logins 50] [--keys 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import aiohttp
from aiohttp import web

from federation import cli
from federation.accounts import passwords, store
from federation.accounts.ratelimit import LoginLimiter
from federation.actors import local
from federation.app import create_app
from federation.runtime import build_runtime
from federation.settings import load_settings
from tests.support.net import free_port

PASSWORD = "un mot de passe de banc d’essai"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def hash_figures(rounds: int) -> tuple[float, float]:
    stored = passwords.hash_password(PASSWORD)
    hashing, verifying = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        passwords.hash_password(PASSWORD)
        hashing.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert passwords.verify(PASSWORD, stored)
        verifying.append(time.perf_counter() - start)
    return statistics.median(hashing) * 1000, statistics.median(verifying) * 1000


def limiter_bytes(keys: int) -> int:
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    limiter = LoginLimiter(max_keys=keys)
    for n in range(keys * 2):  # twice the bound: the oldest keys are dropped
        limiter.failed([("address", f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")], n)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert len(limiter) == keys
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def init(tmp: Path) -> tuple[Path, str, int]:
    port = free_port("127.0.0.1")
    data_dir = tmp / "instance"
    base = f"http://127.0.0.1:{port}"
    argv = ["init", "--data-dir", str(data_dir), "--base-url", base, "--username", "collectif"]
    assert cli.main([*argv, "--name", "Banc", "--dev", "--port", str(port)]) == 0
    return data_dir, base, port


async def logins(data_dir: Path, base: str, port: int, count: int) -> float:
    rt = build_runtime(load_settings(data_dir))
    async with rt.sessions.begin() as session:
        org = (await local.organisations(session))[0]
        await store.set_password(session, org.id, "camille", PASSWORD, rt.clock.now())
    runner = web.AppRunner(create_app(rt, run_workers=False), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            start = time.perf_counter()
            for _ in range(count):
                async with http.get(f"{base}/admin/login") as r:
                    found = CSRF.search(await r.text())
                    assert found is not None
                async with http.post(
                    f"{base}/admin/login",
                    data={"login": "camille", "password": PASSWORD, "csrf": found[1]},
                    allow_redirects=False,
                ) as r:
                    assert r.status == 303, r.status
                jar.clear()
            elapsed = time.perf_counter() - start
    finally:
        await runner.cleanup()
    return elapsed / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--keys", type=int, default=10_000)
    args = parser.parse_args()
    hashing, verifying = hash_figures(10)
    print(f"scrypt (n=2^14, r=8, p=1): hash {hashing:.1f} ms, verify {verifying:.1f} ms (median)")
    with tempfile.TemporaryDirectory() as tmp:
        per_login = asyncio.run(logins(*init(Path(tmp)), args.logins))
    print(f"login through the admin (form + POST, new session): {per_login:.1f} ms each")
    size = limiter_bytes(args.keys)
    print(f"rate limiter full at {args.keys} keys: {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
