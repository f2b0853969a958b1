"""Hostile posts to the web admin's forms, from a logged-in owner (or from nobody):
each gets its answer, no injected markup comes back raw, and nothing stored changes.
Rows W-34 … of THREAT_MODEL.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import pytest_asyncio

from tests.support.admin import add_account, csrf_of, log_in, new_client
from tests.support.instance import Instance, make_instance
from tests.support.snapshot import snapshot

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCRIPT = "<script>alert(1)</script>"
PRACTICE = {"title": "Compter ensemble", "body": "Texte", "themes": "7", "licence": "CC-BY-4.0"}


@dataclass(frozen=True)
class Form:
    name: str
    path: str
    data: dict[str, str]
    status: int
    says: str = ""  # a fragment of the answer
    csrf: bool = True  # send the session's token
    fields: dict[str, str] = field(default_factory=dict)


def practice(**changes: str) -> dict[str, str]:
    return {**PRACTICE, **changes, "action": "publish"}


FORMS = [
    Form("practice without CSRF token", "/admin/practices/new", practice(), 403, "CSRF",
         csrf=False),
    Form("practice with a forged CSRF token", "/admin/practices/new",
         practice(csrf="forged"), 403, "CSRF", csrf=False),
    Form("practice without title", "/admin/practices/new", practice(title=""), 422,
         'id="title-error"'),
    Form("practice theme 99", "/admin/practices/new", practice(themes="99"), 422,
         'id="themes-error"'),
    Form("practice unknown licence", "/admin/practices/new", practice(licence="WTFPL-9"), 422,
         "licence"),
    Form("practice script title, no theme", "/admin/practices/new",
         practice(title=SCRIPT, themes=""), 422, "&lt;script&gt;"),
    Form("practice title of 10 000 characters, no theme", "/admin/practices/new",
         practice(title="t" * 10_000, themes=""), 422, 'id="themes-error"'),
    Form("practice body of 2 MB", "/admin/practices/new", practice(body="x" * 2_000_000), 413),
    Form("edit of an unknown practice", "/admin/practices/nothing-here", practice(), 404),
    Form("delete of an unknown practice", "/admin/practices/nothing-here/delete", {}, 404),
    Form("hide an unknown reply", "/admin/replies/999999/hide", {}, 404),
    Form("retry an unknown delivery", "/admin/deliveries/999999/retry", {}, 404),
    Form("block a malformed domain", "/admin/follows/block",
         {"kind": "domain", "value": "a b/c"}, 422),
]  # fmt: skip


@dataclass
class World:
    instance: Instance
    http: aiohttp.ClientSession
    token: str


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    instance = await make_instance(tmp_path_factory.mktemp("admin"), "collectif")
    await add_account(instance)
    http = new_client()
    assert (await log_in(http, instance)).status == 303
    async with http.get(f"{instance.base_url}/admin/practices/new") as response:
        token = csrf_of(await response.text())
    yield World(instance, http, token)
    await http.close()
    await instance.stop()


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
async def test_hostile_admin_form_answered_and_nothing_changed(form: Form, world: World) -> None:
    instance = world.instance
    before = await snapshot(instance)
    data = {**form.data, **({"csrf": world.token} if form.csrf else {})}
    async with world.http.post(
        f"{instance.base_url}{form.path}",
        data=data,
        headers={"Accept": "text/html"},
        allow_redirects=False,
    ) as response:
        body = await response.text(errors="replace")
        status = response.status
    assert status == form.status, body[:500]
    assert form.says in body, body[:500]
    assert SCRIPT not in body
    assert await snapshot(instance) == before


async def test_login_refuses_an_outside_next_and_a_huge_password(world: World) -> None:
    instance = world.instance
    before = await snapshot(instance)
    async with new_client() as http:
        wrong = await log_in(http, instance, password="p" * 100_000)
        assert wrong.status == 401
        for outside in ("https://evil.example/", "//evil.example/admin", "/\\evil.example"):
            async with http.get(f"{instance.base_url}/admin/login") as response:
                token = csrf_of(await response.text())
            form = {"login": "camille", "password": "correct horse battery", "csrf": token}
            async with http.post(
                f"{instance.base_url}/admin/login",
                data={**form, "next": outside},
                allow_redirects=False,
            ) as response:
                assert response.status == 303
                location = response.headers["Location"]
                assert location.startswith("/admin") and "evil" not in location, location
    assert await snapshot(instance) == before


async def test_preview_never_returns_script_or_javascript_links(world: World) -> None:
    body = f"{SCRIPT}\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    async with world.http.post(
        f"{world.instance.base_url}/admin/preview", data={"csrf": world.token, "body": body}
    ) as response:
        preview = await response.text()
    assert response.status == 200
    # Shown as text at most: no element, no link, no handler.
    assert "<script" not in preview and "<img" not in preview
    assert 'href="javascript' not in preview
