"""What a practice page tells other software and people: Open Graph, the AS2 and Atom
alternates, the page in the other language (the switch keeps a search)."""

from __future__ import annotations

import html5lib

from tests.conftest import InstanceFactory
from tests.e2e.test_pages import fetch
from tests.e2e.test_practices import practice_file, publish


def heads(page: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    document = html5lib.parse(page, namespaceHTMLElements=False)
    meta = {m.get("property"): m.get("content") for m in document.iter("meta") if m.get("property")}
    links = [dict(link.attrib) for link in document.iter("link")]
    return meta, links


async def test_practice_page_has_open_graph_and_alternates(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    uri = await publish(a, practice_file("Mutualiser la comptabilité"))
    _status, _type, page = await fetch(uri)
    meta, links = heads(page)
    assert meta["og:title"] == "Mutualiser la comptabilité"
    assert meta["og:type"] == "article"
    assert meta["og:url"] == uri
    assert meta["og:locale"] == "fr_FR"
    assert meta["og:site_name"] == "Organisation collectif"
    alternates = {
        (link.get("type"), link.get("href")) for link in links if link["rel"] == "alternate"
    }
    assert ("application/activity+json", uri) in alternates
    assert ("application/atom+xml", f"{a.actor_id}/practices.atom") in alternates
    switch = [link for link in links if link.get("hreflang") == "en"]
    assert switch[0]["href"] == "/practices/mutualiser-la-comptabilite?lang=en"


async def test_language_switch_keeps_the_search(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    _status, _type, page = await fetch(f"{a.base_url}/library?q=paie&theme=7&lang=fr")
    document = html5lib.parse(page, namespaceHTMLElements=False)
    english = [x for x in document.iter("a") if x.get("hreflang") == "en"]
    assert english[0].get("href") == "/library?q=paie&theme=7&lang=en"
