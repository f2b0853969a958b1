"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from federation.errors import CommandError
from federation.settings import Settings, default_data_dir, load_settings

Command = Callable[[argparse.Namespace], int]


def instance_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def instance_settings(args: argparse.Namespace) -> Settings:
    return load_settings(instance_dir(args))


def run(coro: Awaitable[int]) -> int:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def with_runtime(args: argparse.Namespace, body: Callable[[Any, Any], Awaitable[int]]) -> int:
    """Run `body(runtime, organisation)` for the organisation chosen by --actor."""
    from federation.actors import local
    from federation.runtime import build_runtime

    rt = build_runtime(instance_settings(args))
    try:
        async with rt.sessions() as session:
            orgs = await local.organisations(session)
        if not orgs:
            raise CommandError("no organisation in this instance; run 'declics init'")
        chosen = orgs[0]
        if args.actor:
            matches = [o for o in orgs if args.actor in (o.username, local.handle_of(o))]
            if not matches:
                raise CommandError(f"no organisation {args.actor!r} here")
            chosen = matches[0]
        elif len(orgs) > 1:
            raise CommandError("several organisations here: choose one with --actor")
        return await body(rt, chosen)
    finally:
        await rt.close()


async def resolve_target(rt: Any, org: Any, target: str) -> Any:
    from federation.actors import remote, webfinger
    from federation.inbox.intake import signer_for

    if target.startswith(("https://", "http://")):
        uri = target
    else:
        handle = webfinger.parse_handle(target)
        if handle is None:
            raise CommandError(f"{target!r} is neither @user@host nor an actor URL")
        uri = await webfinger.lookup(rt, handle)
    signer = await signer_for(rt, org.domain)
    return await remote.resolve(rt, uri, signer, refresh=True)


async def find_known(rt: Any, target: str) -> Any:
    """A remote actor we already know, by URL or handle (no network)."""
    from sqlalchemy import select

    from federation.actors import webfinger
    from federation.store.models import RemoteActor

    async with rt.sessions() as session:
        if target.startswith(("https://", "http://")):
            query = select(RemoteActor).where(RemoteActor.uri == target)
        else:
            handle = webfinger.parse_handle(target)
            if handle is None:
                raise CommandError(f"{target!r} is neither @user@host nor an actor URL")
            host = handle.domain.split(":")[0]
            query = select(RemoteActor).where(
                RemoteActor.username == handle.username, RemoteActor.host == host
            )
        found = (await session.execute(query)).scalars().first()
    if found is None:
        raise CommandError(f"{target} is not known here")
    return found


def print_actors(rows: Sequence[tuple[Any, Any]], as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": actor.uri,
                        "handle": f"{actor.username}@{actor.host}" if actor.username else None,
                        "name": actor.name,
                        "state": rel.state,
                        "since": rel.created_at.isoformat(),
                    }
                    for rel, actor in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not rows:
        print("(none)")
    for rel, actor in rows:
        handle = f"@{actor.username}@{actor.host}" if actor.username else actor.uri
        print(f"{handle}\t{rel.state}\t{actor.uri}")


# Practices, commitments and policies are short texts; a bigger input file is a mistake
# (or /dev/zero), not something to load into memory.
MAX_INPUT_BYTES = 1024 * 1024


def read_text(path: str) -> str:
    file = Path(path)
    try:
        if not file.exists():
            raise CommandError(f"cannot read {path}: no such file")
        if not file.is_file():
            raise CommandError(f"cannot read {path}: not a regular file")
        with file.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
        if len(raw) > MAX_INPUT_BYTES:
            raise CommandError(f"cannot read {path}: larger than {MAX_INPUT_BYTES} bytes")
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"cannot read {path}: {err}") from err


class Registrar:
    """Adds sub-commands that all take --data-dir (and, with `with_actor`, --actor)."""

    def __init__(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self.sub = sub

    def add(
        self,
        name: str,
        func: Command,
        help_text: str,
        parent: argparse._SubParsersAction[argparse.ArgumentParser] | None = None,
    ) -> argparse.ArgumentParser:
        cmd = (parent or self.sub).add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--data-dir",
            help="instance directory (default: $DECLICS_DATA_DIR, else ./data)",
        )
        cmd.set_defaults(func=func)
        return cmd

    @staticmethod
    def with_actor(cmd: argparse.ArgumentParser) -> argparse.ArgumentParser:
        cmd.add_argument("--actor", help="organisation to act as (when there are several)")
        return cmd
