"""What we publish: profile, notes, practices, commitments, data policy, replies."""

from __future__ import annotations

import argparse
import json
from typing import Any

from federation.cli.base import (
    Registrar,
    read_text,
    run,
    with_runtime,
)
from federation.errors import CommandError


def cmd_profile(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.content import identity, licences
    from federation.outbox import profile

    changes: dict[str, Any] = {}
    for key in ("name", "summary", "icon_url", "image_url", "territory"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value.strip()
    if args.field is not None:
        fields = []
        for item in args.field:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--field takes NAME=VALUE, got {item!r}")
            fields.append({"name": name.strip(), "value": value.strip()})
        changes["fields"] = fields
    if args.manual_approval is not None:
        changes["manually_approves_followers"] = args.manual_approval == "on"

    async def body(rt: Any, org: Any) -> int:
        content = rt.settings.content_for(local.handle_of(org))
        licence_name = licences.display_name(content.default_licence)
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            current = await local.by_id(session, org.id)
            if current is None:
                raise CommandError("the organisation vanished")
            storage = await identity.storage_country(session, current, now)
            if changes:
                await profile.update(session, current, changes, now, licence_name, storage)
            document = await identity.actor_document(session, current, content, now)
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0

    return run(with_runtime(args, body))


def cmd_post(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.content import discussion
    from federation.outbox import publish

    async def body(rt: Any, org: Any) -> int:
        language = rt.settings.content_for(local.handle_of(org)).language
        target = None
        if args.in_reply_to:
            target = await discussion.reply_target(rt, org.domain, args.in_reply_to)
        async with rt.sessions.begin() as session:
            obj, _activity = await publish.post_note(
                session, org, args.text, rt.clock.now(), language, target
            )
        print(obj.uri)
        return 0

    return run(with_runtime(args, body))


def cmd_practice(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.content import practices

    text = read_text(args.file) if args.action in ("publish", "update") else None

    async def body(rt: Any, org: Any) -> int:
        content = rt.settings.content_for(local.handle_of(org))
        # Check the file before touching anything: a bad file publishes nothing.
        draft = None if text is None else practices.parse_file(text, content.default_licence)
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            if draft is not None and args.action == "publish":
                obj, _ = await practices.publish(session, org, draft, now, content.language)
                print(obj.uri)
            elif draft is not None and args.action == "update":
                obj, _ = await practices.update(
                    session, org, args.ref, draft, now, content.language
                )
                print(f"updated {obj.uri} (version {obj.version})")
            elif args.action == "delete":
                obj = await practices.delete(session, org, args.ref, now)
                print(f"deleted {obj.uri}")
            else:
                rows = await practices.listing(session, org)
                if args.json:
                    print(
                        json.dumps([_practice_json(o) for o in rows], ensure_ascii=False, indent=2)
                    )
                elif not rows:
                    print("(no practices)")
                for obj in [] if args.json else rows:
                    state = "deleted" if obj.deleted_at else f"v{obj.version}"
                    print(f"{obj.uri}\t{state}\t{obj.licence}\t{obj.title}")
        return 0

    return run(with_runtime(args, body))


def _practice_json(obj: Any) -> dict[str, Any]:
    return {
        "id": obj.uri,
        "title": obj.title,
        "summary": obj.summary,
        "themes": obj.themes,
        "licence": obj.licence,
        "version": obj.version,
        "published": obj.published.isoformat(),
        "updated": obj.updated.isoformat() if obj.updated else None,
        "deleted": obj.deleted_at.isoformat() if obj.deleted_at else None,
    }


def cmd_commitments(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.content import commitments, statements

    draft = commitments.parse_file(read_text(args.file)) if args.action == "publish" else None

    async def body(rt: Any, org: Any) -> int:
        content = rt.settings.content_for(local.handle_of(org))
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            if draft is None:
                obj = await commitments.current(session, org)
                if obj is None:
                    print("(no commitments published yet)")
                    return 0
                for version, said in await commitments.history(session, obj):
                    print(f"version {version.version} — {version.created_at:%d/%m/%Y %H:%M}")
                    for line in said:
                        print(f"  {line}")
                return 0
            obj, sent = await statements.publish_commitments(session, org.id, draft, now, content)
        if sent is None:
            print(f"{obj.uri} unchanged (version {obj.version})")
        else:
            print(f"{obj.uri} published (version {obj.version})")
        return 0

    return run(with_runtime(args, body))


def cmd_policy(args: argparse.Namespace) -> int:
    from datetime import date

    from federation.actors import local
    from federation.content import policy, statements

    draft = policy.parse_file(read_text(args.file)) if args.action == "publish" else None
    effective = None
    if draft is not None and args.effective:
        try:
            effective = date.fromisoformat(args.effective)
        except ValueError as err:
            raise CommandError("--effective takes a date like 2027-01-31") from err

    async def body(rt: Any, org: Any) -> int:
        content = rt.settings.content_for(local.handle_of(org))
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            if draft is None:
                current, upcoming = await policy.in_force(session, org, policy.today_utc(now))
                if current is None and upcoming is None:
                    print("(no data policy published yet)")
                for label, version in (("in force", current), ("announced", upcoming)):
                    if version is not None:
                        doc = version.document
                        print(
                            f"{label}: version {version.version} from {doc['effectiveFrom']} — "
                            f"stored in {doc['storageCountry']} at {doc['host']}"
                        )
                return 0
            obj, starts = await statements.publish_policy(
                session, org, draft, now, content, effective
            )
        print(f"{obj.uri}: version {obj.version} in force from {starts.isoformat()}")
        return 0

    return run(with_runtime(args, body))


def cmd_replies(args: argparse.Namespace) -> int:
    from federation.content import moderation

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            if args.action in ("hide", "show"):
                row = await moderation.set_hidden(session, org, args.id, args.action == "hide")
                print(f"reply #{row.id} {'hidden' if row.hidden else 'shown'}")
                return 0
            rows = await moderation.replies(session, org, args.object)
        if not rows:
            print("(no replies)")
        for row in rows:
            state = "hidden" if row.hidden else "shown"
            print(f"#{row.id}\t{state}\t{row.actor_uri}\ton {row.object_uri}\t{row.reply_uri}")
        return 0

    return run(with_runtime(args, body))


def register(r: Registrar) -> None:
    profile = r.with_actor(
        r.add("profile", cmd_profile, "show or change the profile (changes are federated)")
    )
    profile.add_argument("--name", help="display name")
    profile.add_argument("--summary", help="presentation (HTML allowed)")
    profile.add_argument("--icon-url", help="https URL of the avatar image")
    profile.add_argument("--image-url", help="https URL of the header image")
    profile.add_argument(
        "--territory", help="where the organisation works (shown in the network's directory)"
    )
    profile.add_argument(
        "--field",
        action="append",
        metavar="NAME=VALUE",
        help="a profile field shown by Mastodon (repeat; replaces all fields)",
    )
    profile.add_argument(
        "--manual-approval",
        choices=["on", "off"],
        help="on: follow requests wait for 'declics approve'",
    )
    practice = r.sub.add_parser(
        "practice",
        help="publish, update, delete or list shared practices",
        description=(
            "Shared practices are Markdown files with a YAML front matter: title, summary, "
            "themes (charter commitments 1-7 or words like 'communs'), licence (SPDX id), "
            "links."
        ),
    )
    practice_sub = practice.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("publish", "publish a practice from a Markdown file"),
        ("update", "replace a practice with a new version of its file"),
        ("delete", "delete a practice (its address is never reused)"),
        ("list", "list our practices"),
    ):
        cmd = r.with_actor(r.add(action, cmd_practice, text, practice_sub))
        if action in ("update", "delete"):
            cmd.add_argument("ref", help="the practice's address or its last path part")
        if action in ("publish", "update"):
            cmd.add_argument("file", help="Markdown file with a front matter")
        if action == "list":
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
    commit = r.sub.add_parser(
        "commitments",
        help="publish our commitments to the charter, or show their history",
        description=(
            "The commitments file is TOML: charter_version, signed_on, and one "
            "[[commitments]] table per commitment with number, progress (to-start, "
            "in-progress, achieved), statement (Markdown), actions and evidence (links). "
            "See config/commitments.example.toml."
        ),
    )
    commit_sub = commit.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("publish", "publish the commitments file (an Update when they changed)"),
        ("history", "show every published version and what it changed"),
    ):
        cmd = r.with_actor(r.add(action, cmd_commitments, text, commit_sub))
        if action == "publish":
            cmd.add_argument("file", help="commitments TOML file")
    pol = r.sub.add_parser(
        "policy",
        help="publish our data policy (changes take effect after the notice period)",
        description=(
            "The policy file is TOML: storage_country, host, retention, summary, terms_url, "
            "[[data]] tables (what, why) and [[external_uses]] tables (who, why, consent). "
            "A change is announced to followers and takes effect after "
            "[content] policy_notice_days. See config/data-policy.example.toml."
        ),
    )
    pol_sub = pol.add_subparsers(dest="action", required=True, metavar="ACTION")
    publish_policy = r.with_actor(
        r.add("publish", cmd_policy, "publish the policy, or announce a change", pol_sub)
    )
    publish_policy.add_argument("file", help="data policy TOML file")
    publish_policy.add_argument(
        "--effective", help="date the change takes effect (default: after the notice period)"
    )
    r.with_actor(
        r.add("show", cmd_policy, "show the policy in force and any announced change", pol_sub)
    )
    rep = r.sub.add_parser("replies", help="list replies to our objects, hide or show one")
    rep_sub = rep.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = r.with_actor(r.add("list", cmd_replies, "list replies (with their numbers)", rep_sub))
    listing.add_argument("--object", help="only replies to this object (its address)")
    for action, text in (
        ("hide", "hide a reply from our pages"),
        ("show", "show a hidden reply again"),
    ):
        cmd = r.with_actor(r.add(action, cmd_replies, text, rep_sub))
        cmd.add_argument("id", type=int, help="the reply's number (see 'replies list')")
    post = r.with_actor(r.add("post", cmd_post, "publish a public note to followers"))
    post.add_argument("text")
    post.add_argument(
        "--in-reply-to",
        metavar="URI",
        help="answer this object (a member's practice, a post); its author is told",
    )
