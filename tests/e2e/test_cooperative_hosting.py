"""Cooperative hosting: one install, two organisations on their own domains, federating
with a third server. Nothing of one organisation shows through the other's domain."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from yarl import URL

from federation import cli
from federation.accounts import store
from federation.actors import local, trust
from federation.content import practices
from federation.outbox import publish
from federation.settings import CONFIG_NAME
from federation.store.models import Delivery, Follower, InboxItem, LocalActor, OutboxActivity
from federation.web.admin.guard import COOKIE
from tests.conftest import InstanceFactory
from tests.e2e.test_federation import follow
from tests.support.admin import PASSWORD, csrf_of, new_client
from tests.support.instance import Instance
from tests.support.net import free_port, loopback_ip
from tests.support.wait import until

AS2 = {"Accept": "application/activity+json"}
PRACTICE = """---
title: {title}
themes: [6]
---
Une pratique partagée avec nos membres.
"""


async def add_organisation(host: Instance, username: str) -> str:
    """`declics init` on the running install's data dir; serve the new domain too."""
    ip = loopback_ip()
    port = free_port(ip)
    base_url = f"http://{ip}:{port}"
    argv = ["init", "--data-dir", str(host.data_dir), "--base-url", base_url]
    argv += ["--username", username, "--name", f"Organisation {username}"]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert host.runner is not None
    await web.TCPSite(host.runner, ip, port).start()
    return base_url


async def org_named(host: Instance, username: str) -> LocalActor:
    async with host.rt.sessions() as session:
        return next(o for o in await local.organisations(session) if o.username == username)


async def get(http: aiohttp.ClientSession, url: str, **params: str) -> tuple[int, Any]:
    async with http.get(url, params=params, headers=AS2) as response:
        body = await response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body.decode()


async def page(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url, headers={"Accept": "text/html"}) as response:
        assert response.status == 200
        return await response.text()


async def admin_login(http: aiohttp.ClientSession, base_url: str) -> aiohttp.ClientResponse:
    async with http.get(f"{base_url}/admin/login") as response:
        token = csrf_of(await response.text())
    async with http.post(
        f"{base_url}/admin/login",
        data={"login": "camille", "password": PASSWORD, "csrf": token, "next": "/admin"},
        allow_redirects=False,
    ) as response:
        await response.read()
        return response


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


async def test_two_organisations_of_one_install_share_nothing(
    instances: InstanceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    host = await instances("alpha")
    beta_url = await add_organisation(host, "beta")
    alpha_url = host.base_url
    alpha_host, beta_host = alpha_url.split("://")[1], beta_url.split("://")[1]
    alpha, beta = await org_named(host, "alpha"), await org_named(host, "beta")
    carol = await instances("carol")
    carol_host = carol.base_url.split("://")[1].split(":")[0]

    async with aiohttp.ClientSession() as http:
        # WebFinger answers each handle on its own domain only.
        for base, mine, other in (
            (alpha_url, f"alpha@{alpha_host}", f"beta@{beta_host}"),
            (beta_url, f"beta@{beta_host}", f"alpha@{alpha_host}"),
        ):
            status, jrd = await get(http, f"{base}/.well-known/webfinger", resource=f"acct:{mine}")
            assert (status, jrd["subject"]) == (200, f"acct:{mine}")
            status, _ = await get(http, f"{base}/.well-known/webfinger", resource=f"acct:{other}")
            assert status == 404
            user = other.split("@")[0]
            status, _ = await get(
                http, f"{base}/.well-known/webfinger", resource=f"acct:{user}@{base[7:]}"
            )
            assert status == 404

        # Actor documents: each on its own domain, with its own keys; the other's path
        # on this domain is unknown. Each domain has its own application actor.
        documents = {}
        for base, name, other in ((alpha_url, "alpha", "beta"), (beta_url, "beta", "alpha")):
            status, documents[name] = await get(http, f"{base}/users/{name}")
            assert status == 200
            assert documents[name]["id"] == f"{base}/users/{name}"
            assert (await get(http, f"{base}/users/{other}"))[0] == 404
            assert (await get(http, f"{base}/@{other}"))[0] == 404
            assert (await get(http, f"{base}/users/{other}/followers"))[0] == 404
            status, documents[f"app-{name}"] = await get(http, f"{base}/actor")
            assert documents[f"app-{name}"]["id"] == f"{base}/actor"
        keys = {d["publicKey"]["publicKeyPem"] for d in documents.values()}
        assert len(keys) == 4

        # Forwarded headers choose nothing: only Host routes (the proxy sets it), so a
        # client cannot reach another organisation through X-Forwarded-Host.
        forwarded = {
            "X-Forwarded-Host": alpha_host,
            "X-Forwarded-Proto": "https",
            "Forwarded": f"host={alpha_host};proto=https",
        }
        async with http.get(f"{beta_url}/users/alpha", headers={**AS2, **forwarded}) as response:
            assert response.status == 404
        async with http.get(f"{beta_url}/users/beta", headers={**AS2, **forwarded}) as response:
            assert (await response.json(content_type=None))["id"] == f"{beta_url}/users/beta"

        # Admin accounts belong to one organisation: alpha's login opens nothing on
        # beta's domain, with its password or with its session.
        async with host.rt.sessions.begin() as session:
            await store.set_password(
                session, alpha.id, "camille", PASSWORD, host.rt.clock.now(), "owner"
            )
        async with new_client() as admin:
            assert (await admin_login(admin, alpha_url)).status == 303
            token = admin.cookie_jar.filter_cookies(URL(f"{alpha_url}/admin"))[COOKIE].value
            async with admin.get(f"{alpha_url}/admin", allow_redirects=False) as response:
                assert response.status == 200
            assert (await admin_login(admin, beta_url)).status == 401
        async with aiohttp.ClientSession() as stranger:
            stolen = {"Cookie": f"{COOKIE}={token}"}
            async with stranger.get(
                f"{beta_url}/admin", headers=stolen, allow_redirects=False
            ) as response:
                assert response.status == 303
                assert response.headers["Location"].startswith("/admin/login")

        # carol follows alpha only; alpha follows carol.
        await follow(carol, f"@alpha@{alpha_host}")
        await follow(host, f"@{carol.handle}")

        async def followed_both_ways() -> bool:
            async with host.rt.sessions() as session:
                followers = await session.scalar(
                    select(func.count())
                    .select_from(Follower)
                    .where(Follower.local_actor_id == alpha.id)
                )
            _, collection = await get(http, f"{alpha_url}/users/alpha/following")
            return followers == 1 and collection["totalItems"] == 1

        await until(followed_both_ways, what="carol and alpha following each other")
        _, beta_followers = await get(http, f"{beta_url}/users/beta/followers")
        _, beta_following = await get(http, f"{beta_url}/users/beta/following")
        assert (beta_followers["totalItems"], beta_following["totalItems"]) == (0, 0)
        _, alpha_followers = await get(http, f"{alpha_url}/users/alpha/followers")
        assert alpha_followers["totalItems"] == 1

        # beta blocks carol's domain: alpha still hears from carol.
        async with host.rt.sessions.begin() as session:
            await trust.add(session, beta.id, "domain", carol_host, host.rt.clock.now())

        # carol asks to follow beta too: beta's inbox refuses her, alpha's is untouched.
        await follow(carol, f"@beta@{beta_host}")

        async def refused() -> bool:
            async with carol.rt.sessions() as session:
                statuses = (
                    await session.execute(
                        select(Delivery.last_status).where(Delivery.inbox_url.startswith(beta_url))
                    )
                ).scalars()
                return 403 in set(statuses)

        await until(refused, what="beta's inbox refusing carol")
        async with host.rt.sessions() as session:
            to_beta = await session.scalar(
                select(func.count()).select_from(InboxItem).where(InboxItem.recipient_id == beta.id)
            )
            beta_followers_rows = await session.scalar(
                select(func.count()).select_from(Follower).where(Follower.local_actor_id == beta.id)
            )
        assert (to_beta, beta_followers_rows) == (0, 0)

        # carol publishes a practice: it reaches alpha's library, not beta's.
        carol_org = await carol.organisation()
        async with carol.rt.sessions.begin() as session:
            draft = practices.parse_file(PRACTICE.format(title="Pratique de carol"), "CC0-1.0")
            await practices.publish(session, carol_org, draft, carol.rt.clock.now(), "fr")
        carol.rt.delivery_wakeup.set()

        async def in_alpha_library() -> bool:
            return "Pratique de carol" in await page(http, f"{alpha_url}/library")

        await until(in_alpha_library, what="carol's practice in alpha's library")
        assert "Pratique de carol" not in await page(http, f"{beta_url}/library")
        assert "Pratique de carol" in await page(http, f"{alpha_url}/tags/6")
        assert "Pratique de carol" not in await page(http, f"{beta_url}/tags/6")
        data = ["--data-dir", str(host.data_dir), "--json", "--actor"]
        code, out = await asyncio.to_thread(
            run_cli, capsys, "library", *data, "alpha@" + alpha_host
        )
        assert code == 0
        assert [item["title"] for item in json.loads(out)] == ["Pratique de carol"]
        code, out = await asyncio.to_thread(run_cli, capsys, "library", *data, "beta@" + beta_host)
        assert (code, json.loads(out)) == (0, [])
        # The CLI acts for the organisation it is told to, and shows only its own.
        listings = {}
        for handle in (f"alpha@{alpha_host}", f"beta@{beta_host}"):
            for command in ("followers", "following", "blocks"):
                code, out = await asyncio.to_thread(run_cli, capsys, command, *data, handle)
                assert code == 0
                listings[handle.split("@")[0], command] = json.loads(out)
        assert [f["id"] for f in listings["alpha", "followers"]] == [carol.actor_id]
        assert [f["id"] for f in listings["alpha", "following"]] == [carol.actor_id]
        assert listings["beta", "followers"] == listings["beta", "following"] == []
        assert listings["alpha", "blocks"] == []
        assert [b["value"] for b in listings["beta", "blocks"]] == [carol_host]

        # Content settings of its own: beta writes in Breton under CC0, alpha keeps the
        # install's (French, CC BY-SA). The CLI reads them per --actor.
        config = host.data_dir / CONFIG_NAME
        config.write_text(
            config.read_text(encoding="utf-8")
            + f'\n[organisations."beta@{beta_host}".content]\n'
            + 'language = "br"\ndefault_licence = "CC0-1.0"\n',
            encoding="utf-8",
        )
        notes = {}
        for handle in (f"alpha@{alpha_host}", f"beta@{beta_host}"):
            argv = ["--data-dir", str(host.data_dir), "--actor", handle]
            code, out = await asyncio.to_thread(run_cli, capsys, "post", *argv, "Demat")
            assert code == 0
            _, notes[handle.split("@")[0]] = await get(http, out.strip())
            code, out = await asyncio.to_thread(run_cli, capsys, "profile", *argv)
            fields = {a["name"]: a["value"] for a in json.loads(out)["attachment"]}
            notes[handle.split("@")[0] + "-licence"] = fields["Licence des contenus partagés"]
        assert list(notes["alpha"]["contentMap"]) == ["fr"]
        assert list(notes["beta"]["contentMap"]) == ["br"]
        assert "CC0" in notes["beta-licence"]
        assert "CC0" not in notes["alpha-licence"]

        # Outgoing: alpha's note goes to carol; beta's note has nobody to go to.
        for org in (alpha, beta):
            async with host.rt.sessions.begin() as session:
                await publish.post_note(
                    session, org, f"Bonjour de {org.username}", host.rt.clock.now(), "fr"
                )
        host.rt.delivery_wakeup.set()

        async def carol_got_alpha_note() -> bool:
            async with carol.rt.sessions() as session:
                rows = (
                    (
                        await session.execute(
                            select(InboxItem.actor_uri).where(InboxItem.activity_type == "Create")
                        )
                    )
                    .scalars()
                    .all()
                )
            return f"{alpha_url}/users/alpha" in rows

        await until(carol_got_alpha_note, what="alpha's note at carol")
        async with carol.rt.sessions() as session:
            senders = set((await session.execute(select(InboxItem.actor_uri))).scalars())
        assert not any(s.startswith(beta_url) for s in senders)
        async with host.rt.sessions() as session:
            beta_deliveries = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
                .where(OutboxActivity.local_actor_id == beta.id)
            )
        assert beta_deliveries == 0

        # carol's practice went to alpha's domain only (her follower), never to beta's.
        async with carol.rt.sessions() as session:
            inboxes = set(
                (
                    await session.execute(
                        select(Delivery.inbox_url)
                        .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
                        .where(OutboxActivity.activity_type == "Create")
                    )
                ).scalars()
            )
        assert inboxes and all(url.startswith(alpha_url) for url in inboxes)

        # Outbox collections show each organisation's own activities only.
        _, alpha_outbox = await get(http, f"{alpha_url}/users/alpha/outbox")
        _, beta_outbox = await get(http, f"{beta_url}/users/beta/outbox")
        # Public activities only: each organisation's own two notes.
        assert (alpha_outbox["totalItems"], beta_outbox["totalItems"]) == (2, 2)
