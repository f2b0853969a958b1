"""The aiohttp application factory: routes, middlewares, and lifetimes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from federation.accounts.ratelimit import LoginLimiter
from federation.delivery.worker import DeliveryWorker
from federation.inbox.guard import InboxGuard
from federation.inbox.processor import InboxProcessor
from federation.network.worker import CrawlWorker
from federation.runtime import Runtime
from federation.web.admin.guard import admin_guard
from federation.web.admin.login import LIMITER
from federation.web.keys import INBOX_GUARD, RUNTIME, TEMPLATES
from federation.web.middlewares import errors
from federation.web.moved import moved
from federation.web.ops import request_ids
from federation.web.routes import add_routes
from federation.web.templates import Templates


def create_app(runtime: Runtime, *, run_workers: bool = True) -> web.Application:
    """Build the web app; with `run_workers`, the delivery, inbox and crawl workers run
    inside it."""
    app = web.Application(
        middlewares=[request_ids, errors, admin_guard, moved],
        client_max_size=runtime.settings.inbox.max_body_bytes,
    )
    app[RUNTIME] = runtime
    app[TEMPLATES] = Templates()
    app[INBOX_GUARD] = InboxGuard(runtime.settings.inbox)
    app[LIMITER] = LoginLimiter()
    add_routes(app)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        yield
        await runtime.close()

    app.cleanup_ctx.append(lifetime)
    if run_workers:

        async def workers(app: web.Application) -> AsyncIterator[None]:
            tasks = [
                asyncio.create_task(DeliveryWorker(runtime).run_forever()),
                asyncio.create_task(InboxProcessor(runtime).run_forever()),
                asyncio.create_task(CrawlWorker(runtime).run_forever()),
            ]
            yield
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        app.cleanup_ctx.append(workers)
    return app
