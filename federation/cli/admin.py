"""Accounts of the web admin: set a password (creating the account), list, remove."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from federation.cli.base import Registrar, run, with_runtime
from federation.errors import CommandError


def read_password(from_stdin: bool) -> str:
    """From stdin (one line) when asked or when stdin is not a terminal; else a prompt
    asked twice. Never from the command line: argv is visible to every local user."""
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise CommandError("no password on standard input")
        return line.rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the two passwords differ")
    return first


def cmd_set_password(args: argparse.Namespace) -> int:
    from federation.accounts import store

    login = store.check_login(args.login)
    password = read_password(args.password_stdin)

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            account, created = await store.set_password(
                session, org.id, login, password, rt.clock.now(), args.role
            )
        verb = "created" if created else "updated"
        print(f"account {account.login} ({account.role}) {verb}; log in at {org.base_url}/admin")
        return 0

    return run(with_runtime(args, body))


def cmd_list(args: argparse.Namespace) -> int:
    from federation.accounts import store

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await store.listing(session, org.id)
        if not rows:
            print("(no accounts; create one with 'declics admin set-password LOGIN')")
        for account in rows:
            print(f"{account.login}\t{account.role}\tsince {account.created_at:%Y-%m-%d}")
        return 0

    return run(with_runtime(args, body))


def cmd_remove(args: argparse.Namespace) -> int:
    from federation.accounts import store

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            await store.remove(session, org.id, args.login)
        print(f"account {args.login} removed (its sessions are closed)")
        return 0

    return run(with_runtime(args, body))


def register(r: Registrar) -> None:
    from federation.accounts import roles

    admin = r.sub.add_parser("admin", help="accounts of the web admin (/admin)")
    sub = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    setpw = r.with_actor(
        r.add(
            "set-password",
            cmd_set_password,
            "create an account or change its password (read from a prompt or stdin)",
            sub,
        )
    )
    setpw.add_argument("login", help="the account's login (e.g. camille)")
    setpw.add_argument(
        "--role",
        choices=roles.ROLES,
        help="owner: everything; editor: practices and commitments; moderator: replies "
        "and follows (default for a new account: owner; unchanged otherwise)",
    )
    setpw.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    r.with_actor(r.add("list", cmd_list, "list the accounts", sub))
    remove = r.with_actor(r.add("remove", cmd_remove, "remove an account", sub))
    remove.add_argument("login")
