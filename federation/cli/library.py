"""What the network shares with us: library, directory, share, adopt."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from federation.cli.base import (
    Registrar,
    instance_settings,
    run,
    with_runtime,
)
from federation.errors import CommandError


def cmd_library(args: argparse.Namespace) -> int:
    from federation.content.search import Filters, search

    filters = Filters(
        query=args.search or "",
        kind=args.kind,
        theme=args.theme,
        licence=args.licence,
        member=args.member,
    )

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            # Expired needs and offers are left out; the organisation sees what it follows.
            rows = await search(
                session, replace(filters, current_at=rt.clock.now(), readers=(org.id,))
            )
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": r.uri,
                            "kind": r.kind,
                            "member": r.actor_uri,
                            "title": r.title,
                            "themes": r.themes,
                            "licence": r.licence,
                            "published": r.published.isoformat() if r.published else None,
                            "starts_at": r.starts_at.isoformat() if r.starts_at else None,
                            "ends_at": r.ends_at.isoformat() if r.ends_at else None,
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
            )
        elif not rows:
            print("(the library is empty)")
        else:
            for r in [] if args.json else rows:
                print(f"{r.uri}\t{r.kind}\t{r.licence or '?'}\t{r.title or ''}")
        return 0

    return run(with_runtime(args, body))


def cmd_directory(args: argparse.Namespace) -> int:
    if args.action == "refresh":
        return run(_directory_refresh(args))
    return _cmd_directory_list(args)


async def _directory_refresh(args: argparse.Namespace) -> int:
    from federation.network.crawler import Crawler
    from federation.runtime import build_runtime

    rt = build_runtime(instance_settings(args))
    try:
        started = rt.clock.now()
        done = await Crawler(rt).refresh()
    finally:
        await rt.close()
    seconds = ((done.finished_at or started) - started).total_seconds()
    visited = ", ".join(f"{name} {count}" for name, count in sorted(done.outcomes.items()))
    print(
        f"crawl round {done.id}: {done.members} members ({done.stale} newly stale, "
        f"{done.dropped} dropped); {done.requests} requests ({done.not_modified} not "
        f"modified) in {seconds:.1f} s; visited: {visited or 'nothing'}"
    )
    return 0


def _cmd_directory_list(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.content.commitments import PROGRESS
    from federation.network import directory

    if args.progress is not None and args.progress not in PROGRESS:
        raise CommandError(f"--progress must be one of {', '.join(PROGRESS)}")
    filters = directory.Filters(args.commitment, args.progress, args.territory)

    async def body(rt: Any, org: Any) -> int:
        owner = local.urls_of(org).id
        async with rt.sessions() as session:
            rows = [m for m in await directory.members(session, owner) if filters.matches(m)]
            entries = await directory.entries(session, rows)
        if args.json:
            listing = []
            for entry in entries:
                shown = directory.item(entry)
                shown["lastSeen"] = entry.member.last_seen_at.isoformat()
                shown["local"] = entry.member.local
                listing.append(shown)
            print(json.dumps(listing, ensure_ascii=False, indent=2))
            return 0
        if not entries:
            filtered = filters != directory.Filters()
            print("(no member matches)" if filtered else "(the directory is empty)")
        for entry in entries:
            member = entry.member
            progress = " ".join(f"{c['number']}:{c['progress']}" for c in member.commitments)
            print(
                f"{member.handle or member.uri}\t{member.name or ''}\t"
                f"{member.territory or '-'}\t{progress or '-'}\t"
                f"{len(entry.vouchers)} vouch(es)\t"
                f"{'stale' if entry.stale else 'seen'} {member.last_seen_at:%Y-%m-%d}"
            )
        return 0

    return run(with_runtime(args, body))


def cmd_share(args: argparse.Namespace) -> int:
    from federation.content import sharing

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            await sharing.share(session, org, args.uri, rt.clock.now())
        print(f"shared {args.uri} with our followers")
        return 0

    return run(with_runtime(args, body))


def cmd_adopt(args: argparse.Namespace) -> int:
    from federation.content import sharing

    async def body(rt: Any, org: Any) -> int:
        from federation.actors import local

        language = rt.settings.content_for(local.handle_of(org)).language
        async with rt.sessions.begin() as session:
            obj, _ = await sharing.adopt(
                session,
                org,
                args.uri,
                rt.clock.now(),
                language,
                confirm_unknown=args.confirm,
                licence=args.licence,
            )
        print(obj.uri)
        return 0

    return run(with_runtime(args, body))


def register(r: Registrar) -> None:
    lib = r.with_actor(r.add("library", cmd_library, "list what followed members shared"))
    lib.add_argument("--search", help="words to look for (full text)")
    lib.add_argument(
        "--kind",
        choices=["practice", "commitments", "tool", "event", "need", "offer"],
        help="only this kind",
    )
    lib.add_argument("--theme", type=int, help="only practices serving this commitment (1-7)")
    lib.add_argument("--licence", help="only this licence (SPDX id)")
    lib.add_argument("--member", help="only items of this member (actor URL)")
    lib.add_argument("--json", action="store_true", help="machine-readable output")
    network = r.sub.add_parser(
        "directory",
        help="the network's directory: crawl the follow graph now, or list the members",
        description=(
            "The directory lists the members of the network found by crawling the follow "
            "graph from our organisations (see [directory] in the configuration). The "
            "workers of 'serve' and 'worker' crawl every [directory] refresh_hours."
        ),
    )
    network_sub = network.add_subparsers(dest="action", required=True, metavar="ACTION")
    r.add("refresh", cmd_directory, "run one crawl round now and wait for its end", network_sub)
    members_list = r.with_actor(
        r.add("list", cmd_directory, "list the members of the network we know", network_sub)
    )
    members_list.add_argument("--commitment", type=int, help="only members stating it (1-7)")
    members_list.add_argument(
        "--progress", help="only this progress (to-start, in-progress, achieved)"
    )
    members_list.add_argument("--territory", help="only members of this territory")
    members_list.add_argument("--json", action="store_true", help="machine-readable output")
    share = r.with_actor(
        r.add("share", cmd_share, "share (boost) a library item (practice or commitments)")
    )
    share.add_argument("uri", help="the item's address")
    adopt = r.with_actor(
        r.add("adopt", cmd_adopt, "derive our own practice from a library practice")
    )
    adopt.add_argument("uri", help="the practice's address")
    adopt.add_argument(
        "--licence", help="licence of our version, when the origin's allows a choice"
    )
    adopt.add_argument(
        "--confirm", action="store_true", help="adopt although the origin's licence is unknown"
    )
