"""Admin accounts and a logged-in HTTP client for tests."""

from __future__ import annotations

import re

import aiohttp

from federation.accounts import store
from tests.support.instance import Instance

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_account(
    instance: Instance, login: str = "camille", role: str = "owner", password: str = PASSWORD
) -> None:
    org = await instance.organisation()
    async with instance.rt.sessions.begin() as session:
        await store.set_password(session, org.id, login, password, instance.rt.clock.now(), role)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def new_client() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for IP-address hosts (our loopback instances).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def log_in(
    http: aiohttp.ClientSession,
    instance: Instance,
    login: str = "camille",
    password: str = PASSWORD,
) -> aiohttp.ClientResponse:
    async with http.get(f"{instance.base_url}/admin/login") as response:
        token = csrf_of(await response.text())
    async with http.post(
        f"{instance.base_url}/admin/login",
        data={"login": login, "password": password, "csrf": token, "next": "/admin"},
        allow_redirects=False,
    ) as response:
        await response.read()
        return response
