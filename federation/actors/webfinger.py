"""WebFinger: answering for our actors, and finding others' actors from a handle."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from federation.runtime import Runtime
from federation.transport.addresses import is_ip_literal
from federation.transport.client import FetchError
from federation.vocab.constants import AS_MEDIA_TYPE
from federation.vocab.normalize import ProtocolError, parse_webfinger

HANDLE_RE = re.compile(r"^@?([^@\s/]+)@([^@\s/]+)$")
JRD_TYPES = ("application/jrd+json", "application/json", "application/activity+json")


@dataclass(frozen=True)
class Handle:
    username: str
    domain: str  # host[:port], lower-case

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"


def parse_handle(text: str) -> Handle | None:
    """`@user@host`, `user@host` or `acct:user@host`; None if it is none of those."""
    text = text.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    match = HANDLE_RE.match(text)
    if match is None:
        return None
    return Handle(match.group(1), match.group(2).lower())


def jrd(handle: str, actor_id: str, profile_url: str) -> dict[str, Any]:
    return {
        "subject": f"acct:{handle}",
        "aliases": [actor_id, profile_url],
        "links": [
            {"rel": "self", "type": AS_MEDIA_TYPE, "href": actor_id},
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": profile_url,
            },
        ],
    }


def _scheme_for(domain: str, dev: bool) -> str:
    host = urlsplit(f"//{domain}").hostname or domain
    # In development, loopback test servers speak plain http.
    if dev and (is_ip_literal(host) or host == "localhost" or ":" in domain):
        return "http"
    return "https"


async def lookup(rt: Runtime, handle: Handle) -> str:
    """The actor id a handle stands for, by WebFinger on the handle's domain."""
    scheme = _scheme_for(handle.domain, rt.settings.server.dev)
    resource = quote(f"acct:{handle}", safe=":@")
    url = f"{scheme}://{handle.domain}/.well-known/webfinger?resource={resource}"
    document = await rt.client.get_json(
        url,
        signer=None,
        accept="application/jrd+json, application/json",
        content_types=JRD_TYPES,
    )
    try:
        parsed = parse_webfinger(document)
    except ProtocolError as err:
        raise FetchError(f"bad WebFinger answer from {handle.domain}: {err.reason}") from err
    if parsed.self_href is None:
        raise FetchError(f"{handle} has no ActivityPub actor")
    return parsed.self_href
