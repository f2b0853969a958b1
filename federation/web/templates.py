"""The pages' Jinja2 environment, built at the first page rendered.

Jinja2 and the English catalogue are not imported at start-up: a server that only
federates (actors, inboxes, deliveries) never renders a page, and importing them costs
a few megabytes of resident memory (bench/README.md, round 3). `jinja2` appears here
for the type checker only; `environment` imports it when the first page is asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from federation.web import i18n

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).with_name("templates")


class Templates:
    """The environment of one app, made on the first `get`."""

    def __init__(self) -> None:
        self._environment: jinja2.Environment | None = None

    def get(self, name: str) -> jinja2.Template:
        if self._environment is None:
            self._environment = environment()
        return self._environment.get_template(name)


def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        enable_async=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["in_zone"] = in_zone
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
    )
    return env


def in_zone(moment: datetime | None, zone: object) -> str:
    """A date and time as people of the event's timezone read it."""
    if moment is None:
        return ""
    try:
        local_zone = ZoneInfo(zone) if isinstance(zone, str) else UTC
    except (ZoneInfoNotFoundError, ValueError):
        local_zone = UTC
    shown = moment.astimezone(local_zone)
    return f"{shown:%d/%m/%Y %H:%M} ({getattr(local_zone, 'key', 'UTC')})"
