"""Who we follow, who follows us, whom we block, which relays we use."""

from __future__ import annotations

import argparse
import json
from typing import Any

from federation.cli.base import (
    Registrar,
    find_known,
    print_actors,
    resolve_target,
    run,
    with_runtime,
)
from federation.errors import CommandError


def cmd_follow(args: argparse.Namespace) -> int:
    from federation.outbox import follow

    async def body(rt: Any, org: Any) -> int:
        target = await resolve_target(rt, org, args.target)
        async with rt.sessions.begin() as session:
            await follow.follow(session, org, target, rt.clock.now())
        print(f"Follow request sent to {target.uri} (pending until they accept)")
        return 0

    return run(with_runtime(args, body))


def cmd_unfollow(args: argparse.Namespace) -> int:
    from federation.outbox import follow

    async def body(rt: Any, org: Any) -> int:
        target = await find_known(rt, args.target)
        async with rt.sessions.begin() as session:
            await follow.unfollow(session, org, target, rt.clock.now())
        print(f"Unfollowed {target.uri}")
        return 0

    return run(with_runtime(args, body))


def cmd_following(args: argparse.Namespace) -> int:
    from federation.actors import follows

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await follows.followings(
                session, org.id, (follows.ACCEPTED, follows.PENDING, follows.REJECTED)
            )
        print_actors(rows, args.json)
        return 0

    return run(with_runtime(args, body))


def cmd_followers(args: argparse.Namespace) -> int:
    from federation.actors import follows

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await follows.followers(session, org.id)
        print_actors(rows, args.json)
        return 0

    return run(with_runtime(args, body))


def cmd_requests(args: argparse.Namespace) -> int:
    from federation.actors import follows

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await follows.followers(session, org.id, follows.PENDING)
        print_actors(rows, args.json)
        return 0

    return run(with_runtime(args, body))


def _cmd_respond(args: argparse.Namespace, accept: bool) -> int:
    from federation.outbox import requests

    async def body(rt: Any, org: Any) -> int:
        target = await find_known(rt, args.target)
        async with rt.sessions.begin() as session:
            await requests.answer(
                session,
                org,
                target,
                rt.clock.now(),
                accept=accept,
                follow_back_members=rt.settings.trust.follow_back_members,
            )
        print(f"{'Approved' if accept else 'Rejected'} {target.uri}")
        return 0

    return run(with_runtime(args, body))


def cmd_approve(args: argparse.Namespace) -> int:
    return _cmd_respond(args, accept=True)


def cmd_reject(args: argparse.Namespace) -> int:
    return _cmd_respond(args, accept=False)


def cmd_block(args: argparse.Namespace) -> int:
    from federation.actors import trust

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            if args.command == "unblock":
                if not await trust.remove(session, org.id, args.kind, args.value):
                    raise CommandError(f"{args.value} is not blocked")
                print(f"unblocked {args.kind} {args.value}")
                return 0
            block = await trust.add(
                session,
                org.id,
                args.kind,
                args.value,
                rt.clock.now(),
                reason=args.reason,
                recommend=args.recommend,
            )
            dropped = await trust.drop_relations(session, block)
        note = " (recommended to other members)" if block.recommend else ""
        print(f"blocked {block.kind} {block.value}{note}; {dropped} follow relations ended")
        return 0

    return run(with_runtime(args, body))


def cmd_blocks(args: argparse.Namespace) -> int:
    from federation.actors import trust

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await trust.listing(session, org.id)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "kind": b.kind,
                            "value": b.value,
                            "reason": b.reason,
                            "recommended": b.recommend,
                            "recommended_by": b.recommended_by,
                        }
                        for b in rows
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
            )
        elif not rows:
            print("(no blocks)")
        for block in [] if args.json else rows:
            print(f"{block.kind}\t{block.value}\t{block.reason}")
        return 0

    return run(with_runtime(args, body))


def cmd_recommendations(args: argparse.Namespace) -> int:
    from federation.actors import recommendations
    from federation.inbox.intake import signer_for

    async def body(rt: Any, org: Any) -> int:
        now = rt.clock.now()
        if args.action == "fetch":
            new = await recommendations.fetch(rt, org, await signer_for(rt, org.domain))
            print(f"{new} new recommendations (see 'declics recommendations list')")
            return 0
        async with rt.sessions.begin() as session:
            if args.action == "subscribe":
                await recommendations.subscribe(session, org, args.member, now)
                print(f"we now read the block recommendations of {args.member}")
            elif args.action in ("apply", "dismiss"):
                row = await recommendations.decide(
                    session, org, args.id, args.action == "apply", now
                )
                print(f"recommendation #{row.id} {row.state}: {row.kind} {row.value}")
            else:
                rows = await recommendations.pending(session, org)
                if not rows:
                    print("(no pending recommendations)")
                for row in rows:
                    print(
                        f"#{row.id}\t{row.kind}\t{row.value}\tfrom {row.source_actor_uri}"
                        f"\t{row.reason}"
                    )
        return 0

    return run(with_runtime(args, body))


def cmd_relay(args: argparse.Namespace) -> int:
    from federation.outbox import relays

    async def body(rt: Any, org: Any) -> int:
        if args.action == "subscribe":
            relay = await relays.resolve(rt, org.domain, args.url)
            async with rt.sessions.begin() as session:
                app_actor = await relays.application(session, org.domain)
                await relays.subscribe(session, app_actor, relay, rt.clock.now())
            print(f"Subscription sent to {relay.inbox} (pending until the relay accepts)")
        elif args.action == "unsubscribe":
            async with rt.sessions.begin() as session:
                app_actor = await relays.application(session, org.domain)
                relay = await relays.find(session, app_actor, args.url)
                await relays.unsubscribe(session, app_actor, relay, rt.clock.now())
            print(f"Unsubscribed from {relay.uri}")
        else:
            async with rt.sessions() as session:
                app_actor = await relays.application(session, org.domain)
                rows = await relays.subscriptions(session, app_actor)
            if args.json:
                print(
                    json.dumps(
                        [
                            {
                                "id": relay.uri,
                                "inbox": relay.shared_inbox or relay.inbox,
                                "state": row.state,
                                "since": row.created_at.isoformat(),
                            }
                            for row, relay in rows
                        ],
                        indent=2,
                    )
                )
            elif not rows:
                print("(no relay)")
            for row, relay in [] if args.json else rows:
                print(f"{relay.shared_inbox or relay.inbox}\t{row.state}\t{relay.uri}")
        return 0

    return run(with_runtime(args, body))


def register(r: Registrar) -> None:
    follow = r.with_actor(
        r.add("follow", cmd_follow, "follow an account (@user@host or actor URL)")
    )
    follow.add_argument("target")
    unfollow = r.with_actor(r.add("unfollow", cmd_unfollow, "stop following an account"))
    unfollow.add_argument("target")
    for name, func, text in (
        ("following", cmd_following, "list the accounts we follow"),
        ("followers", cmd_followers, "list our followers"),
        ("requests", cmd_requests, "list follow requests waiting for approval"),
    ):
        cmd = r.with_actor(r.add(name, func, text))
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
    approve = r.with_actor(r.add("approve", cmd_approve, "accept a follow request"))
    approve.add_argument("target")
    reject = r.with_actor(r.add("reject", cmd_reject, "refuse a follow request"))
    reject.add_argument("target")
    for name, text in (
        ("block", "refuse a domain or an actor: nothing from it, nothing to it"),
        ("unblock", "lift a block"),
    ):
        cmd = r.with_actor(r.add(name, cmd_block, text))
        cmd.add_argument("kind", choices=["domain", "actor"])
        cmd.add_argument("value", help="a domain name (coop.example) or an actor address")
        if name == "block":
            cmd.add_argument("--reason", default="", help="why (published if recommended)")
            cmd.add_argument(
                "--recommend",
                action="store_true",
                help="publish it in our block recommendations for other members",
            )
    blocks = r.with_actor(r.add("blocks", cmd_blocks, "list our blocks"))
    blocks.add_argument("--json", action="store_true", help="machine-readable output")
    recs = r.sub.add_parser(
        "recommendations",
        help="read other members' block recommendations, apply or dismiss them",
    )
    recs_sub = recs.add_subparsers(dest="action", required=True, metavar="ACTION")
    subscribe = r.with_actor(
        r.add("subscribe", cmd_recommendations, "read this member's recommendations", recs_sub)
    )
    subscribe.add_argument("member", help="the member's actor address")
    r.with_actor(r.add("fetch", cmd_recommendations, "read the subscribed members now", recs_sub))
    r.with_actor(r.add("list", cmd_recommendations, "list pending recommendations", recs_sub))
    for action, text in (("apply", "block as recommended"), ("dismiss", "do not block")):
        cmd = r.with_actor(r.add(action, cmd_recommendations, text, recs_sub))
        cmd.add_argument("id", type=int, help="the recommendation's number")
    relay = r.sub.add_parser(
        "relay",
        help="subscribe to fediverse relays, list them, unsubscribe",
        description=(
            "A relay re-broadcasts the public activities of its subscribers to the others. "
            "The domain's application actor subscribes; our organisations' public "
            "activities then also go to the relay, and the practices it announces reach "
            "the library."
        ),
    )
    relay_sub = relay.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("subscribe", "ask a relay to take our domain (a Follow; pending until accepted)"),
        ("list", "list the relays with the subscription's state"),
        ("unsubscribe", "stop using a relay (an Undo of the Follow)"),
    ):
        cmd = r.with_actor(r.add(action, cmd_relay, text, relay_sub))
        if action != "list":
            cmd.add_argument("url", help="the relay's actor URL or inbox URL")
        else:
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
