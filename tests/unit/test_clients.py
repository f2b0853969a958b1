"""Which address a per-address limit counts: the peer's, or the client its proxy names."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.errors import CommandError
from federation.settings import load_settings
from federation.web.clients import client_address, networks

PROXIES = networks(["127.0.0.1", "::1", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not a proxy: header ignored
        ("127.0.0.1", [], "127.0.0.1"),  # a proxy that names nobody
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["1.1.1.1, 198.51.100.1"], "198.51.100.1"),  # left part forged
        ("127.0.0.1", ["198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # two proxies
        ("127.0.0.1", ["198.51.100.1", "10.1.2.3"], "198.51.100.1"),  # header repeated
        ("127.0.0.1", ["10.1.2.3, 10.4.5.6"], "127.0.0.1"),  # only proxies
        ("127.0.0.1", ["198.51.100.1, garbage"], "127.0.0.1"),  # unreadable hop
        ("127.0.0.1", ["198.51.100.1:4711"], "198.51.100.1"),
        ("::1", ["[2001:db8::5]:443"], "2001:db8::5"),
        ("127.0.0.1", ["2001:db8::5"], "2001:db8::5"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_a_bad_trusted_proxy_is_a_one_line_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "declics.toml").write_text('[server]\ntrusted_proxies = ["10.0.0.0/33"]\n')
    with pytest.raises(CommandError, match=r"trusted_proxies: '10.0.0.0/33' is not an IP"):
        load_settings(tmp_path)
