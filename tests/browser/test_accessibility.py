"""Accessibility of the public pages and the admin, checked in a real Chromium: an axe-core
audit (WCAG 2 A/AA, no serious or critical violation) in French and in English, every
admin form control with a label, and the keyboard: a skip link, a sensible Tab order,
a visible focus, forms submitted with Enter."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import chromium, logged_in
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_commons import publish_commons
from tests.e2e.test_data_policy import EXAMPLE
from tests.e2e.test_data_policy import publish as publish_policy
from tests.e2e.test_delivery_outcomes import delivery_of, followed_by
from tests.e2e.test_interactions import reply
from tests.e2e.test_practices import practice_file, publish, publish_commitments
from tests.support.admin import PASSWORD, add_account
from tests.support.instance import Instance
from tests.support.wait import until

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.browser
FAST = {"poll_interval_seconds": 0.05}
# Installed by scripts/setup with npm (pinned version there); never committed.
AXE = Path(__file__).resolve().parents[2] / ".cache" / "axe" / "node_modules" / "axe-core"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

AUDIT = """async (tags) => {
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return result.violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => ({rule: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" "))}));
}"""

# Every input, select and textarea the operator can fill, with no label naming it.
UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
    .filter(el => !["hidden", "submit", "button", "reset", "image"].includes(el.type))
    .filter(el => {
        const labelled = [...el.labels].some(l => l.textContent.trim() !== "");
        const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/)
            .some(id => id && document.getElementById(id)?.textContent.trim());
        return !labelled && !by;
    })
    .map(el => `${el.tagName.toLowerCase()}#${el.id}[name=${el.name}]`)"""


def axe_source() -> str:
    script = AXE / "axe.min.js"
    if not script.exists():
        pytest.skip(
            "axe-core is not installed in .cache/axe (scripts/setup installs it with npm; "
            "npm is missing or the install failed)"
        )
    return script.read_text(encoding="utf-8")


def with_lang(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


async def furnished(instances: InstanceFactory, peers: PeerFactory) -> tuple[Instance, str]:
    """An instance with a practice replied to by a peer, commitments with a history, a
    tool, an event, a data policy, and a delivery ledger with a delivered and a failed
    row (one follower is down)."""
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice"])
    down = await peers(["bob"])
    await followed_by(a, peer)
    await followed_by(a, down, "bob")
    await down.stop()
    practice = await publish(a, practice_file("Mutualiser la paie"))
    status, answer = await peer.send(
        "alice", f"{a.base_url}/inbox", reply(peer, practice, "<p>Merci, <em>très</em> utile !</p>")
    )
    assert status == 202, answer
    await publish_commitments(a, "in-progress")
    await publish_commitments(a, "achieved")
    await publish_commons(a)
    await publish_policy(a, EXAMPLE.read_text(encoding="utf-8"))

    async def delivered() -> bool:
        failed = await delivery_of(a, f"{down.base}/inbox")
        return bool(peer.inbox_of("Create")) and failed is not None and failed.attempts >= 1

    await until(delivered, what="a delivery to the peer, a failed one to the other")
    return a, practice


async def public_pages(a: Instance, practice: str) -> list[str]:
    return [
        f"{a.base_url}/",
        practice,
        f"{a.base_url}/commitments",
        f"{a.base_url}/commitments/history",
        f"{a.base_url}/data-policy",
        f"{a.base_url}/charter",
        f"{a.base_url}/library?q=paie",
        f"{a.base_url}/directory",
        f"{a.base_url}/events/atelier-co-developpement",
        f"{a.base_url}/tools/planning-de-livraison",
    ]


ADMIN_PAGES = [
    "/admin/practices",
    "/admin/commitments",
    "/admin/follows",
    "/admin/replies",
    "/admin/events/new",
]


async def audit(page: Page, source: str, where: str) -> list[str]:
    await page.wait_for_load_state("load")
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(content=source)
    found: list[dict[str, Any]] = await page.evaluate(AUDIT, WCAG)
    return [f"{where}: {v['rule']} ({v['impact']}) {v['help']} at {v['nodes']}" for v in found]


# 18 pages in two languages, one audit each: about 30 s, more on a loaded machine.
@pytest.mark.timeout(300)
async def test_public_and_admin_pages_pass_axe_in_french_and_english(
    instances: InstanceFactory, peers: PeerFactory, tmp_path: Path
) -> None:
    source = axe_source()
    a, practice = await furnished(instances, peers)
    pages = await public_pages(a, practice)
    problems: list[str] = []
    # The pages send a strict Content-Security-Policy (no inline script): axe-core is
    # injected as an inline <script>, which only a context bypassing the CSP allows. The
    # CSP itself is checked by the other browser tests, in contexts that keep it.
    async with chromium(tmp_path / "axe-profile", bypass_csp=True) as context:
        page = await context.new_page()
        for lang in ("fr", "en"):
            for url in pages:
                response = await page.goto(with_lang(url, lang))
                assert response is not None and response.status == 200, url
                problems += await audit(page, source, f"{url} [{lang}]")
            await page.goto(with_lang(f"{a.base_url}/admin/login", lang))
            problems += await audit(page, source, f"login [{lang}]")
        admin = await logged_in(context, a)
        for lang in ("fr", "en"):
            for path in ADMIN_PAGES:
                await admin.goto(with_lang(f"{a.base_url}{path}", lang))
                problems += await audit(admin, source, f"{path} [{lang}]")
            # The practice form with an error shown next to its field.
            await admin.goto(with_lang(f"{a.base_url}/admin/practices/new", lang))
            await admin.fill("#title", "Sans thème")
            await admin.click("button[value=publish]")
            await admin.wait_for_selector("#themes-error")
            problems += await audit(admin, source, f"practice form with an error [{lang}]")
            # The delivery ledger of the first publication.
            await admin.goto(with_lang(f"{a.base_url}/admin/deliveries", lang))
            await admin.click("table a[href^='/admin/deliveries/'] >> nth=0")
            await admin.wait_for_selector("table.ledger")
            problems += await audit(admin, source, f"delivery ledger [{lang}]")
        # A hidden reply is drawn paler: still readable enough.
        await admin.goto(f"{a.base_url}/admin/replies")
        await admin.click("article.reply >> button:has-text('Hide')")
        await admin.wait_for_selector("article.reply.hidden-reply")
        problems += await audit(admin, source, "replies with a hidden one [en]")
        # The audit can fail: an unlabelled field and a pale text are found.
        await admin.evaluate(
            """document.querySelector("main").insertAdjacentHTML("beforeend",
                '<input name=probe><p style="color:#ddd">pâle</p>')"""
        )
        found = " ".join(await audit(admin, source, "probe"))
        assert "label" in found and "color-contrast" in found, found
    assert problems == [], "\n".join(problems)


ADMIN_FORMS = [
    "/admin/practices/new",
    "/admin/practices/mutualiser-la-paie",
    "/admin/practices/mutualiser-la-paie/delete",
    "/admin/commitments",
    "/admin/profile",
    "/admin/policy",
    "/admin/follows",
    "/admin/replies",
    "/admin/tools",
    "/admin/tools/new",
    "/admin/tools/planning-de-livraison",
    "/admin/events",
    "/admin/events/new",
    "/admin/events/atelier-co-developpement",
    "/admin/events/atelier-co-developpement/participants",
    "/admin/offers",
    "/admin/offers/new",
]


async def test_every_admin_form_control_has_a_label(
    instances: InstanceFactory, peers: PeerFactory, tmp_path: Path
) -> None:
    a, _practice = await furnished(instances, peers)
    missing: dict[str, list[str]] = {}
    counted = 0
    async with chromium(tmp_path / "labels-profile") as context:
        login = await context.new_page()
        await login.goto(f"{a.base_url}/admin/login")
        missing["/admin/login"] = await login.evaluate(UNLABELLED)
        page = await logged_in(context, a)
        for path in ADMIN_FORMS:
            response = await page.goto(f"{a.base_url}{path}")
            assert response is not None and response.status == 200, path
            missing[path] = await page.evaluate(UNLABELLED)
            counted += await page.evaluate(
                "document.querySelectorAll('input:not([type=hidden]), select, textarea').length"
            )
        # With errors shown, too.
        await page.goto(f"{a.base_url}/admin/events/new")
        await page.click("button[value=publish]")
        await page.wait_for_selector("#title-error")
        missing["event form with errors"] = await page.evaluate(UNLABELLED)
    assert counted > 50  # the query saw the forms
    assert {path: found for path, found in missing.items() if found} == {}


# What each focused control shows, and an identity to compare the order by.
FOCUSED = """(i) => {
    const el = document.activeElement;
    el.dataset.kbd = String(i);
    const s = getComputedStyle(el);
    return {key: el.id || el.name + "=" + (el.value || el.textContent.trim()),
            tag: el.tagName.toLowerCase(), inMain: !!el.closest("main"),
            style: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join("|")};
}"""
UNFOCUSED = """() => Object.fromEntries([...document.querySelectorAll("[data-kbd]")].map(el => {
    const s = getComputedStyle(el);
    const style = [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow];
    return [el.dataset.kbd, style.join("|")];
}))"""
# The controls of main, in document order: what Tab must visit, in that order.
CONTROLS = """() => [...document.querySelectorAll(
    "main a[href], main input:not([type=hidden]), main select, main textarea, main button")]
    .filter(el => !el.disabled && el.offsetParent !== null)
    .map(el => el.id || el.name + "=" + (el.value || el.textContent.trim()))"""


async def tab_through_main(page: Page) -> list[dict[str, Any]]:
    """Tab from the skip link until focus leaves main; every focused element is checked
    for a visible focus indicator."""
    await page.keyboard.press("Tab")
    first = await page.evaluate(FOCUSED, 0)
    assert first["key"] == "=" + await page.inner_text("a.skip"), first
    await page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    seen: list[dict[str, Any]] = [first]
    for i in range(1, 200):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED, i)
        if not focused["inMain"]:
            break
        seen.append(focused)
    await page.evaluate("document.activeElement.blur()")
    plain: dict[str, str] = await page.evaluate(UNFOCUSED)
    for i, focused in enumerate(seen):
        assert focused["style"] != plain[str(i)], f"no visible focus on {focused['key']}"
    return seen[1:]


async def test_keyboard_skip_link_tab_order_visible_focus_and_enter(
    instances: InstanceFactory, tmp_path: Path
) -> None:
    a = await instances("collectif")
    await add_account(a)
    async with chromium(tmp_path / "keyboard-profile") as context:
        page = await context.new_page()
        await page.goto(f"{a.base_url}/admin/login")
        # The skip link is the first stop, and jumps over the navigation to the form.
        order = await tab_through_main(page)
        assert [f["key"] for f in order] == await page.evaluate(CONTROLS)
        assert [f["key"] for f in order][:2] == ["login", "password"]
        await page.focus("#login")
        await page.keyboard.type("camille")
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{a.base_url}/admin")

        await page.goto(f"{a.base_url}/admin/practices/new")
        order = await tab_through_main(page)
        keys = [f["key"] for f in order]
        assert keys == await page.evaluate(CONTROLS)
        assert keys.index("title") < keys.index("body") < keys.index("action=publish")
        assert sum(1 for f in order if f["tag"] in ("input", "textarea", "select")) >= 5
        # Enter in a field submits the form; its first button is the preview, which
        # publishes nothing and keeps what was typed.
        await page.focus("#title")
        await page.keyboard.type("Au clavier")
        await page.focus("#body")
        await page.keyboard.type("Écrit *sans souris*.")
        await page.focus("#title")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#preview-output em")
        assert await page.input_value("#title") == "Au clavier"
        await page.focus("input[name=themes][value='6']")
        await page.keyboard.press("Space")
        await page.focus("button[value=publish]")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/admin/practices?published=*")
        assert "Au clavier" in await page.inner_text("table")
