"""Answering a held follow request: the one use-case behind `declics approve`/`reject`
and the admin's buttons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows
from federation.errors import CommandError
from federation.inbox import admission
from federation.outbox import follow
from federation.store.models import LocalActor, RemoteActor


async def answer(
    session: AsyncSession,
    actor: LocalActor,
    requester: RemoteActor,
    now: datetime,
    *,
    accept: bool,
    follow_back_members: bool,
) -> None:
    """Accept (and follow a member back, when configured) or reject a pending request."""
    row = await follows.get_follower(session, actor.id, requester.id)
    if row is None or row.state != follows.PENDING:
        raise CommandError(f"no pending follow request from {requester.uri}")
    await follow.respond(session, actor, row, requester, now, accept=accept)
    if accept and follow_back_members and admission.is_member_document(requester.document):
        await follow.follow_back(session, actor, requester, now)
