"""Publishing what the actor document also shows, and keeping it in step: the
commitments (the charter adhesion) and the data policy (the storage country).

The one use-case behind `declics commitments publish`, `declics policy publish` and the
admin's forms: when the profile changes because of them, followers get an `Update` of
the actor too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import commitments, identity, licences, policy
from federation.errors import CommandError
from federation.outbox import profile
from federation.settings import ContentSettings
from federation.store.models import LocalActor, LocalObject, OutboxActivity


async def _profile_update(
    session: AsyncSession, actor: LocalActor, now: datetime, content: ContentSettings
) -> None:
    storage = await identity.storage_country(session, actor, now)
    name = licences.display_name(content.default_licence)
    await profile.update(session, actor, {}, now, name, storage)


async def publish_commitments(
    session: AsyncSession,
    actor_id: int,
    draft: commitments.CommitmentsDraft,
    now: datetime,
    content: ContentSettings,
) -> tuple[LocalObject, OutboxActivity | None]:
    """Publish (Create, Update, or nothing when unchanged); the first time, the profile
    shows the adhesion and followers are told."""
    actor = await local.by_id(session, actor_id)
    if actor is None:
        raise CommandError("the organisation vanished")
    before = (actor.charter_version, actor.charter_signed_on)
    obj, sent = await commitments.publish(session, actor, draft, now, content.language)
    if before != (actor.charter_version, actor.charter_signed_on):
        await _profile_update(session, actor, now, content)
    return obj, sent


async def publish_policy(
    session: AsyncSession,
    actor: LocalActor,
    draft: policy.PolicyDraft,
    now: datetime,
    content: ContentSettings,
    effective: date | None = None,
) -> tuple[LocalObject, date]:
    """A first policy (in force at once) or a change after the notice period; when the
    storage country shown in the profile changes, followers are told."""
    before = await identity.storage_country(session, actor, now)
    obj, starts = await policy.publish(
        session,
        actor,
        draft,
        now,
        notice_days=content.policy_notice_days,
        effective=effective,
        language=content.language,
    )
    if await identity.storage_country(session, actor, now) != before:
        await _profile_update(session, actor, now, content)
    return obj, starts
