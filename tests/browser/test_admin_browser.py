"""The admin and the public pages in a real headless Chromium: log in, publish with a
preview, edit commitments, approve a follow request, hide a reply, read the delivery
ledger; hostile replies execute nothing; forms without their CSRF token are refused."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from federation.actors import follows
from federation.store.models import Interaction, LocalActor
from tests.browser.conftest import chromium, logged_in, screenshot
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import delivery_of, followed_by
from tests.e2e.test_inbox_refusals import follow_of
from tests.e2e.test_interactions import reply
from tests.e2e.test_practices import practice_file, publish
from tests.support.instance import Instance
from tests.support.wait import until

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, ConsoleMessage, Page

pytestmark = pytest.mark.browser
FAST = {"poll_interval_seconds": 0.05}


def watch_csp(page: Page) -> list[str]:
    """Console messages about the Content-Security-Policy (there must be none)."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    return seen


async def publish_in_browser(page: Page, a: Instance, title: str) -> None:
    await page.goto(f"{a.base_url}/admin/practices/new")
    await page.fill("#title", title)
    await page.fill("#body", "# Comment faire\n\nUn outil *commun* pour la paie.")
    await page.check("input[name=themes][value='6']")
    await page.click("button[value=publish]")
    await page.wait_for_url("**/admin/practices?published=*")


async def test_login_then_publish_a_practice_with_live_and_server_previews(
    instances: InstanceFactory, browser: BrowserContext
) -> None:
    a = await instances("collectif", delivery=FAST)
    login_page = await browser.new_page()
    await login_page.goto(f"{a.base_url}/admin/login")
    await screenshot(login_page, "admin-login")
    page = await logged_in(browser, a)
    csp = watch_csp(page)
    await screenshot(page, "admin-home")
    await page.click("nav.admin-menu >> text=Pratiques")
    await page.click("text=Écrire une pratique")
    await page.fill("#title", "Mutualiser la paie")
    await page.fill("#body", "# Paie\n\nUn outil *commun*.")
    # The live preview (static/admin.js calling /admin/preview) shows the Markdown.
    await page.wait_for_selector("#preview-output em")
    assert await page.inner_text("#preview-output em") == "commun"
    # The preview button (works without JavaScript) keeps what was typed.
    await page.click("button[value=preview]")
    await page.wait_for_selector("#preview-output h1")
    assert await page.input_value("#title") == "Mutualiser la paie"
    assert "*commun*" in await page.input_value("#body")
    # Publishing without a theme: the error is next to the field, nothing is lost.
    await page.click("button[value=publish]")
    await page.wait_for_selector("#themes-error")
    assert await page.input_value("#title") == "Mutualiser la paie"
    await page.check("input[name=themes][value='6']")
    await screenshot(page, "admin-practice-form")
    await page.click("button[value=publish]")
    await page.wait_for_url("**/admin/practices?published=*")
    assert "Mutualiser la paie" in await page.inner_text("table")
    await screenshot(page, "admin-practices")
    await page.click("table >> text=Mutualiser la paie")
    await page.wait_for_url(f"{a.base_url}/practices/mutualiser-la-paie")
    assert await page.inner_text("article.practice h1") == "Mutualiser la paie"
    await screenshot(page, "public-practice")
    # An event, through the admin too: an error on its field, a live preview, published,
    # then seen on the public page (with a count of participants, not their names).
    await page.goto(f"{a.base_url}/admin")
    await page.click("nav.admin-menu >> text=Événements")
    await page.click("text=Annoncer un événement")
    await page.fill("#title", "Atelier paie partagée")
    await page.fill("#body", "Venez avec vos *fiches de paie* anonymisées.")
    await page.wait_for_selector("#preview-output em")
    await page.fill("#start", "2027-02-11T14:00")
    await page.fill("#end", "2027-02-11T13:00")
    await page.fill("#place_name", "Maison des coopératives")
    await page.fill("#place_locality", "Lyon")
    await page.click("button[value=publish]")
    await page.wait_for_selector("#end-error")
    assert await page.input_value("#place_locality") == "Lyon"
    await page.fill("#end", "2027-02-11T17:00")
    await page.select_option("#join_mode", "restricted")
    await page.check("input[name=themes][value='7']")
    await screenshot(page, "admin-event-form")
    await page.click("button[value=publish]")
    await page.wait_for_url("**/admin/events?published=*")
    await screenshot(page, "admin-events")
    await page.click("table >> text=Atelier paie partagée")
    await page.wait_for_url(f"{a.base_url}/events/atelier-paie-partagee")
    assert await page.inner_text("h1") == "Atelier paie partagée"
    text = await page.inner_text("main")
    assert "11/02/2027 14:00" in text and "Maison des coopératives" in text
    assert "0 participant" in text
    await screenshot(page, "public-event")
    assert csp == []


async def test_preview_and_publish_work_without_javascript(
    instances: InstanceFactory, tmp_path: Path
) -> None:
    a = await instances("collectif")
    async with chromium(tmp_path / "no-js-profile", javascript=False) as context:
        page = await logged_in(context, a)
        await page.goto(f"{a.base_url}/admin/practices/new")
        await page.fill("#title", "Sans JavaScript")
        await page.fill("#body", "Un texte *simple*.")
        await page.check("input[name=themes][value='3']")
        await page.click("button[value=preview]")
        await page.wait_for_selector("#preview-output em")
        assert await page.input_value("#title") == "Sans JavaScript"
        await page.click("button[value=publish]")
        await page.wait_for_url("**/admin/practices?published=*")
        assert "Sans JavaScript" in await page.inner_text("table")


async def test_edit_commitments_with_an_error_then_saved(
    instances: InstanceFactory, browser: BrowserContext
) -> None:
    a = await instances("collectif")
    page = await logged_in(browser, a)
    await page.goto(f"{a.base_url}/admin/commitments")
    await page.fill("#signed_on", "2023-09-14")
    await page.select_option("#progress-5", "in-progress")
    await page.fill("#evidence-5", "https://coop.example/hebergement")
    await page.click("text=Publier les engagements")
    await page.wait_for_selector("#statement-5-error")
    assert await page.input_value("#evidence-5") == "https://coop.example/hebergement"
    assert await page.get_attribute("#statement-5", "aria-invalid") == "true"
    await page.fill("#statement-5", "Nos données restent en France, chez une coopérative.")
    await page.click("text=Publier les engagements")
    await page.wait_for_url("**/admin/commitments?saved=changed")
    await screenshot(page, "admin-commitments")
    await page.select_option("#progress-5", "achieved")
    await page.click("text=Publier les engagements")
    await page.wait_for_url("**/admin/commitments?saved=changed")
    await page.click("text=Historique et changements")
    history = await page.inner_text("main")
    assert "« en cours » → « atteint »" in history


async def test_approve_a_follow_request_and_follow_by_handle(
    instances: InstanceFactory, peers: PeerFactory, browser: BrowserContext
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice", "bob"])
    page = await logged_in(browser, a)
    # The profile page turns manual approval on.
    await page.goto(f"{a.base_url}/admin/profile")
    await page.check("input[name=manual_approval]")
    await page.click("main >> text=Enregistrer")
    await page.wait_for_url("**/admin/profile?saved=1")
    status, answer = await peer.send("alice", f"{a.actor_id}/inbox", follow_of(peer, a.actor_id))
    assert status == 202, answer

    async def pending() -> bool:
        async with a.rt.sessions() as session:
            return bool(await follows.followers(session, (await a.organisation()).id, "pending"))

    await until(pending, what="the follow request")
    await page.goto(f"{a.base_url}/admin/follows")
    row = page.locator("li", has_text="@alice@")
    await screenshot(page, "admin-follows")
    await row.locator("button[value=accept]").click()
    await page.wait_for_url("**/admin/follows?done=accepted")

    async def accepted() -> bool:
        return bool(peer.inbox_of("Accept"))

    await until(accepted, what="the Accept at the peer")
    assert peer.inbox_of("Accept")[0].verified
    # Follow someone by handle: WebFinger, then a Follow to its inbox.
    await page.fill("#handle", "pas une adresse")
    await page.click("text=Suivre >> nth=-1")
    await page.wait_for_selector("#handle-error")
    assert await page.input_value("#handle") == "pas une adresse"
    await page.fill("#handle", f"@bob@{peer.host}")
    await page.click("section >> button:has-text('Suivre')")
    await page.wait_for_url("**/admin/follows?done=follow")

    async def followed() -> bool:
        return any(r.activity["actor"] == a.actor_id for r in peer.inbox_of("Follow"))

    await until(followed, what="our Follow at the peer")


HOSTILE = (
    '<p>Merci !<script>window.pwned = "script"; alert("script")</script>'
    "<img src=\"/static/none.png\" onerror=\"window.pwned = 'onerror'; alert('onerror')\">"
    "<a href=\"javascript:window.pwned='href';alert('href')\">clic</a>"
    ' <a href="https://ok.example/">lien</a></p>'
)


async def nothing_ran(page: Page, dialogs: list[str]) -> None:
    """From inside the page: no flag set by a script, no dialog, no script, no handler
    attribute, no javascript: link in the reply's DOM."""
    assert await page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    found: dict[str, Any] = await page.evaluate(
        """() => {
            const reply = document.querySelector("article.reply .content");
            const links = [...reply.querySelectorAll("a")].map(a => a.getAttribute("href"));
            const handlers = [...reply.querySelectorAll("*")].filter(
                el => [...el.attributes].some(at => at.name.startsWith("on"))).length;
            return {text: reply.textContent, links: links,
                    scripts: reply.querySelectorAll("script").length, handlers: handlers,
                    images: reply.querySelectorAll("img").length};
        }"""
    )
    assert "Merci" in found["text"]
    assert found["scripts"] == 0
    assert found["handlers"] == 0
    assert not any(str(href).lower().startswith("javascript:") for href in found["links"])
    assert "https://ok.example/" in found["links"]


async def test_hostile_reply_executes_nothing_and_is_hidden_from_the_admin(
    instances: InstanceFactory, peers: PeerFactory, browser: BrowserContext
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    await followed_by(a, peer)
    target = await publish(a, practice_file("Accueillir les bénévoles"))
    status, answer = await peer.send("alice", f"{a.base_url}/inbox", reply(peer, target, HOSTILE))
    assert status == 202, answer

    async def stored() -> bool:
        async with a.rt.sessions() as session:
            return (await session.execute(select(Interaction))).scalars().first() is not None

    await until(stored, what="the reply")
    page = await logged_in(browser, a)
    dialogs: list[str] = []

    async def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    for url in (target, f"{a.base_url}/admin/replies"):
        await page.goto(url)
        await page.wait_for_load_state("load")
        await nothing_ran(page, dialogs)
        # The link lost its javascript: href: clicking it runs nothing.
        await page.click("article.reply a:has-text('clic')", force=True)
        await nothing_ran(page, dialogs)
    await screenshot(page, "admin-replies")
    await page.click("article.reply >> text=Masquer")
    await page.wait_for_selector("article.reply.hidden-reply")
    await page.goto(target)
    assert "Merci" not in await page.inner_text("main")
    await page.goto(f"{a.base_url}/admin/replies")
    await page.click("article.reply >> text=Afficher")
    await page.wait_for_selector("article.reply:not(.hidden-reply)")
    await page.goto(target)
    assert "Merci" in await page.inner_text("main")


async def test_delivery_ledger_of_a_practice_sent_to_a_live_and_a_down_peer(
    instances: InstanceFactory, peers: PeerFactory, browser: BrowserContext
) -> None:
    a = await instances("collectif", delivery=FAST)
    live = await peers(["alice"])
    down = await peers(["bob"])
    await followed_by(a, live, "alice")
    await followed_by(a, down, "bob")
    await down.stop()
    page = await logged_in(browser, a)
    await publish_in_browser(page, a, "Partager un local")

    async def both_tried() -> bool:
        up = await delivery_of(a, f"{live.base}/inbox")
        gone = await delivery_of(a, f"{down.base}/inbox")
        return (
            up is not None and up.state == "delivered" and gone is not None and gone.attempts >= 1
        )

    await until(both_tried, what="one delivery done, one failed attempt")
    await page.click("table >> text=Livraisons")
    await page.click("table a:has-text('Publication')")
    await page.wait_for_selector("table.ledger")
    live_row = page.locator("tr", has_text=live.host)
    down_row = page.locator("tr", has_text=down.host)
    assert "livrée il y a" in await live_row.inner_text()
    why = await down_row.locator("td.why").inner_text()
    assert "injoignable depuis" in why
    assert "nouvel essai à" in why
    await screenshot(page, "admin-delivery-ledger")
    await down_row.locator("text=Réessayer").click()
    await page.wait_for_selector("text=1 livraison relancée.")
    # The same page in English, through the catalogue.
    await page.goto(page.url.split("?")[0] + "?lang=en")
    assert "unreachable for" in await page.locator("tr", has_text=down.host).inner_text()


async def test_forms_without_their_csrf_token_are_refused_and_logout_ends_the_session(
    instances: InstanceFactory, browser: BrowserContext
) -> None:
    a = await instances("collectif")
    page = await logged_in(browser, a)
    await page.goto(f"{a.base_url}/admin/profile")
    await page.fill("#name", "Nom falsifié")
    await page.evaluate(
        """document.querySelector('form[action="/admin/profile"] input[name=csrf]').remove()"""
    )
    async with page.expect_response(
        lambda r: r.url.endswith("/admin/profile") and r.request.method == "POST"
    ) as info:
        await page.click("main >> text=Enregistrer")
    response = await info.value
    assert response.status == 403
    assert "CSRF" in await page.inner_text("main")
    async with a.rt.sessions() as session:
        names = (await session.execute(select(LocalActor.name))).scalars().all()
    assert "Nom falsifié" not in names
    await page.goto(f"{a.base_url}/admin")
    await page.click("text=Se déconnecter")
    await page.wait_for_url(f"{a.base_url}/admin/login")
    await page.goto(f"{a.base_url}/admin/practices")
    assert page.url.startswith(f"{a.base_url}/admin/login?next=")
