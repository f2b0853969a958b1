"""Real Déclics servers for tests: each with its own data directory and database (SQLite,
or a throwaway PostgreSQL database with DECLICS_TEST_DATABASE=postgresql), listening on
its own loopback address, with workers running as in `declics serve`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from federation import cli
from federation.app import create_app
from federation.clock import Clock
from federation.runtime import Runtime, build_runtime
from federation.settings import Settings, load_settings
from tests.support.net import free_port, loopback_ip
from tests.support.postgres import instance_backend, session_server

ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


@dataclass
class Instance:
    data_dir: Path
    settings: Settings
    base_url: str
    username: str
    rt: Runtime
    runner: web.AppRunner | None = None

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.base_url.split('://', 1)[1]}"

    async def start(
        self, on_response: ResponseHook | None = None, *, run_workers: bool = True
    ) -> None:
        """Serve on the base URL's address; `on_response` sees every answer (tests
        that check what a peer sent us). Without workers, received work only waits."""
        app = create_app(self.rt, run_workers=run_workers)
        if on_response is not None:
            app.on_response_prepare.append(on_response)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        host, port = self.base_url.split("://", 1)[1].split(":")
        await web.TCPSite(self.runner, host, int(port)).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def organisation(self) -> Any:
        from federation.actors import local

        async with self.rt.sessions() as session:
            return (await local.organisations(session))[0]


def init_instance(
    tmp_path: Path, username: str, *, ip: str | None = None, extra: list[str] | None = None
) -> tuple[Path, str]:
    """Run `declics init` (blocking: call it in a thread from async code)."""
    ip = ip or loopback_ip()
    port = free_port(ip)
    base_url = f"http://{ip}:{port}"
    data_dir = tmp_path / f"{username}-{ip}"
    database: list[str] = []
    if instance_backend() == "postgresql":
        database = ["--database-url", session_server().instance_database()]
    code = cli.main(
        [
            "init",
            "--data-dir",
            str(data_dir),
            "--base-url",
            base_url,
            "--username",
            username,
            "--name",
            f"Organisation {username}",
            "--dev",
            "--port",
            str(port),
            *database,
            *(extra or []),
        ]
    )
    assert code == 0
    return data_dir, base_url


async def make_instance(
    tmp_path: Path,
    username: str,
    *,
    start: bool = True,
    clock: Clock | None = None,
    **overrides: dict[str, Any],
) -> Instance:
    """Create and (by default) start an instance; `overrides` per settings section,
    e.g. `delivery={"lease_seconds": 2}`."""
    data_dir, base_url = await asyncio.to_thread(init_instance, tmp_path, username)
    settings = load_settings(data_dir)
    for section, values in overrides.items():
        current = getattr(settings, section)
        settings = dataclasses.replace(
            settings, **{section: dataclasses.replace(current, **values)}
        )
    instance = Instance(data_dir, settings, base_url, username, build_runtime(settings, clock))
    if start:
        await instance.start()
    return instance
