"""`export`, `import`, `move`, `keys rotate`, `keys drop-old`: a member changes host
or keys (docs/portability.md)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from federation.cli.base import Registrar, instance_dir, instance_settings, run, with_runtime
from federation.errors import CommandError


def read_passphrase(prompt: str, *, confirm: bool) -> str:
    """From the terminal (asked twice when it seals), or the first line of stdin for
    scripts; never from the command line, where other users could read it."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again: ") != first:
            raise CommandError("the two passphrases differ")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise CommandError("no passphrase on standard input")
    return passphrase


def cmd_export(args: argparse.Namespace) -> int:
    from federation.portability import archive, export, sealing

    target = Path(args.file)
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists; choose another name (or --force)")
    passphrase = read_passphrase("Passphrase to seal the keys: ", confirm=True)
    if len(passphrase) < sealing.MIN_PASSPHRASE:
        raise CommandError(f"the passphrase must have at least {sealing.MIN_PASSPHRASE} characters")

    async def body(rt: Any, org: Any) -> int:
        now = rt.clock.now()
        async with rt.sessions() as session:
            entries, header = await export.entries(
                session, org, passphrase, rt.settings.content, instance_dir(args), now
            )
        data = archive.write(entries, header)
        partial = target.with_name(target.name + ".partial")
        try:
            # Readable by the operator only: it lists followers and blocks.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
            partial.replace(target)
        except OSError as err:
            raise CommandError(f"cannot write {target}: {err.strerror}") from err
        counts = header["counts"]
        print(
            f"Exported {header['actor']} to {target}: {counts['objects']} objects, "
            f"{counts['followers']} followers, {counts['following']} followed"
        )
        return 0

    return run(with_runtime(args, body))


def cmd_import(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.portability import restore
    from federation.runtime import build_runtime

    settings = instance_settings(args)
    base_url = local.normalise_base_url(args.base_url, dev=settings.server.dev)
    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        raise CommandError(f"cannot read {args.file}: {err.strerror}") from err
    passphrase = read_passphrase("Passphrase of the archive: ", confirm=False)
    checked = restore.verify(data, passphrase)
    username = local.check_username(args.username or checked.old_username)
    rebase = restore.rebase_for(checked, base_url, username)

    async def body() -> int:
        rt = build_runtime(settings)
        try:
            now = rt.clock.now()
            async with rt.sessions.begin() as session:
                await restore.check_target(session, checked, rebase)
                actor = await restore.restore_organisation(session, checked, rebase, now)
                handle = local.handle_of(actor)
            print(f"Imported {checked.old_actor} as {rebase.new_actor} ({handle})")
            print(
                f"It lists {checked.old_actor} in alsoKnownAs; on the old host run: "
                f"declics move {rebase.new_actor}"
            )
            if checked.settings_toml is not None:
                kept = instance_dir(args) / f"imported-{username}-declics.toml"
                kept.write_bytes(checked.settings_toml)
                print(f"The old host's settings are in {kept}, to compare with this one's")
            await _follow_again(rt, local.domain_of(base_url), username, checked.following)
        finally:
            await rt.close()
        return 0

    return run(body())


async def _follow_again(
    rt: Any, domain: str, username: str, following: list[dict[str, Any]]
) -> None:
    """The new actor asks to follow what the old one followed (best effort: an
    unreachable actor is reported, not fatal; the import is already stored)."""
    from federation.actors import local
    from federation.cli.base import resolve_target
    from federation.outbox import follow as follow_use_cases
    from federation.transport.client import FetchError

    async with rt.sessions() as session:
        org = await local.find(session, domain, username)
    if org is None:  # pragma: no cover - stored just before
        raise CommandError(f"{username}@{domain} vanished")
    for item in following:
        if item.get("state") == "rejected" or not isinstance(item.get("actor"), str):
            continue
        try:
            target = await resolve_target(rt, org, item["actor"])
        except (FetchError, CommandError) as err:
            print(f"could not follow {item['actor']} again: {err.reason}", file=sys.stderr)
            continue
        async with rt.sessions.begin() as session:
            await follow_use_cases.follow(session, org, target, rt.clock.now())
        print(f"Follow sent to {item['actor']}")


def register(r: Registrar) -> None:
    cmd = r.with_actor(
        r.add("export", cmd_export, "write an archive of everything the member owns")
    )
    cmd.add_argument("file", help="archive to write (.zip)")
    cmd.add_argument("--force", action="store_true", help="replace an existing file")
    cmd = r.add("import", cmd_import, "restore a member from an archive on this host")
    cmd.add_argument("file", help="archive written by 'declics export'")
    cmd.add_argument("--base-url", required=True, help="the member's base URL on this host")
    cmd.add_argument("--username", help="the member's username here (default: the old one)")
    register_moves(r)


def cmd_move(args: argparse.Namespace) -> int:
    from federation.cli.base import resolve_target
    from federation.portability import move

    async def body(rt: Any, org: Any) -> int:
        target = await resolve_target(rt, org, args.target)
        async with rt.sessions.begin() as session:
            actor = await session.merge(org)
            activity = await move.move(session, actor, target, rt.clock.now())
            moved_to = actor.moved_to
        print(f"Move to {moved_to} sent to the followers ({activity.uri})")
        print("This host now redirects the profile and the objects there.")
        return 0

    return run(with_runtime(args, body))


def cmd_keys(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.portability import rotation

    async def body(rt: Any, org: Any) -> int:
        step = rotation.rotate if args.action == "rotate" else rotation.drop_old
        async with rt.sessions.begin() as session:
            actor = await session.merge(org)
            await step(session, actor, rt.settings.content, rt.clock.now())
            urls = local.urls_of(actor)
            pending = local.next_public_keys(actor) is not None
        if pending:
            print("New keys published beside the current ones; followers were told.")
            print("After a grace period (a few days), run: declics keys drop-old")
        else:
            print(f"The old keys are dropped; {urls.key_id} signs from now on.")
        return 0

    return run(with_runtime(args, body))


def register_moves(r: Registrar) -> None:
    cmd = r.with_actor(
        r.add("move", cmd_move, "send Move to the followers: the member now lives at TARGET")
    )
    cmd.add_argument(
        "target", help="the new actor (@user@host or URL), which lists us in alsoKnownAs"
    )
    keys = r.sub.add_parser("keys", help="rotate the organisation's keys")
    keys_sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    r.with_actor(r.add("rotate", cmd_keys, "publish new keys beside the current ones", keys_sub))
    r.with_actor(
        r.add("drop-old", cmd_keys, "sign with the new keys and drop the old ones", keys_sub)
    )
