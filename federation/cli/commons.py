"""The network's commons: `declics tool …`, `declics event …`, `declics offer …`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from federation.cli.base import Registrar, instance_settings, read_text, run, with_runtime


def _row(obj: Any) -> dict[str, Any]:
    return {
        "id": obj.uri,
        "kind": obj.kind,
        "title": obj.title,
        "version": obj.version,
        "deleted": obj.deleted_at is not None,
        "starts_at": obj.starts_at.isoformat() if obj.starts_at else None,
        "ends_at": obj.ends_at.isoformat() if obj.ends_at else None,
        "licence": obj.licence,
        "themes": obj.themes,
    }


def _print_rows(rows: list[Any], as_json: bool, empty: str) -> None:
    if as_json:
        print(json.dumps([_row(o) for o in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        print(empty)
    for obj in rows:
        state = "deleted" if obj.deleted_at else f"v{obj.version}"
        when = obj.starts_at or obj.ends_at
        print(f"{obj.uri}\t{state}\t{when.isoformat() if when else '-'}\t{obj.title}")


def _item(item: Any) -> dict[str, Any]:
    return {
        "id": item.uri,
        "member": item.actor_uri,
        "title": item.title,
        "starts_at": item.starts_at.isoformat() if item.starts_at else None,
        "ends_at": item.ends_at.isoformat() if item.ends_at else None,
    }


def _print_people(rows: list[tuple[Any, Any]], as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "actor": i.actor_uri,
                        "kind": i.kind,
                        "name": a.name if a else None,
                        "handle": f"{a.username}@{a.host}" if a and a.username else None,
                        "since": i.created_at.isoformat(),
                    }
                    for i, a in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not rows:
        print("(none)")
    for i, a in rows:
        handle = f"@{a.username}@{a.host}" if a and a.username else "-"
        print(f"{i.actor_uri}\t{i.kind}\t{handle}\t{(a.name if a else None) or ''}")


def cmd_tool(args: argparse.Namespace) -> int:
    from federation.content import declarations, tools

    content = instance_settings(args).content
    draft = tools.parse_file(read_text(args.file)) if args.action in ("publish", "update") else None

    async def body(rt: Any, org: Any) -> int:
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            if draft is not None and args.action == "publish":
                obj, _ = await tools.publish(session, org, draft, now, content.language)
                print(obj.uri)
            elif draft is not None:
                obj, _ = await tools.update(session, org, args.ref, draft, now, content.language)
                print(f"updated {obj.uri} (version {obj.version})")
            elif args.action == "delete":
                print(f"deleted {(await tools.delete(session, org, args.ref, now)).uri}")
            elif args.action in ("use", "contribute"):
                relation = "uses" if args.action == "use" else "contributes"
                obj, _ = await declarations.declare(session, org, args.tool, relation, now)
                print(obj.uri)
            elif args.action == "withdraw":
                relation = "contributes" if args.contribution else "uses"
                for obj in await declarations.withdraw(session, org, args.tool, relation, now):
                    print(f"withdrawn {obj.uri}")
            elif args.action == "users":
                tool = await tools.get(session, org, args.ref)
                _print_people(await declarations.declared(session, tool.uri), args.json)
            else:
                _print_rows(await tools.listing(session, org), args.json, "(no tools)")
        return 0

    return run(with_runtime(args, body))


def cmd_event(args: argparse.Namespace) -> int:
    from federation.content import events, library, participation

    content = instance_settings(args).content
    editing = args.action in ("publish", "update")
    draft = events.parse_file(read_text(args.file)) if editing else None

    async def body(rt: Any, org: Any) -> int:
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            if draft is not None and args.action == "publish":
                obj, _ = await events.publish(session, org, draft, now, content.language)
                print(obj.uri)
            elif draft is not None:
                obj, _ = await events.update(session, org, args.ref, draft, now, content.language)
                print(f"updated {obj.uri} (version {obj.version})")
            elif args.action == "delete":
                print(f"deleted {(await events.delete(session, org, args.ref, now)).uri}")
            elif args.action in ("join", "leave"):
                kind = "Join" if args.action == "join" else "Leave"
                sent = await participation.tell(session, org, args.event, kind, now)
                print(sent.uri)
            elif args.action == "list" and args.network:
                rows = await library.items(session, kind="event", current_at=now, readers=(org.id,))
                if args.json:
                    print(json.dumps([_item(i) for i in rows], ensure_ascii=False, indent=2))
                for i in [] if args.json else rows:
                    start = i.starts_at.isoformat() if i.starts_at else "-"
                    print(f"{i.uri}\t{start}\t{i.actor_uri}\t{i.title}")
            elif args.action == "approve":
                event = await events.get(session, org, args.ref)
                row = await participation.approve(session, org, event, args.participant, now)
                print(f"approved {row.actor_uri}")
            elif args.action == "refuse":
                event = await events.get(session, org, args.ref)
                who = await participation.refuse(session, org, event, args.participant, now)
                print(f"refused {who}")
            elif args.action == "participants":
                event = await events.get(session, org, args.ref)
                _print_people(await participation.participants(session, event.uri), args.json)
            else:
                _print_rows(await events.listing(session, org), args.json, "(no events)")
        return 0

    return run(with_runtime(args, body))


def cmd_offer(args: argparse.Namespace) -> int:
    from federation.content import offers

    content = instance_settings(args).content

    async def body(rt: Any, org: Any) -> int:
        now = rt.clock.now()
        draft = None
        if args.action in ("publish", "update"):
            draft = offers.make_draft(
                args.kind, args.title, args.text or "", args.theme, args.expires, now.date()
            )
        async with rt.sessions.begin() as session:
            if draft is not None and args.action == "publish":
                obj, _ = await offers.publish(session, org, draft, now, content.language)
                print(obj.uri)
            elif draft is not None:
                obj, _ = await offers.update(session, org, args.ref, draft, now, content.language)
                print(f"updated {obj.uri} (version {obj.version})")
            elif args.action == "delete":
                print(f"deleted {(await offers.delete(session, org, args.ref, now)).uri}")
            elif args.network:
                listed = await offers.current_offers(session, org, now)
                if args.json:
                    print(
                        json.dumps(
                            [
                                {
                                    "id": o.uri,
                                    "kind": o.kind,
                                    "title": o.title,
                                    "themes": o.themes,
                                    "ends_at": o.ends_at.isoformat() if o.ends_at else None,
                                    "member": o.actor_uri,
                                }
                                for o in listed
                            ],
                            ensure_ascii=False,
                            indent=2,
                        )
                    )
                elif not listed:
                    print("(no current needs or offers)")
                for o in [] if args.json else listed:
                    ends = o.ends_at.date().isoformat() if o.ends_at else "-"
                    print(f"{o.uri}\t{o.kind}\t{ends}\t{o.actor_uri}\t{o.title}")
            else:
                rows = await offers.listing(session, org, None if args.all else now)
                _print_rows(rows, args.json, "(no current needs or offers)")
        return 0

    return run(with_runtime(args, body))


def _family(
    r: Registrar, name: str, func: Any, text: str, noun: str, file_help: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    parser = r.add(name, func, text)
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    publish = r.with_actor(r.add("publish", func, f"publish a {noun} to followers", sub))
    publish.add_argument("file", help=file_help)
    update = r.with_actor(r.add("update", func, f"change a {noun} (an Update)", sub))
    update.add_argument("ref", help=f"the {noun}'s address or its last path part")
    update.add_argument("file", help=file_help)
    delete = r.with_actor(r.add("delete", func, f"delete a {noun} (a Delete)", sub))
    delete.add_argument("ref", help=f"the {noun}'s address or its last path part")
    listing = r.with_actor(r.add("list", func, f"list our {noun}s", sub))
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    return sub


def register(r: Registrar) -> None:
    tool_sub = _family(
        r, "tool", cmd_tool, "shared tools: publish, declare use", "tool", "Markdown file"
    )
    for action, text in (
        ("use", "declare that we use a followed member's tool"),
        ("contribute", "declare that we contribute to a followed member's tool"),
    ):
        cmd = r.with_actor(r.add(action, cmd_tool, text, tool_sub))
        cmd.add_argument("tool", help="the tool's address (from the library)")
    withdraw = r.with_actor(r.add("withdraw", cmd_tool, "withdraw a declaration", tool_sub))
    withdraw.add_argument("tool", help="the tool's address")
    withdraw.add_argument(
        "--contribution", action="store_true", help="withdraw 'we contribute' (default: 'we use')"
    )
    users = r.with_actor(r.add("users", cmd_tool, "who uses and contributes to our tool", tool_sub))
    users.add_argument("ref", help="the tool's address or its last path part")
    users.add_argument("--json", action="store_true", help="machine-readable output")

    event_sub = _family(
        r, "event", cmd_event, "events: publish, join, participants", "event", "Markdown file"
    )
    for action, text in (
        ("join", "take part in a followed member's event (a Join to its organiser)"),
        ("leave", "no longer take part (a Leave)"),
    ):
        cmd = r.with_actor(r.add(action, cmd_event, text, event_sub))
        cmd.add_argument("event", help="the event's address (from the library)")
    event_list = next(p for name, p in event_sub.choices.items() if name == "list")
    event_list.add_argument(
        "--network", action="store_true", help="events of followed members still to come"
    )
    approve = r.with_actor(
        r.add("approve", cmd_event, "admit a participant of a restricted event", event_sub)
    )
    approve.add_argument("ref", help="the event's address or its last path part")
    approve.add_argument("participant", help="the participant's actor id (see participants)")
    refuse = r.with_actor(
        r.add("refuse", cmd_event, "turn down a participant of a restricted event", event_sub)
    )
    refuse.add_argument("ref", help="the event's address or its last path part")
    refuse.add_argument("participant", help="the participant's actor id (see participants)")
    parts = r.with_actor(r.add("participants", cmd_event, "who takes part in our event", event_sub))
    parts.add_argument("ref", help="the event's address or its last path part")
    parts.add_argument("--json", action="store_true", help="machine-readable output")

    offer = r.add("offer", cmd_offer, "needs and offers between members")
    offer_sub = offer.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (("publish", "publish a need or an offer"), ("update", "change one")):
        cmd = r.with_actor(r.add(action, cmd_offer, text, offer_sub))
        if action == "update":
            cmd.add_argument("ref", help="its address or last path part")
        cmd.add_argument("--kind", choices=("need", "offer"), required=True)
        cmd.add_argument("--title", required=True, help="one line")
        cmd.add_argument("--theme", required=True, help="a charter commitment (1 to 7, or a word)")
        cmd.add_argument("--expires", required=True, help="last day it is shown (YYYY-MM-DD)")
        cmd.add_argument("text", nargs="?", help="a few sentences")
    delete = r.with_actor(r.add("delete", cmd_offer, "delete a need or an offer", offer_sub))
    delete.add_argument("ref", help="its address or last path part")
    listing = r.with_actor(r.add("list", cmd_offer, "our current needs and offers", offer_sub))
    listing.add_argument("--all", action="store_true", help="with expired and deleted ones")
    listing.add_argument(
        "--network",
        action="store_true",
        help="the current needs and offers of the network (ours and followed members')",
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
