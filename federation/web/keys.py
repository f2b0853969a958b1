"""Typed application keys."""

from __future__ import annotations

from aiohttp import web

from federation.inbox.guard import InboxGuard
from federation.runtime import Runtime
from federation.web.templates import Templates

RUNTIME = web.AppKey("runtime", Runtime)
TEMPLATES = web.AppKey("templates", Templates)
INBOX_GUARD = web.AppKey("inbox_guard", InboxGuard)
