"""Hostile queries to the public pages and documents (the web's only "forms" are query
strings): each gets its answer (never a 5xx), no injected markup comes back raw, and
nothing is stored or changed. Rows W-1 … of THREAT_MODEL.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio

from tests.support.instance import Instance, make_instance
from tests.support.snapshot import snapshot

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCRIPT = "<script>alert(1)</script>"
HTML = {"Accept": "text/html"}
AS2 = {"Accept": "application/activity+json"}


@dataclass(frozen=True)
class Query:
    name: str
    path: str  # {host} is replaced with the instance's host
    status: int
    accept: str = "html"


QUERIES = [
    Query("webfinger without resource", "/.well-known/webfinger", 400, "json"),
    Query(
        "webfinger unknown user", "/.well-known/webfinger?resource=acct:nobody@{host}", 404, "json"
    ),
    Query(
        "webfinger other domain",
        "/.well-known/webfinger?resource=acct:collectif@evil.example",
        404,
        "json",
    ),
    Query(
        "webfinger 10 000 characters",
        "/.well-known/webfinger?resource=acct:" + "a" * 10_000,
        400,
        "json",
    ),
    Query(
        "webfinger NUL byte",
        "/.well-known/webfinger?resource=acct:coll%00ectif@{host}",
        404,
        "json",
    ),
    Query(
        "webfinger http resource elsewhere",
        "/.well-known/webfinger?resource=http://169.254.169.254/",
        404,
        "json",
    ),
    Query("webfinger script", f"/.well-known/webfinger?resource={SCRIPT}", 400, "json"),
    Query("library script query", f"/library?q={SCRIPT}", 200),
    Query("library 10 000 character query", "/library?q=" + "x" * 10_000, 400),
    Query("library SQL in query", "/library?q=%27%3B%20DROP%20TABLE%20local_actors%3B--", 200),
    Query("library FTS syntax", '/library?q=NEAR(a%20b)%20OR%20"%20*%20^', 200),
    Query("library unknown kind", "/library?kind=../../etc/passwd", 200),
    Query("library theme 99", "/library?theme=99", 400),
    Query("library licence script", f"/library?licence={SCRIPT}", 200),
    Query("library member javascript", "/library?member=javascript:alert(1)", 200),
    Query("directory page abc", "/directory?page=abc", 400),
    Query("directory page 10^30", "/directory?page=" + "9" * 30, 400),
    Query("directory page -1", "/directory?page=-1", 400),
    # A digit for str.isdigit() that int() refuses: once a 500.
    Query("directory page superscript two", "/directory?page=%C2%B2", 400),
    Query("directory commitment 99", "/directory?commitment=99", 400),
    Query("directory territory script", f"/directory?territory={SCRIPT}", 200),
    Query("outbox page abc", "/users/collectif/outbox?page=abc", 400, "as2"),
    Query("outbox page 10^30", "/users/collectif/outbox?page=" + "9" * 30, 400, "as2"),
    Query("outbox page -5", "/users/collectif/outbox?page=-5", 400, "as2"),
    Query("outbox page superscript two", "/users/collectif/outbox?page=%C2%B2", 400, "as2"),
    Query("AS2 directory page x", "/users/collectif/directory?page=x", 400, "as2"),
    Query("tag script", f"/tags/{SCRIPT}", 404),
    Query("object path traversal", "/objects/..%2F..%2Fetc%2Fpasswd", 404, "as2"),
    Query("charter unknown version", "/charter/9999-99-99", 404),
    Query("commitments version abc", "/commitments/versions/abc", 404, "as2"),
    Query("commitments version 10^30", "/commitments/versions/" + "9" * 30, 404, "as2"),
    Query("data policy version -1", "/data-policy/versions/-1", 404, "as2"),
    Query("static traversal", "/static/..%2F..%2Fsettings.py", 404),
    Query("lang script", f"/users/collectif?lang={SCRIPT}", 200),
    Query("unknown user", "/users/nobody", 404, "as2"),
]


@dataclass
class World:
    instance: Instance
    host: str


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    instance = await make_instance(tmp_path_factory.mktemp("web"), "collectif")
    yield World(instance, instance.base_url.split("://", 1)[1])
    await instance.stop()


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
async def test_hostile_query_answered_and_nothing_changed(query: Query, world: World) -> None:
    instance = world.instance
    before = await snapshot(instance)
    headers = {"html": HTML, "as2": AS2, "json": {}}[query.accept]
    url = instance.base_url + query.path.replace("{host}", world.host)
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers=headers, allow_redirects=False) as response,
    ):
        body = await response.text(errors="replace")
        status = response.status
    assert status == query.status, body[:300]
    if status >= 400:
        assert len(body.strip()) > 10  # a reason, in JSON or in a page
    assert SCRIPT not in body  # escaped wherever it is shown
    assert await snapshot(instance) == before
