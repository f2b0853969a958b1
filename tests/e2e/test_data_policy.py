"""A data-policy change is announced ahead of time and takes effect on its date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from federation.clock import FrozenClock
from federation.content import policy
from federation.errors import CommandError
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by
from tests.support.instance import Instance
from tests.support.wait import until

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "data-policy.example.toml"
AS = {"Accept": "application/activity+json"}


async def publish(instance: Instance, text: str, effective: date | None = None) -> date:
    org = await instance.organisation()
    draft = policy.parse_file(text)
    async with instance.rt.sessions.begin() as session:
        _obj, starts = await policy.publish(
            session, org, draft, instance.rt.clock.now(), notice_days=30, effective=effective
        )
    instance.rt.delivery_wakeup.set()
    return starts


async def get_json(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=AS) as response:
        assert response.status == 200
        document: dict[str, Any] = await response.json(content_type=None)
        return document


async def test_change_announced_with_notice_then_in_force_on_its_date(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    # Time is frozen at the real now: the peer signs with the real clock.
    clock = FrozenClock(datetime.now(UTC))
    today = clock.now().date()
    due = today + timedelta(days=30)
    a = await instances("collectif", clock=clock, delivery={"poll_interval_seconds": 0.05})
    peer = await peers(["alice"])
    await followed_by(a, peer)
    text = EXAMPLE.read_text(encoding="utf-8")

    # The first policy is in force at once, and the profile says where data live.
    assert await publish(a, text) == today
    actor = await get_json(a.actor_id)
    fields = {f["name"]: f["value"] for f in actor["attachment"]}
    assert fields["Données stockées en"].startswith("France")

    # A change cannot take effect before the notice period…
    moved = text.replace('storage_country = "France"', 'storage_country = "Belgique"')
    with pytest.raises(CommandError, match="30 days of notice"):
        await publish(a, moved, effective=today + timedelta(days=14))
    # …and by default takes effect when it ends; followers are told now.
    assert await publish(a, moved) == due
    announced = f"change le {due.strftime('%d/%m/%Y')}"

    async def told() -> bool:
        return any(
            announced in r.activity["object"].get("content", "") for r in peer.inbox_of("Create")
        )

    await until(told, what="the Note announcing the change")
    note = next(
        r.activity["object"]
        for r in peer.inbox_of("Create")
        if announced in r.activity["object"].get("content", "")
    )
    assert "pays de stockage" in note["content"]
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]

    # Until the date, France is in force and the change is announced.
    served = await get_json(f"{a.base_url}/data-policy")
    assert served["storageCountry"] == "France"
    assert served["upcoming"] == f"{a.base_url}/data-policy/versions/2"
    versions = await get_json(f"{a.base_url}/data-policy/versions")
    assert versions["totalItems"] == 2

    # On its date, the new version is in force, on the page and in the profile.
    clock.advance(timedelta(days=30))
    served = await get_json(f"{a.base_url}/data-policy")
    assert served["storageCountry"] == "Belgique"
    assert "upcoming" not in served
    fields = {f["name"]: f["value"] for f in (await get_json(a.actor_id))["attachment"]}
    assert fields["Données stockées en"].startswith("Belgique")
    async with aiohttp.ClientSession() as http, http.get(f"{a.base_url}/data-policy") as r:
        page = await r.text()
    assert "Données stockées en Belgique" in page


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("storage_country = 'France'", "host is required"),
        ("not toml [", "not valid TOML"),
        (
            "storage_country='F'\nhost='h'\nretention='r'\nspy = true",
            "unknown key",
        ),
        ("storage_country='F'\nhost='h'\nretention='r'", "personal data collected"),
        (
            "storage_country='F'\nhost='h'\nretention='r'\nterms_url='ftp://x'\n"
            "[[data]]\nwhat='a'\nwhy='b'",
            "terms_url",
        ),
    ],
)
def test_bad_policy_files_are_refused(text: str, reason: str) -> None:
    with pytest.raises(CommandError, match=reason):
        policy.parse_file(text)
