"""The actor document as the public sees it today: adhesion, data storage, licence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.content import licences, policy
from federation.settings import ContentSettings
from federation.store.models import LocalActor


async def storage_country(session: AsyncSession, actor: LocalActor, now: datetime) -> str | None:
    """Where the data are stored, by the policy in force today."""
    current, _upcoming = await policy.in_force(session, actor, policy.today_utc(now))
    country = current.document.get("storageCountry") if current else None
    return country if isinstance(country, str) else None


async def actor_document(
    session: AsyncSession, actor: LocalActor, content: ContentSettings, now: datetime
) -> dict[str, Any]:
    return local.document_of(
        actor,
        licences.display_name(content.default_licence),
        await storage_country(session, actor, now),
    )
