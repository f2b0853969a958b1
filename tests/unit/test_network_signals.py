"""Members are told from other fediverse accounts by their own documents alone."""

from __future__ import annotations

from typing import Any

import pytest

from federation import charter
from federation.network import signals
from federation.vocab.normalize import parse_actor, parse_nodeinfo

ACTOR = "https://coop.example/users/collectif"
TEXT = charter.load()


def actor_doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": ACTOR,
        "type": "Organization",
        "preferredUsername": "collectif",
        "name": "Le Collectif",
        "summary": '<p>Bonjour <script>alert(1)</script><a href="javascript:x">x</a></p>',
        "inbox": f"{ACTOR}/inbox",
        "outbox": f"{ACTOR}/outbox",
        "following": f"{ACTOR}/following",
        "icon": {"type": "Image", "url": "https://coop.example/logo.png"},
        "charterVersion": TEXT.version,
        "charterHash": f"sha256:{TEXT.sha256}",
        "commitmentStatements": "https://coop.example/commitments",
        "directory": f"{ACTOR}/directory",
        "territory": "  Pays de la Loire ",
    }
    doc.update(extra)
    return doc


def test_a_member_is_known_by_the_charter_it_states() -> None:
    profile = signals.member_profile(parse_actor(actor_doc()))
    assert profile is not None
    assert profile.handle == "collectif@coop.example"
    assert profile.territory == "Pays de la Loire"
    assert profile.charter_hash == TEXT.sha256
    assert profile.commitments_url == "https://coop.example/commitments"
    assert profile.directory_url == f"{ACTOR}/directory"
    assert "script" not in profile.summary and "javascript" not in profile.summary
    assert profile.icon_url == "https://coop.example/logo.png"


@pytest.mark.parametrize(
    "change",
    [
        {"charterHash": "sha256:" + "0" * 64},  # another text under the same version
        {"charterVersion": "1999-01-01"},  # a version we do not ship
        {"charterVersion": None, "charterHash": None},  # any Mastodon account
        {"charterHash": 42},
    ],
    ids=["wrong hash", "unknown version", "no adhesion", "bad type"],
)
def test_other_accounts_are_not_members(change: dict[str, Any]) -> None:
    doc = {k: v for k, v in actor_doc(**change).items() if v is not None}
    assert signals.member_profile(parse_actor(doc)) is None


def test_links_to_other_hosts_are_ignored() -> None:
    profile = signals.member_profile(
        parse_actor(
            actor_doc(
                commitmentStatements="https://elsewhere.example/commitments",
                directory="https://elsewhere.example/directory",
                following="https://elsewhere.example/following",
            )
        )
    )
    assert profile is not None
    assert (profile.commitments_url, profile.directory_url, profile.following_url) == (
        None,
        None,
        None,
    )


def nodeinfo(metadata: dict[str, Any]) -> Any:
    return parse_nodeinfo({"version": "2.1", "software": {"name": "declics"}, "metadata": metadata})


def test_nodeinfo_names_the_network_and_a_charter_we_ship() -> None:
    good = {"network": "Déclics", "charter": {"version": TEXT.version, "sha256": TEXT.sha256}}
    assert signals.nodeinfo_is_declics(nodeinfo(good))
    prefixed = {**good, "charter": {"version": TEXT.version, "sha256": f"sha256:{TEXT.sha256}"}}
    assert signals.nodeinfo_is_declics(nodeinfo(prefixed))
    for bad in (
        {**good, "network": "Autre"},
        {**good, "charter": {"version": TEXT.version}},
        {**good, "charter": {"version": TEXT.version, "sha256": "0" * 64}},
        {**good, "charter": "2023-09-14"},
        {},
    ):
        assert not signals.nodeinfo_is_declics(nodeinfo(bad))


def commitments_doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "https://coop.example/commitments",
        "type": "Article",
        "kind": "commitments",
        "attributedTo": ACTOR,
        "charterVersion": TEXT.version,
        "commitments": [
            {"number": 6, "progress": "achieved"},
            {"number": 5, "progress": "in-progress"},
            {"number": 5, "progress": "achieved"},  # stated twice: the first counts
            {"number": 99, "progress": "achieved"},
            {"number": 3, "progress": "done"},
            {"number": True, "progress": "achieved"},
            "not an object",
        ],
    }
    doc.update(extra)
    return doc


def test_progress_per_commitment_from_the_members_own_article() -> None:
    assert signals.commitments_progress(commitments_doc(), ACTOR) == (
        signals.Progress(5, "in-progress"),
        signals.Progress(6, "achieved"),
    )
    for other in (
        {"attributedTo": "https://coop.example/users/someone-else"},
        {"id": "https://elsewhere.example/commitments"},
        {"kind": "practice"},
        {"charterVersion": "1999-01-01"},
    ):
        assert signals.commitments_progress(commitments_doc(**other), ACTOR) == ()


def test_listed_ids_and_self_reported_practices() -> None:
    items: list[object] = [
        {"id": ACTOR, "practiceCount": 4},
        "https://b.example/users/b",
        {"id": "https://b.example/users/b#main"},
        "ftp://c.example/x",
        {"name": "no id"},
        42,
    ]
    assert signals.listed_ids(items) == [ACTOR, "https://b.example/users/b"]
    assert signals.self_reported_practices(items, ACTOR) == 4
    assert signals.self_reported_practices(items, "https://b.example/users/b") is None
    assert signals.self_reported_practices([{"id": ACTOR, "practiceCount": -1}], ACTOR) is None
    assert signals.self_reported_practices([{"id": ACTOR, "practiceCount": True}], ACTOR) is None
