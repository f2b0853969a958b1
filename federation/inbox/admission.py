"""Who may send us activities at all: blocks, and the members-only mode.

Blocks are checked before any fetch, from the request alone (the activity's actor
and the signing key's host), so that a blocked party costs us nothing; each
organisation's blocks are kept a moment in memory (`federation.served`). Membership
is checked after the signature, on the actor document the key fetch cached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from federation import charter
from federation.actors import trust
from federation.errors import Forbidden
from federation.runtime import Runtime
from federation.store.models import RemoteActor
from federation.vocab.normalize import Activity


async def check_blocks(
    rt: Runtime,
    organisations: Sequence[int],
    actor_uri: str,
    key_id: str | None,
) -> None:
    """Refuse (403) a party that every addressed organisation blocks: the activity's
    actor, or the owner of the signing key (`key_id`, None if the signature is
    unreadable; it is refused later anyway)."""
    if not organisations:
        return
    parties = [actor_uri]
    if key_id is not None:
        parties.append(key_id)
    for organisation in organisations:
        blocked = await _blocks_of(rt, organisation)
        if not any(blocked(party) for party in parties):
            return
    raise Forbidden("you are blocked by this server")


async def _blocks_of(rt: Runtime, organisation: int) -> Callable[[str], bool]:
    """The organisation's blocks, read once per `served.TTL` (federation.served): a
    block recorded by this process applies to the next request, one recorded by
    another process within `served.TTL`."""
    blocked: Callable[[str], bool] | None = rt.served.blocks.get(organisation)
    if blocked is None:
        async with rt.sessions() as session:
            blocked = await trust.matcher(session, organisation)
        rt.served.blocks.put(organisation, blocked)
    return blocked


def is_member_document(document: object) -> bool:
    return isinstance(document, dict) and charter.adhesion_of(document) is not None


def _allowed_domain(rt: Runtime, actor_uri: str) -> bool:
    host = trust.host_of(actor_uri)
    return any(host == d or host.endswith(f".{d}") for d in rt.settings.trust.allowed_domains)


async def check_membership(rt: Runtime, activity: Activity) -> None:
    """In members-only mode, refuse (403) what non-members send, with the reason."""
    settings = rt.settings.trust
    if not settings.members_only or _allowed_domain(rt, activity.actor):
        return
    async with rt.sessions() as session:
        document = (
            await session.execute(
                select(RemoteActor.document).where(RemoteActor.uri == activity.actor)
            )
        ).scalar_one_or_none()
    if is_member_document(document):
        return
    undo_of_follow = activity.type == "Undo" and (
        activity.object is not None and activity.object.get("type") == "Follow"
    )
    if settings.non_member_followers and (activity.type == "Follow" or undo_of_follow):
        return
    raise Forbidden(
        "this server only accepts activities from members of the Déclics network "
        "(an actor that states its charter adhesion)"
    )
