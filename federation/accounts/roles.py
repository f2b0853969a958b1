"""Roles and what each may do in /admin (pure)."""

from __future__ import annotations

OWNER = "owner"
EDITOR = "editor"
MODERATOR = "moderator"
ROLES = (OWNER, EDITOR, MODERATOR)

# Areas of the admin; the owner may do everything.
PRACTICES = "practices"
COMMITMENTS = "commitments"
DELIVERIES = "deliveries"
PROFILE = "profile"
POLICY = "policy"
FOLLOWS = "follows"
REPLIES = "replies"
# The network's other commons: written like practices, so by the same roles.
TOOLS = "tools"
EVENTS = "events"
OFFERS = "offers"

_ALLOWED: dict[str, frozenset[str]] = {
    OWNER: frozenset(
        {PRACTICES, COMMITMENTS, DELIVERIES, PROFILE, POLICY, FOLLOWS, REPLIES}
        | {TOOLS, EVENTS, OFFERS}
    ),
    # The ledger says where an editor's practices went: editors read it too.
    EDITOR: frozenset({PRACTICES, COMMITMENTS, DELIVERIES, TOOLS, EVENTS, OFFERS}),
    MODERATOR: frozenset({FOLLOWS, REPLIES}),
}


def may(role: str, area: str) -> bool:
    return area in _ALLOWED.get(role, frozenset())


def areas(role: str) -> frozenset[str]:
    return _ALLOWED.get(role, frozenset())
