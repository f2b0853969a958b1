"""Languages of the pages: French by default, English available (gettext catalogue).

Templates mark their words with `_()`; the English catalogue is `locale/en.po`, read
with Babel the first time an English page is rendered (Babel is imported then, not at
start-up). The language is chosen per request: `?lang=` (remembered in
a cookie), else the cookie, else Accept-Language when it prefers English to French.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from federation.web.negotiation import weighted

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
COOKIE = "lang"
CATALOGUE = Path(__file__).with_name("locale") / "en.po"
current: ContextVar[str] = ContextVar("language", default=DEFAULT)


@cache
def english() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    table: dict[str, str] = {}
    for message in catalogue:
        if not message.id or not message.string:
            continue
        # Plural messages carry (singular, plural) ids and strings: map each form.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid, text in zip(ids, strings, strict=False):
            if msgid and text:
                table[str(msgid)] = str(text)
    return table


def gettext(message: str, **variables: Any) -> str:
    text = english().get(message, message) if current.get() == "en" else message
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, **variables: Any) -> str:
    chosen = singular if count == 1 else plural
    return gettext(chosen, num=count, **variables)


def _accept_language(header: str) -> str | None:
    best: dict[str, float] = {}
    for value, quality in weighted(header):
        tag = value.split("-")[0]
        if tag in LANGUAGES:
            best[tag] = max(best.get(tag, 0.0), quality)
    if best.get("en", 0.0) > best.get("fr", 0.0):
        return "en"
    return "fr" if best else None


def negotiate(request: web.Request) -> tuple[str, bool]:
    """(language, whether to remember it in a cookie)."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked, True
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie, False
    return _accept_language(request.headers.get("Accept-Language", "")) or DEFAULT, False
