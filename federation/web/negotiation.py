"""Content negotiation: ActivityStreams JSON for fediverse clients, HTML for people."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

AS2_TYPES = ("application/activity+json", "application/ld+json")
AS2_CONTENT_TYPE = "application/activity+json"
ACTIVITY_JSON_HEADERS = {"Vary": "Accept", "Cache-Control": "max-age=180"}
JSON_HEADERS = {"Access-Control-Allow-Origin": "*"}


def weighted(header: str) -> list[tuple[str, float]]:
    """The values of an Accept-style header with their q weights (bad weights are 0)."""
    out = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        quality = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if fields[0]:
            out.append((fields[0].lower(), quality))
    return out


def wants_activity_json(request: web.Request) -> bool:
    """True when the client asks for AS2 (bare ld+json counts, as Mastodon sends it)."""
    best_html, best_as2 = -1.0, -1.0
    for media, quality in weighted(request.headers.get("Accept", "")):
        if media in AS2_TYPES or media == "application/json":
            best_as2 = max(best_as2, quality)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, quality)
    return best_as2 > 0 and best_as2 >= best_html


def activity_json(document: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type=AS2_CONTENT_TYPE,
        charset="utf-8",
        headers=ACTIVITY_JSON_HEADERS,
    )


def json_response(document: Any, content_type: str = "application/json") -> web.Response:
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
        content_type=content_type,
        charset="utf-8",
        headers=JSON_HEADERS,
    )
