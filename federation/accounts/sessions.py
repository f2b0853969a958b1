"""Server-side sessions of /admin: a random token in the cookie, its SHA-256 in the
database, a CSRF token per session, a fixed lifetime."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.store.models import Account, AdminSession

LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Current:
    """Who is logged in on this request."""

    session_id: int
    account_id: int
    login: str
    role: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


async def open_session(session: AsyncSession, account: Account, now: datetime) -> str:
    """A new session for `account`; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            token_hash=_digest(token),
            account_id=account.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    # Forget expired sessions while we are here: the table stays small.
    await session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
    return token


async def current(
    session: AsyncSession, token: str | None, org_id: int, now: datetime
) -> Current | None:
    """The live session of this token for this organisation, or None."""
    if not token or len(token) > 128:
        return None
    query = (
        select(AdminSession, Account)
        .join(Account, Account.id == AdminSession.account_id)
        .where(
            AdminSession.token_hash == _digest(token),
            AdminSession.expires_at > now,
            Account.local_actor_id == org_id,
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    live, account = row
    return Current(live.id, account.id, account.login, account.role, live.csrf_token)


async def close(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(AdminSession).where(AdminSession.id == session_id))
