"""Setting up and running an instance: init, migrate, serve, worker, the delivery ledger."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

from federation import __version__
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
    from federation.actors import local
    from federation.settings import render_config
    from federation.store import migrate

    data_dir = instance_dir(args)
    if (data_dir / CONFIG_NAME).exists():
        raise CommandError(f"{data_dir} already holds a Déclics instance; nothing changed")
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
    config.write_text(render_config(dev=args.dev, port=port), encoding="utf-8")
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


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from federation.app import create_app
    from federation.runtime import build_runtime

    settings = instance_settings(args)
    host = args.host or settings.server.host
    port = args.port or settings.server.port

    async def make() -> web.Application:
        return create_app(build_runtime(settings))

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
        try:
            await asyncio.gather(
                DeliveryWorker(rt).run_forever(),
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
    init = r.add("init", cmd_init, "create an instance: configuration, keys, database")
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
    r.add("worker", cmd_worker, "run delivery, inbox and crawl workers without the web app")
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
