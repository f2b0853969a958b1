"""Structured logs: request, activity and delivery ids on every line, as text or JSON.

The ids live in context variables: the web middleware binds the request id, the inbox
intake and processor bind the activity id, the delivery worker binds the delivery and
activity ids. Each asyncio task has its own copy, so concurrent requests and
deliveries never mix their ids. `[observability] log_format = "json"` writes one
JSON object per line (for a log collector); "text" is for people.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from federation.errors import CommandError

FIELDS = ("request_id", "activity_id", "delivery_id")
_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(name, default=None) for name in FIELDS
}
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(ids)s"
# aiohttp's access log line, written after the request's own context has ended: it
# takes the request id from the response header the middleware set.
ACCESS_FORMAT = '%a "%r" %s %b %Tf "%{User-Agent}i" request_id=%{X-Request-Id}o'


def bind(**values: str | None) -> None:
    """Set ids for the rest of the current task (or until bound again)."""
    for name, value in values.items():
        _context[name].set(value)


@contextmanager
def bound(**values: str | None) -> Iterator[None]:
    tokens = [(_context[name], _context[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, str]:
    return {name: value for name, var in _context.items() if (value := var.get()) is not None}


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (as attributes, for both formats)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, ids.get(name))
        record.ids = "".join(f" {k}={v}" for k, v in ids.items())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Set up the root logger of `serve` and `worker` (replaces earlier handlers)."""
    if log_format not in FORMATS:
        raise CommandError(f"configuration: [observability] log_format must be one of {FORMATS}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
