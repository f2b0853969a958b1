"""Accounts of one organisation: create or change a password, list, remove, check a login.

Every query takes the organisation's id: an account never reaches another organisation.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.accounts import passwords, roles
from federation.errors import CommandError
from federation.store.models import Account, AdminSession

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN.match(login):
        raise CommandError("a login is 1 to 64 lower-case letters, digits, '.', '_', '-' or '@'")
    return login


async def find(session: AsyncSession, org_id: int, login: str) -> Account | None:
    query = select(Account).where(Account.local_actor_id == org_id, Account.login == login)
    return (await session.execute(query)).scalars().first()


async def set_password(
    session: AsyncSession,
    org_id: int,
    login: str,
    password: str,
    now: datetime,
    role: str | None = None,
) -> tuple[Account, bool]:
    """Create the account (role required) or change its password (and role, if given).
    Returns (account, created). A changed password ends the account's sessions."""
    login = check_login(login)
    if role is not None and role not in roles.ROLES:
        raise CommandError(f"role must be one of {', '.join(roles.ROLES)}")
    try:
        passwords.check_strength(password)
    except passwords.WeakPassword as err:
        raise CommandError(str(err)) from err
    account = await find(session, org_id, login)
    hashed = passwords.hash_password(password)
    if account is None:
        account = Account(
            local_actor_id=org_id,
            login=login,
            role=role or roles.OWNER,
            password_hash=hashed,
            created_at=now,
            password_changed_at=now,
        )
        session.add(account)
        await session.flush()
        return account, True
    account.password_hash = hashed
    account.password_changed_at = now
    if role is not None:
        account.role = role
    await session.execute(delete(AdminSession).where(AdminSession.account_id == account.id))
    return account, False


async def listing(session: AsyncSession, org_id: int) -> list[Account]:
    query = select(Account).where(Account.local_actor_id == org_id).order_by(Account.login)
    return list((await session.execute(query)).scalars())


async def remove(session: AsyncSession, org_id: int, login: str) -> None:
    account = await find(session, org_id, check_login(login))
    if account is None:
        raise CommandError(f"no account {login!r} here")
    await session.execute(delete(AdminSession).where(AdminSession.account_id == account.id))
    await session.delete(account)


async def authenticate(
    session: AsyncSession, org_id: int, login: str, password: str
) -> Account | None:
    """The account when the password is right; None otherwise (same work either way).
    scrypt takes tens of milliseconds: it runs in a thread, not in the event loop."""
    account = await find(session, org_id, login.strip().lower())
    stored = account.password_hash if account is not None else passwords.DUMMY_HASH
    good = await asyncio.to_thread(passwords.verify, password, stored)
    return account if good and account is not None else None
