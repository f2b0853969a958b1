"""Every public page: valid HTML5, French by default, remote content sanitized;
the library is searchable; the Atom feed lists our practices."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
import html5lib

from federation.content import library
from tests.conftest import InstanceFactory
from tests.e2e.test_data_policy import EXAMPLE
from tests.e2e.test_data_policy import publish as publish_policy
from tests.e2e.test_practices import practice_file, publish, publish_commitments
from tests.support.instance import Instance
from tests.support.library import followed

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = (
    '<p>Bonjour<script>alert(1)</script><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)" onclick="alert(4)">clic</a></p>'
)


def assert_valid_html(page: str, url: str) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = parser.parse(page)  # raises on any parse error
    assert document.get("lang") == "fr", url


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.text()


async def seed(a: Instance) -> str:
    uri = await publish(a, practice_file("Mutualiser la comptabilité"))
    await publish_commitments(a, "in-progress")
    await publish_policy(a, EXAMPLE.read_text(encoding="utf-8"))
    # A hostile item in the library, as if a followed member had sent it (each
    # organisation's library shows what it follows).
    await followed(a, "https://evil.example/users/x")
    async with a.rt.sessions.begin() as session:
        await library.store(
            session,
            "https://evil.example/users/x",
            {
                "id": "https://evil.example/p/1",
                "type": "Article",
                "kind": "practice",
                "name": "Pratique <b>piégée</b>",
                "summary": HOSTILE,
                "content": HOSTILE,
                "themes": [7],
                "licence": {"spdx": "CC-BY-4.0"},
            },
            a.rt.clock.now(),
        )
    return uri


async def test_every_page_is_valid_french_html_without_remote_script(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    practice = await seed(a)
    pages = [
        f"{a.base_url}/",
        a.actor_id,
        f"{a.base_url}/@collectif",
        practice,
        f"{a.base_url}/commitments",
        f"{a.base_url}/commitments/history",
        f"{a.base_url}/data-policy",
        f"{a.base_url}/charter/2023-09-14",
        f"{a.base_url}/tags/Cooperation",
        f"{a.base_url}/library",
        f"{a.base_url}/library?q=pi%C3%A9g%C3%A9e&theme=7",
    ]
    for url in pages:
        status, content_type, page = await fetch(url)
        assert (status, content_type) == (200, "text/html"), url
        assert_valid_html(page, url)
        for bad in ("<script", "onerror", "onclick", "javascript:"):
            assert bad not in page, (url, bad)
    # A browser asking for a missing page gets an HTML error page, valid too.
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{a.base_url}/users/nobody", headers={"Accept": "text/html"}) as response,
    ):
        assert response.status == 404
        assert_valid_html(await response.text(), "404")


async def test_library_search_and_atom_feed(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    practice = await seed(a)
    _status, _type, found = await fetch(f"{a.base_url}/library?q=pi%C3%A9g%C3%A9e")
    assert "1 résultat" in found
    _status, _type, none = await fetch(f"{a.base_url}/library?q=comptabilit%C3%A9xyz")
    assert "Rien ne correspond" in none
    status, _type, _page = await fetch(f"{a.base_url}/library?theme=42")
    assert status == 400
    status, content_type, xml = await fetch(f"{a.actor_id}/practices.atom")
    assert (status, content_type) == (200, "application/atom+xml")
    feed = ET.fromstring(xml)  # noqa: S314 - our own feed, parsed to check it
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [practice]
    assert entries[0].findtext(f"{ATOM}title") == "Mutualiser la comptabilité"
    assert entries[0].findtext(f"{ATOM}rights") == "CC-BY-SA-4.0"
    _status, _type, profile = await fetch(a.actor_id)
    assert 'type="application/atom+xml"' in profile


def test_example_files_exist() -> None:
    root = Path(__file__).resolve().parents[2] / "config"
    for name in ("commitments.example.toml", "practice.example.md", "data-policy.example.toml"):
        assert (root / name).is_file()


async def test_pages_in_english_on_request_and_remembered(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await seed(a)
    # Test servers are named by IP address: the cookie jar must accept that.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(a.actor_id) as response:
            page = await response.text()
        assert "Pratiques partagées" in page and '<html lang="fr">' in page
        async with http.get(a.actor_id, headers={"Accept-Language": "en-GB,en;q=0.9"}) as r:
            page = await r.text()
        assert "Shared practices" in page and '<html lang="en">' in page
        assert_valid_html(page.replace('lang="en"', 'lang="fr"', 1), "en profile")
        # The switch sets a cookie; later pages stay English without asking again.
        async with http.get(f"{a.base_url}/library?lang=en") as response:
            assert "Library of the network" in await response.text()
        async with http.get(f"{a.base_url}/data-policy") as response:
            assert "Data policy of" in await response.text()
        async with http.get(f"{a.base_url}/charter/2023-09-14") as response:
            page = await response.text()
        assert "Produce commons" in page and "the signed text is the French one" in page
        async with http.get(f"{a.base_url}/charter/2023-09-14?lang=fr") as response:
            assert "Produire des communs" in await response.text()
