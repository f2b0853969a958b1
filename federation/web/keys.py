"""Typed application keys."""

from __future__ import annotations

import jinja2
from aiohttp import web

from federation.inbox.guard import InboxGuard
from federation.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
INBOX_GUARD = web.AppKey("inbox_guard", InboxGuard)
