"""The web admin over HTTP: login, sessions, CSRF, roles, rate limit, and each page
valid HTML; forms keep what was typed and name the faulty field."""

from __future__ import annotations

import html5lib
from sqlalchemy import select

from federation.store.models import AdminSession, LocalObject
from tests.conftest import InstanceFactory
from tests.support.admin import PASSWORD, add_account, csrf_of, log_in, new_client


def valid_html(page: str) -> None:
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)


async def test_logged_out_admin_redirects_to_login_and_login_opens_a_session(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with new_client() as http:
        async with http.get(f"{a.base_url}/admin/practices", allow_redirects=False) as r:
            assert r.status == 303
            assert r.headers["Location"] == "/admin/login?next=%2Fadmin%2Fpractices"
        async with http.get(f"{a.base_url}/admin/login") as r:
            page = await r.text()
            valid_html(page)
            assert "Content-Security-Policy" in r.headers
        wrong = await log_in(http, a, password="not the password")
        assert wrong.status == 401
        ok = await log_in(http, a)
        assert ok.status == 303
        cookie = ok.cookies["declics_admin"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/admin"
        assert not cookie["secure"]  # http base URL (tests); https sets Secure
        async with http.get(f"{a.base_url}/admin") as r:
            assert r.status == 200
            assert r.headers["Cache-Control"] == "no-store"
            page = await r.text()
            valid_html(page)
            assert "camille" in page
    async with a.rt.sessions() as session:
        stored = (await session.execute(select(AdminSession))).scalars().one()
    # Only a digest of the token is kept.
    assert stored.token_hash != cookie.value
    assert len(stored.token_hash) == 64


async def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with new_client() as http:
        await log_in(http, a)
        form = {"title": "Sans jeton", "body": "Texte", "themes": "7", "licence": "CC-BY-4.0"}
        async with http.post(
            f"{a.base_url}/admin/practices/new",
            data={**form, "action": "publish"},
            headers={"Accept": "text/html"},
        ) as r:
            assert r.status == 403
            assert "CSRF" in await r.text()
        async with http.post(
            f"{a.base_url}/admin/practices/new",
            data={**form, "action": "publish", "csrf": "forged"},
        ) as r:
            assert r.status == 403
            assert "CSRF" in (await r.json())["error"]
    async with a.rt.sessions() as session:
        assert (await session.execute(select(LocalObject))).scalars().first() is None


async def test_login_without_its_form_token_is_refused(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with (
        new_client() as http,
        http.post(
            f"{a.base_url}/admin/login", data={"login": "camille", "password": PASSWORD}
        ) as r,
    ):
        assert r.status == 403


async def test_roles_limit_the_areas(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await add_account(a, "dominique", role="moderator")
    async with new_client() as http:
        await log_in(http, a, "dominique")
        async with http.get(f"{a.base_url}/admin/practices") as r:
            assert r.status == 403
        async with http.get(f"{a.base_url}/admin/replies") as r:
            assert r.status == 200
        async with http.get(f"{a.base_url}/admin") as r:
            page = await r.text()
        assert "/admin/follows" in page
        assert "/admin/practices" not in page


async def test_login_attempts_are_limited_per_account(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with new_client() as http:
        statuses = [(await log_in(http, a, password=f"wrong {n}")).status for n in range(6)]
        assert statuses == [401] * 5 + [429]
        # Even the right password waits now.
        assert (await log_in(http, a)).status == 429


async def test_practice_form_keeps_input_on_error_previews_and_publishes(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with new_client() as http:
        await log_in(http, a)
        async with http.get(f"{a.base_url}/admin/practices/new") as r:
            page = await r.text()
            valid_html(page)
            token = csrf_of(page)
        body = "# Titre\n\nUn *texte* <script>x()</script>"
        async with http.post(
            f"{a.base_url}/admin/practices/new",
            data={"csrf": token, "title": "", "body": body, "licence": "CC-BY-4.0"},
        ) as r:
            assert r.status == 422
            page = await r.text()
            valid_html(page)
        assert 'id="title-error"' in page
        assert 'id="themes-error"' in page
        assert "Un *texte* &lt;script&gt;" in page  # what was typed, kept (escaped)
        async with http.post(
            f"{a.base_url}/admin/preview", data={"csrf": token, "body": body}
        ) as r:
            preview = await r.text()
        assert "<em>texte</em>" in preview
        assert "<script>" not in preview
        async with http.post(
            f"{a.base_url}/admin/practices/new",
            data={
                "csrf": token,
                "title": "Compter ensemble",
                "body": body,
                "themes": "7",
                "licence": "CC-BY-4.0",
                "action": "publish",
            },
            allow_redirects=False,
        ) as r:
            assert r.status == 303
        for path in (
            "/admin/practices",
            "/admin/practices/compter-ensemble",
            "/admin/commitments",
            "/admin/profile",
            "/admin/policy",
            "/admin/follows",
            "/admin/replies",
            "/admin/deliveries",
            "/admin?lang=en",
        ):
            async with http.get(f"{a.base_url}{path}") as r:
                assert r.status == 200, path
                valid_html(await r.text())
    async with a.rt.sessions() as session:
        obj = (await session.execute(select(LocalObject))).scalars().one()
    assert obj.title == "Compter ensemble"
    assert obj.themes == [7]


async def test_commitments_and_policy_forms_validate_then_publish(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with new_client() as http:
        await log_in(http, a)
        async with http.get(f"{a.base_url}/admin/commitments") as r:
            token = csrf_of(await r.text())
        bad = {
            "csrf": token,
            "signed_on": "2023-09-14",
            "progress-5": "in-progress",
            "statement-5": "",
            "evidence-5": "pas un lien",
        }
        async with http.post(f"{a.base_url}/admin/commitments", data=bad) as r:
            assert r.status == 422
            page = await r.text()
        assert 'id="statement-5-error"' in page
        assert 'id="evidence-5-error"' in page
        assert "pas un lien" in page
        good = {
            **bad,
            "statement-5": "Nous hébergeons en France.",
            "evidence-5": "https://coop.example/rapport",
        }
        async with http.post(
            f"{a.base_url}/admin/commitments", data=good, allow_redirects=False
        ) as r:
            assert r.status == 303
            assert r.headers["Location"] == "/admin/commitments?saved=changed"
        policy = {
            "csrf": token,
            "storage_country": "France",
            "host": "Coop Hébergement",
            "retention": "3 ans",
            "data": "adresse e-mail : lettre d’information",
        }
        async with http.post(f"{a.base_url}/admin/policy", data=policy, allow_redirects=False) as r:
            assert r.status == 303
        # A change needs its notice period: an earlier date is refused on its field.
        changed = {**policy, "host": "Autre hébergeur", "effective": "2000-01-01"}
        async with http.post(f"{a.base_url}/admin/policy", data=changed) as r:
            assert r.status == 422
            page = await r.text()
        assert 'id="effective-error"' in page
        assert "Autre hébergeur" in page


async def test_accounts_and_sessions_belong_to_one_organisation(
    instances: InstanceFactory,
) -> None:
    from federation.accounts import sessions, store
    from federation.actors import local

    a = await instances("collectif")
    await add_account(a)  # camille of collectif, PASSWORD
    now = a.rt.clock.now()
    async with a.rt.sessions.begin() as session:
        other = await local.create_organisation(
            session,
            base_url="http://autre.example",
            username="autre",
            name="Autre",
            summary="",
            manually_approves_followers=False,
            now=now,
        )
        await store.set_password(session, other.id, "camille", "un autre secret", now, "owner")
    ours = await a.organisation()
    async with a.rt.sessions.begin() as session:
        assert await store.authenticate(session, other.id, "camille", PASSWORD) is None
        account = await store.authenticate(session, ours.id, "camille", PASSWORD)
        assert account is not None
        token = await sessions.open_session(session, account, now)
    async with a.rt.sessions() as session:
        assert await sessions.current(session, token, ours.id, now) is not None
        assert await sessions.current(session, token, other.id, now) is None
        assert [x.login for x in await store.listing(session, other.id)] == ["camille"]
    async with new_client() as http:
        assert (await log_in(http, a, password="un autre secret")).status == 401


async def test_a_changed_password_ends_the_sessions(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with new_client() as http:
        await log_in(http, a)
        await add_account(a, password="un tout nouveau secret")
        async with http.get(f"{a.base_url}/admin", allow_redirects=False) as r:
            assert r.status == 303


async def test_edit_delete_block_and_editor_rights(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await add_account(a)
    await add_account(a, "eve", role="editor")
    async with new_client() as http:
        await log_in(http, a)
        async with http.get(f"{a.base_url}/admin/practices/new") as r:
            token = csrf_of(await r.text())
        fields = {
            "csrf": token,
            "title": "Première",
            "body": "Texte",
            "themes": "3",
            "licence": "CC-BY-4.0",
            "action": "publish",
        }
        async with http.post(f"{a.base_url}/admin/practices/new", data=fields) as r:
            assert r.status == 200
        async with http.get(f"{a.base_url}/admin/practices/premiere") as r:
            page = await r.text()
        assert 'value="Première"' in page
        async with http.post(
            f"{a.base_url}/admin/practices/premiere",
            data={**fields, "title": "Première, revue", "themes": ["3", "4"]},
        ) as r:
            assert r.status == 200
        async with a.rt.sessions() as session:
            obj = (await session.execute(select(LocalObject))).scalars().one()
        assert (obj.title, obj.version, obj.themes) == ("Première, revue", 2, [3, 4])
        async with http.get(f"{a.base_url}/admin/practices/premiere/delete") as r:
            page = await r.text()
            valid_html(page)
        assert "Supprimer définitivement" in page  # asked first: a deletion is federated
        async with http.post(
            f"{a.base_url}/admin/practices/premiere/delete", data={"csrf": token}
        ) as r:
            assert r.status == 200
        async with http.get(f"{a.base_url}/admin/practices/premiere/delete") as r:
            assert r.status == 410
        async with a.rt.sessions() as session:
            obj = (await session.execute(select(LocalObject))).scalars().one()
        assert obj.deleted_at is not None
        # Blocks: a bad value is refused on its field; a domain is blocked, then unblocked.
        block = {"csrf": token, "kind": "domain", "value": "pas un domaine/x", "reason": "spam"}
        async with http.post(f"{a.base_url}/admin/follows/block", data=block) as r:
            assert r.status == 422
            page = await r.text()
        assert 'id="block-error"' in page and "pas un domaine/x" in page
        block["value"] = "spam.example"
        async with http.post(f"{a.base_url}/admin/follows/block", data=block) as r:
            assert "spam.example" in await r.text()
        async with http.post(
            f"{a.base_url}/admin/follows/unblock",
            data={"csrf": token, "kind": "domain", "value": "spam.example"},
        ) as r:
            assert "spam.example" not in await r.text()
        # Profile: an empty name is refused on its field, what was typed stays.
        profile = {"csrf": token, "name": "", "territory": "Lyon", "summary": "<p>Coop</p>"}
        async with http.post(f"{a.base_url}/admin/profile", data=profile) as r:
            assert r.status == 422
            page = await r.text()
        assert 'id="name-error"' in page and 'value="Lyon"' in page
    async with new_client() as http:
        await log_in(http, a, "eve")
        async with http.get(f"{a.base_url}/admin/deliveries") as r:
            assert r.status == 200
        for path in ("/admin/follows", "/admin/profile", "/admin/policy", "/admin/replies"):
            async with http.get(f"{a.base_url}{path}") as r:
                assert r.status == 403, path


async def test_editing_keeps_what_the_form_does_not_show_and_profile_html_is_clean(
    instances: InstanceFactory,
) -> None:
    from tests.e2e.test_practices import publish

    a = await instances("collectif")
    await add_account(a)
    text = (
        "---\ntitle: Adoptée\nthemes: [6]\nlicence: CC-BY-SA-4.0\n"
        "links: [https://coop.example/guide]\n"
        "derived_from: https://ailleurs.example/practices/origine\n---\nCorps.\n"
    )
    await publish(a, text)
    async with new_client() as http:
        await log_in(http, a)
        async with http.get(f"{a.base_url}/admin/practices/adoptee") as r:
            token = csrf_of(await r.text())
        fields = {
            "csrf": token,
            "title": "Adoptée, revue",
            "body": "Corps revu.",
            "themes": "6",
            "licence": "CC-BY-SA-4.0",
            "action": "publish",
        }
        async with http.post(f"{a.base_url}/admin/practices/adoptee", data=fields) as r:
            assert r.status == 200
        profile = {
            "csrf": token,
            "name": "Le Collectif",
            "territory": "",
            "summary": '<p onclick="x()">Coop <script>y()</script><b>solidaire</b></p>',
        }
        async with http.post(f"{a.base_url}/admin/profile", data=profile) as r:
            assert r.status == 200
        # An unknown handle: the error is on the field, with the reason from the lookup.
        async with http.post(
            f"{a.base_url}/admin/follows/follow",
            data={"csrf": token, "handle": "@personne@127.0.0.1:9"},
        ) as r:
            assert r.status == 422
            page = await r.text()
        assert 'id="handle-error"' in page and 'value="@personne@127.0.0.1:9"' in page
    async with a.rt.sessions() as session:
        obj = (await session.execute(select(LocalObject))).scalars().one()
        org = await a.organisation()
    assert obj.title == "Adoptée, revue"
    assert obj.derived_from == "https://ailleurs.example/practices/origine"
    assert obj.document["attachment"] == [{"type": "Link", "href": "https://coop.example/guide"}]
    assert obj.document["derivedFrom"] == "https://ailleurs.example/practices/origine"
    assert "script" not in (org.summary or "") and "onclick" not in (org.summary or "")
    assert "<b>solidaire</b>" in (org.summary or "")
