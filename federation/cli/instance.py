"""Setting up and running an instance: init, migrate, serve, worker, the delivery ledger."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from federation import __version__, heap
from federation.cli.base import (
    Registrar,
    instance_dir,
    instance_settings,
    run,
    with_runtime,
)
from federation.errors import CommandError
from federation.observability import logs
from federation.settings import CONFIG_NAME, Settings, load_settings


def cmd_init(args: argparse.Namespace) -> int:
    data_dir = instance_dir(args)
    if (data_dir / CONFIG_NAME).exists():
        return _add_organisation(data_dir, args)
    return _new_install(data_dir, args)


def _new_install(data_dir: Path, args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.settings import render_config
    from federation.store import migrate

    base_url = local.normalise_base_url(args.base_url, dev=args.dev)
    local.check_username(args.username)
    if not args.name.strip():
        raise CommandError("--name must not be empty")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / CONFIG_NAME
    port = args.port
    if port is None:
        # Without a proxy in front (development), serve where the base URL points.
        explicit = urlsplit(base_url).port
        port = explicit if explicit is not None and args.dev else 8000
    config.write_text(
        render_config(dev=args.dev, port=port, database_url=args.database_url or ""),
        encoding="utf-8",
    )
    try:
        settings = load_settings(data_dir)
        migrate.upgrade(settings)
        run(_create_org(settings, base_url, args))
    except BaseException:
        config.unlink(missing_ok=True)
        raise
    print(f"Created {args.username}@{local.domain_of(base_url)} in {data_dir}")
    print(f"Start it with: declics serve --data-dir {data_dir}")
    return 0


def _add_organisation(data_dir: Path, args: argparse.Namespace) -> int:
    """Cooperative hosting: one more organisation, on its own domain (or beside others
    on one), in the install's database. Nothing of the configuration changes."""
    from federation.actors import local
    from federation.store import migrate

    # These belong to the install, not to an organisation: refuse rather than ignore.
    if args.port is not None or args.database_url:
        raise CommandError(
            f"{data_dir} already holds a Déclics instance: --port and --database-url "
            "only apply to a new one; nothing changed"
        )
    settings = load_settings(data_dir)
    if args.dev and not settings.server.dev:
        raise CommandError(
            f"{data_dir} is not in development mode: --dev only applies to a new instance; "
            "nothing changed"
        )
    base_url = local.normalise_base_url(args.base_url, dev=settings.server.dev)
    local.check_username(args.username)
    if not args.name.strip():
        raise CommandError("--name must not be empty")
    migrate.upgrade(settings)
    run(_create_org(settings, base_url, args))
    print(f"Added {args.username}@{local.domain_of(base_url)} to {data_dir}")
    print("Route its domain to this instance (Host header kept): nothing else to restart")
    return 0


async def _create_org(settings: Settings, base_url: str, args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        async with rt.sessions.begin() as session:
            await local.create_organisation(
                session,
                base_url=base_url,
                username=args.username,
                name=args.name.strip(),
                summary=args.summary or "",
                manually_approves_followers=args.manual_approval,
                now=rt.clock.now(),
            )
    finally:
        await rt.close()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from federation.store import migrate

    migrate.upgrade(instance_settings(args))
    print("database is up to date")
    return 0


async def _settle_heap(_app: object) -> None:
    heap.settle()


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from federation.app import create_app
    from federation.runtime import build_runtime

    settings = instance_settings(args)
    host = args.host or settings.server.host
    port = args.port or settings.server.port

    async def make() -> web.Application:
        app = create_app(build_runtime(settings))
        app.on_startup.append(_settle_heap)
        return app

    logs.configure(settings.observability.log_format)
    web.run_app(
        make(),
        host=host,
        port=port,
        # A burst of new connections waits in the kernel's queue instead of having
        # its SYNs dropped and retried seconds later; the inbox then refuses the
        # excess at once (503) rather than letting it time out.
        backlog=1024,
        access_log_format=logs.ACCESS_FORMAT,
        print=lambda _: print(f"Déclics {__version__} serving on http://{host}:{port}", flush=True),
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from federation.delivery.worker import DeliveryWorker
    from federation.inbox.processor import InboxProcessor
    from federation.network.worker import CrawlWorker
    from federation.runtime import build_runtime

    settings = instance_settings(args)
    logs.configure(settings.observability.log_format)

    async def main() -> int:
        rt = build_runtime(settings)
        heap.settle()
        # The lease owner of the delivery rows this process holds (ledger, crash tests).
        name = args.name or f"{socket.gethostname()}-{os.getpid()}"
        try:
            await asyncio.gather(
                DeliveryWorker(rt, name=name[:64]).run_forever(),
                InboxProcessor(rt).run_forever(),
                CrawlWorker(rt).run_forever(),
            )
        finally:
            await rt.close()
        return 0

    try:
        return run(main())
    except KeyboardInterrupt:
        return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    from federation.delivery import ledger

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            if args.retry:
                count = await ledger.retry_failed(session, org.id, rt.clock.now())
                print(f"{count} deliveries queued again")
                return 0
            rows = await ledger.entries(session, org.id, state=args.state, limit=args.limit)
        now = rt.clock.now()
        if args.json:
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        else:
            print(ledger.format_table(rows, now))
        return 0

    return run(with_runtime(args, body))


def register(r: Registrar) -> None:
    init = r.add(
        "init",
        cmd_init,
        "create an instance (configuration, keys, database), or add an organisation to one",
    )
    init.add_argument("--base-url", required=True, help="public address, e.g. https://coop.example")
    init.add_argument("--username", required=True, help="the handle's user part, e.g. collectif")
    init.add_argument("--name", required=True, help="the organisation's display name")
    init.add_argument("--summary", default="", help="a short presentation (HTML allowed)")
    init.add_argument(
        "--port",
        type=int,
        help="port `serve` listens on (default: the base URL's port with --dev, else 8000)",
    )
    init.add_argument(
        "--database-url",
        help="SQLAlchemy URL of an empty PostgreSQL database (default: SQLite in the data dir)",
    )
    init.add_argument(
        "--manual-approval",
        action="store_true",
        help="follow requests wait for 'declics approve' (default: accepted at once)",
    )
    init.add_argument(
        "--dev",
        action="store_true",
        help="development mode: allow http and loopback/private peers",
    )
    r.add("migrate", cmd_migrate, "bring the database schema up to date")
    serve = r.add("serve", cmd_serve, "run the web app and the delivery workers")
    serve.add_argument("--host", help="address to listen on (default from the config)")
    serve.add_argument("--port", type=int, help="port to listen on (default from the config)")
    worker = r.add(
        "worker", cmd_worker, "run delivery, inbox and crawl workers without the web app"
    )
    worker.add_argument(
        "--name", help="this worker's name on the delivery rows it holds (default: host-pid)"
    )
    deliveries = r.with_actor(
        r.add("deliveries", cmd_deliveries, "show the delivery ledger (newest first)")
    )
    deliveries.add_argument("--json", action="store_true", help="machine-readable output")
    deliveries.add_argument(
        "--state",
        choices=["pending", "sending", "delivered", "failed", "dead", "gone", "parked"],
        help="only deliveries in this state",
    )
    deliveries.add_argument("--limit", type=int, default=100, help="rows to show (default 100)")
    deliveries.add_argument(
        "--retry",
        action="store_true",
        help="queue failed and abandoned deliveries again",
    )
