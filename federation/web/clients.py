"""The address of the client behind a request, for per-address limits (inbox, login).

Behind a reverse proxy every request comes from the proxy: limiting that address would
let one flooder lock everyone out. So, only when the peer is a trusted proxy
(`[server] trusted_proxies`), the `X-Forwarded-For` chain is read from the right: the
first address that is not itself a trusted proxy is the client. Entries further left
were written by the client and are never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse addresses or CIDR networks; ValueError names the first bad entry."""
    parsed = []
    for entry in entries:
        try:
            parsed.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as err:
            raise ValueError(f"{entry!r} is not an IP address or network") from err
    return tuple(parsed)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


# Asked on every inbox POST and login, of the same few peers (the proxy, or the
# senders' servers): parsing addresses is most of its cost, so verdicts are kept.
@lru_cache(maxsize=4096)
def _trusted_peer(peer: str, proxies: tuple[Network, ...]) -> bool:
    address = _address(peer)
    return address is not None and _trusted(address, proxies)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str:
    """The client's address: the peer's, or the nearest untrusted hop its proxies name."""
    if not peer:
        return "unknown"
    if not _trusted_peer(peer, tuple(proxies)):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        hop_address = _address(hop)
        if hop_address is None:
            # A hop our proxy did not write cleanly: stop believing the chain here.
            return peer
        if not _trusted(hop_address, proxies):
            return str(hop_address)
    return peer


@lru_cache(maxsize=8)
def _parsed(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return networks(entries)


def of(request: web.Request) -> str:
    from federation.web.context import runtime

    proxies = _parsed(runtime(request).settings.server.trusted_proxies)
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)
