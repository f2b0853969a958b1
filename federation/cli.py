"""The `declics` command line. Every command takes --data-dir (default $DECLICS_DATA_DIR
or ./data). Errors are one line on stderr; exit code 2 for usage or state errors,
1 for network failures."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from federation import __version__
from federation.errors import CommandError, FederationError
from federation.settings import CONFIG_NAME, Settings, default_data_dir, load_settings
from federation.transport.client import FetchError

Command = Callable[[argparse.Namespace], int]


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(_data_dir(args))


def _run(coro: Awaitable[int]) -> int:
    return asyncio.run(coro)  # type: ignore[arg-type]


# -- init / migrate --------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.settings import render_config
    from federation.store import migrate

    data_dir = _data_dir(args)
    if (data_dir / CONFIG_NAME).exists():
        raise CommandError(f"{data_dir} already holds a Déclics instance; nothing changed")
    base_url = local.normalise_base_url(args.base_url, dev=args.dev)
    local.check_username(args.username)
    if not args.name.strip():
        raise CommandError("--name must not be empty")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / CONFIG_NAME
    port = args.port
    if port is None:
        # Without a proxy in front (development), serve where the base URL points.
        explicit = urlsplit(base_url).port
        port = explicit if explicit is not None and args.dev else 8000
    config.write_text(render_config(dev=args.dev, port=port), encoding="utf-8")
    try:
        settings = load_settings(data_dir)
        migrate.upgrade(settings)
        _run(_create_org(settings, base_url, args))
    except BaseException:
        config.unlink(missing_ok=True)
        raise
    print(f"Created {args.username}@{local.domain_of(base_url)} in {data_dir}")
    print(f"Start it with: declics serve --data-dir {data_dir}")
    return 0


async def _create_org(settings: Settings, base_url: str, args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        async with rt.sessions.begin() as session:
            await local.create_organisation(
                session,
                base_url=base_url,
                username=args.username,
                name=args.name.strip(),
                summary=args.summary or "",
                manually_approves_followers=args.manual_approval,
                now=rt.clock.now(),
            )
    finally:
        await rt.close()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from federation.store import migrate

    migrate.upgrade(_settings(args))
    print("database is up to date")
    return 0


# -- serve / worker ------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from federation.app import create_app
    from federation.runtime import build_runtime

    settings = _settings(args)
    host = args.host or settings.server.host
    port = args.port or settings.server.port

    async def make() -> web.Application:
        return create_app(build_runtime(settings))

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    web.run_app(
        make(),
        host=host,
        port=port,
        print=lambda _: print(f"Déclics {__version__} serving on http://{host}:{port}", flush=True),
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from federation.delivery.worker import DeliveryWorker
    from federation.inbox.processor import InboxProcessor
    from federation.network.worker import CrawlWorker
    from federation.runtime import build_runtime

    settings = _settings(args)
    logging.basicConfig(level=logging.INFO)

    async def main() -> int:
        rt = build_runtime(settings)
        try:
            await asyncio.gather(
                DeliveryWorker(rt).run_forever(),
                InboxProcessor(rt).run_forever(),
                CrawlWorker(rt).run_forever(),
            )
        finally:
            await rt.close()
        return 0

    try:
        return _run(main())
    except KeyboardInterrupt:
        return 0


# -- follow graph ----------------------------------------------------------------


async def _with_runtime(
    args: argparse.Namespace, body: Callable[[Any, Any], Awaitable[int]]
) -> int:
    """Run `body(runtime, organisation)` for the organisation chosen by --actor."""
    from federation.actors import local
    from federation.runtime import build_runtime

    rt = build_runtime(_settings(args))
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


async def _resolve_target(rt: Any, org: Any, target: str) -> Any:
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


def cmd_follow(args: argparse.Namespace) -> int:
    from federation.outbox import follow

    async def body(rt: Any, org: Any) -> int:
        target = await _resolve_target(rt, org, args.target)
        async with rt.sessions.begin() as session:
            await follow.follow(session, org, target, rt.clock.now())
        print(f"Follow request sent to {target.uri} (pending until they accept)")
        return 0

    return _run(_with_runtime(args, body))


def cmd_unfollow(args: argparse.Namespace) -> int:
    from federation.outbox import follow

    async def body(rt: Any, org: Any) -> int:
        target = await _find_known(rt, args.target)
        async with rt.sessions.begin() as session:
            await follow.unfollow(session, org, target, rt.clock.now())
        print(f"Unfollowed {target.uri}")
        return 0

    return _run(_with_runtime(args, body))


async def _find_known(rt: Any, target: str) -> Any:
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


def _print_actors(rows: Sequence[tuple[Any, Any]], as_json: bool) -> None:
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


def cmd_following(args: argparse.Namespace) -> int:
    from federation.actors import follows

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await follows.followings(
                session, org.id, (follows.ACCEPTED, follows.PENDING, follows.REJECTED)
            )
        _print_actors(rows, args.json)
        return 0

    return _run(_with_runtime(args, body))


def cmd_followers(args: argparse.Namespace) -> int:
    from federation.actors import follows

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await follows.followers(session, org.id)
        _print_actors(rows, args.json)
        return 0

    return _run(_with_runtime(args, body))


def cmd_requests(args: argparse.Namespace) -> int:
    from federation.actors import follows

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions() as session:
            rows = await follows.followers(session, org.id, follows.PENDING)
        _print_actors(rows, args.json)
        return 0

    return _run(_with_runtime(args, body))


def _cmd_respond(args: argparse.Namespace, accept: bool) -> int:
    from federation.actors import follows
    from federation.inbox import admission
    from federation.outbox import follow

    async def body(rt: Any, org: Any) -> int:
        target = await _find_known(rt, args.target)
        async with rt.sessions.begin() as session:
            row = await follows.get_follower(session, org.id, target.id)
            if row is None or row.state != follows.PENDING:
                raise CommandError(f"no pending follow request from {args.target}")
            await follow.respond(session, org, row, target, rt.clock.now(), accept=accept)
            member = admission.is_member_document(target.document)
            if accept and member and rt.settings.trust.follow_back_members:
                await follow.follow_back(session, org, target, rt.clock.now())
        print(f"{'Approved' if accept else 'Rejected'} {target.uri}")
        return 0

    return _run(_with_runtime(args, body))


def cmd_approve(args: argparse.Namespace) -> int:
    return _cmd_respond(args, accept=True)


def cmd_reject(args: argparse.Namespace) -> int:
    return _cmd_respond(args, accept=False)


# -- publishing and deliveries ---------------------------------------------------


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

    licence_name = licences.display_name(_settings(args).content.default_licence)

    content = _settings(args).content

    async def body(rt: Any, org: Any) -> int:
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

    return _run(_with_runtime(args, body))


def cmd_post(args: argparse.Namespace) -> int:
    from federation.content import discussion
    from federation.outbox import publish

    language = _settings(args).content.language

    async def body(rt: Any, org: Any) -> int:
        target = None
        if args.in_reply_to:
            target = await discussion.reply_target(rt, org.domain, args.in_reply_to)
        async with rt.sessions.begin() as session:
            obj, _activity = await publish.post_note(
                session, org, args.text, rt.clock.now(), language, target
            )
        print(obj.uri)
        return 0

    return _run(_with_runtime(args, body))


def cmd_deliveries(args: argparse.Namespace) -> int:
    from federation.delivery import ledger

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            if args.retry:
                count = await ledger.retry_failed(session, org.id, rt.clock.now())
                print(f"{count} deliveries queued again")
                return 0
            rows = await ledger.entries(session, org.id, state=args.state, limit=args.limit)
        now = rt.clock.now()
        if args.json:
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        else:
            print(ledger.format_table(rows, now))
        return 0

    return _run(_with_runtime(args, body))


# -- practices -------------------------------------------------------------------


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"cannot read {path}: {err}") from err


def cmd_practice(args: argparse.Namespace) -> int:
    from federation.content import practices

    settings = _settings(args)
    content = settings.content
    draft = None
    if args.action in ("publish", "update"):
        # Check the file before touching anything: a bad file publishes nothing.
        draft = practices.parse_file(_read_text(args.file), content.default_licence)

    async def body(rt: Any, org: Any) -> int:
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

    return _run(_with_runtime(args, body))


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


# -- commitments -------------------------------------------------------------------


def cmd_commitments(args: argparse.Namespace) -> int:
    from federation.actors import local
    from federation.content import commitments, identity, licences
    from federation.outbox import profile

    settings = _settings(args)
    draft = commitments.parse_file(_read_text(args.file)) if args.action == "publish" else None
    licence_name = licences.display_name(settings.content.default_licence)

    async def body(rt: Any, org: Any) -> int:
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            actor = await local.by_id(session, org.id)
            if actor is None:
                raise CommandError("the organisation vanished")
            if draft is None:
                obj = await commitments.current(session, actor)
                if obj is None:
                    print("(no commitments published yet)")
                    return 0
                for version, said in await commitments.history(session, obj):
                    print(f"version {version.version} — {version.created_at:%d/%m/%Y %H:%M}")
                    for line in said:
                        print(f"  {line}")
                return 0
            adhesion_before = (actor.charter_version, actor.charter_signed_on)
            obj, sent = await commitments.publish(
                session, actor, draft, now, settings.content.language
            )
            if adhesion_before != (actor.charter_version, actor.charter_signed_on):
                # The profile now shows the adhesion: tell followers.
                storage = await identity.storage_country(session, actor, now)
                await profile.update(session, actor, {}, now, licence_name, storage)
        if sent is None:
            print(f"{obj.uri} unchanged (version {obj.version})")
        else:
            print(f"{obj.uri} published (version {obj.version})")
        return 0

    return _run(_with_runtime(args, body))


# -- data policy -------------------------------------------------------------------


def cmd_policy(args: argparse.Namespace) -> int:
    from datetime import date

    from federation.content import identity, licences, policy
    from federation.outbox import profile

    settings = _settings(args)
    draft = policy.parse_file(_read_text(args.file)) if args.action == "publish" else None
    effective = None
    if draft is not None and args.effective:
        try:
            effective = date.fromisoformat(args.effective)
        except ValueError as err:
            raise CommandError("--effective takes a date like 2027-01-31") from err

    async def body(rt: Any, org: Any) -> int:
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
            before = await identity.storage_country(session, org, now)
            obj, starts = await policy.publish(
                session,
                org,
                draft,
                now,
                notice_days=settings.content.policy_notice_days,
                effective=effective,
                language=settings.content.language,
            )
            after = await identity.storage_country(session, org, now)
            if after != before:
                # A first policy shows at once in the profile: tell followers.
                name = licences.display_name(settings.content.default_licence)
                await profile.update(session, org, {}, now, name, after)
        print(f"{obj.uri}: version {obj.version} in force from {starts.isoformat()}")
        return 0

    return _run(_with_runtime(args, body))


# -- moderation --------------------------------------------------------------------


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

    return _run(_with_runtime(args, body))


# -- trust ------------------------------------------------------------------------


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

    return _run(_with_runtime(args, body))


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

    return _run(_with_runtime(args, body))


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

    return _run(_with_runtime(args, body))


# -- library -----------------------------------------------------------------------


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
            rows = await search(session, filters)
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

    return _run(_with_runtime(args, body))


# -- directory ---------------------------------------------------------------------


def cmd_directory(args: argparse.Namespace) -> int:
    if args.action == "refresh":
        return _run(_directory_refresh(args))
    return _cmd_directory_list(args)


async def _directory_refresh(args: argparse.Namespace) -> int:
    from federation.network.crawler import Crawler
    from federation.runtime import build_runtime

    rt = build_runtime(_settings(args))
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

    return _run(_with_runtime(args, body))


# -- relays ------------------------------------------------------------------------


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

    return _run(_with_runtime(args, body))


def cmd_share(args: argparse.Namespace) -> int:
    from federation.content import sharing

    async def body(rt: Any, org: Any) -> int:
        async with rt.sessions.begin() as session:
            await sharing.share(session, org, args.uri, rt.clock.now())
        print(f"shared {args.uri} with our followers")
        return 0

    return _run(_with_runtime(args, body))


def cmd_adopt(args: argparse.Namespace) -> int:
    from federation.content import sharing

    language = _settings(args).content.language

    async def body(rt: Any, org: Any) -> int:
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

    return _run(_with_runtime(args, body))


# -- parser ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="declics",
        description="Déclics: the federated server of a member platform.",
    )
    parser.add_argument("--version", action="version", version=f"declics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str,
        func: Command,
        help_text: str,
        parent: argparse._SubParsersAction[argparse.ArgumentParser] = sub,
    ) -> argparse.ArgumentParser:
        cmd = parent.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--data-dir",
            help="instance directory (default: $DECLICS_DATA_DIR, else ./data)",
        )
        cmd.set_defaults(func=func)
        return cmd

    def with_actor(cmd: argparse.ArgumentParser) -> argparse.ArgumentParser:
        cmd.add_argument("--actor", help="organisation to act as (when there are several)")
        return cmd

    init = add("init", cmd_init, "create an instance: configuration, keys, database")
    init.add_argument("--base-url", required=True, help="public address, e.g. https://coop.example")
    init.add_argument("--username", required=True, help="the handle's user part, e.g. collectif")
    init.add_argument("--name", required=True, help="the organisation's display name")
    init.add_argument("--summary", default="", help="a short presentation (HTML allowed)")
    init.add_argument(
        "--port",
        type=int,
        help="port `serve` listens on (default: the base URL's port with --dev, else 8000)",
    )
    init.add_argument(
        "--manual-approval",
        action="store_true",
        help="follow requests wait for 'declics approve' (default: accepted at once)",
    )
    init.add_argument(
        "--dev",
        action="store_true",
        help="development mode: allow http and loopback/private peers",
    )
    add("migrate", cmd_migrate, "bring the database schema up to date")
    serve = add("serve", cmd_serve, "run the web app and the delivery workers")
    serve.add_argument("--host", help="address to listen on (default from the config)")
    serve.add_argument("--port", type=int, help="port to listen on (default from the config)")
    add("worker", cmd_worker, "run delivery, inbox and crawl workers without the web app")

    follow = with_actor(add("follow", cmd_follow, "follow an account (@user@host or actor URL)"))
    follow.add_argument("target")
    unfollow = with_actor(add("unfollow", cmd_unfollow, "stop following an account"))
    unfollow.add_argument("target")
    for name, func, text in (
        ("following", cmd_following, "list the accounts we follow"),
        ("followers", cmd_followers, "list our followers"),
        ("requests", cmd_requests, "list follow requests waiting for approval"),
    ):
        cmd = with_actor(add(name, func, text))
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
    approve = with_actor(add("approve", cmd_approve, "accept a follow request"))
    approve.add_argument("target")
    reject = with_actor(add("reject", cmd_reject, "refuse a follow request"))
    reject.add_argument("target")
    profile = with_actor(
        add("profile", cmd_profile, "show or change the profile (changes are federated)")
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
    practice = sub.add_parser(
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
        cmd = with_actor(add(action, cmd_practice, text, practice_sub))
        if action in ("update", "delete"):
            cmd.add_argument("ref", help="the practice's address or its last path part")
        if action in ("publish", "update"):
            cmd.add_argument("file", help="Markdown file with a front matter")
        if action == "list":
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
    commit = sub.add_parser(
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
        cmd = with_actor(add(action, cmd_commitments, text, commit_sub))
        if action == "publish":
            cmd.add_argument("file", help="commitments TOML file")
    pol = sub.add_parser(
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
    publish_policy = with_actor(
        add("publish", cmd_policy, "publish the policy, or announce a change", pol_sub)
    )
    publish_policy.add_argument("file", help="data policy TOML file")
    publish_policy.add_argument(
        "--effective", help="date the change takes effect (default: after the notice period)"
    )
    with_actor(
        add("show", cmd_policy, "show the policy in force and any announced change", pol_sub)
    )
    rep = sub.add_parser("replies", help="list replies to our objects, hide or show one")
    rep_sub = rep.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = with_actor(add("list", cmd_replies, "list replies (with their numbers)", rep_sub))
    listing.add_argument("--object", help="only replies to this object (its address)")
    for action, text in (
        ("hide", "hide a reply from our pages"),
        ("show", "show a hidden reply again"),
    ):
        cmd = with_actor(add(action, cmd_replies, text, rep_sub))
        cmd.add_argument("id", type=int, help="the reply's number (see 'replies list')")
    for name, text in (
        ("block", "refuse a domain or an actor: nothing from it, nothing to it"),
        ("unblock", "lift a block"),
    ):
        cmd = with_actor(add(name, cmd_block, text))
        cmd.add_argument("kind", choices=["domain", "actor"])
        cmd.add_argument("value", help="a domain name (coop.example) or an actor address")
        if name == "block":
            cmd.add_argument("--reason", default="", help="why (published if recommended)")
            cmd.add_argument(
                "--recommend",
                action="store_true",
                help="publish it in our block recommendations for other members",
            )
    blocks = with_actor(add("blocks", cmd_blocks, "list our blocks"))
    blocks.add_argument("--json", action="store_true", help="machine-readable output")
    recs = sub.add_parser(
        "recommendations",
        help="read other members' block recommendations, apply or dismiss them",
    )
    recs_sub = recs.add_subparsers(dest="action", required=True, metavar="ACTION")
    subscribe = with_actor(
        add("subscribe", cmd_recommendations, "read this member's recommendations", recs_sub)
    )
    subscribe.add_argument("member", help="the member's actor address")
    with_actor(add("fetch", cmd_recommendations, "read the subscribed members now", recs_sub))
    with_actor(add("list", cmd_recommendations, "list pending recommendations", recs_sub))
    for action, text in (("apply", "block as recommended"), ("dismiss", "do not block")):
        cmd = with_actor(add(action, cmd_recommendations, text, recs_sub))
        cmd.add_argument("id", type=int, help="the recommendation's number")
    lib = with_actor(add("library", cmd_library, "list what followed members shared"))
    lib.add_argument("--search", help="words to look for (full text)")
    lib.add_argument("--kind", choices=["practice", "commitments"], help="only this kind")
    lib.add_argument("--theme", type=int, help="only practices serving this commitment (1-7)")
    lib.add_argument("--licence", help="only this licence (SPDX id)")
    lib.add_argument("--member", help="only items of this member (actor URL)")
    lib.add_argument("--json", action="store_true", help="machine-readable output")
    network = sub.add_parser(
        "directory",
        help="the network's directory: crawl the follow graph now, or list the members",
        description=(
            "The directory lists the members of the network found by crawling the follow "
            "graph from our organisations (see [directory] in the configuration). The "
            "workers of 'serve' and 'worker' crawl every [directory] refresh_hours."
        ),
    )
    network_sub = network.add_subparsers(dest="action", required=True, metavar="ACTION")
    add("refresh", cmd_directory, "run one crawl round now and wait for its end", network_sub)
    members_list = with_actor(
        add("list", cmd_directory, "list the members of the network we know", network_sub)
    )
    members_list.add_argument("--commitment", type=int, help="only members stating it (1-7)")
    members_list.add_argument(
        "--progress", help="only this progress (to-start, in-progress, achieved)"
    )
    members_list.add_argument("--territory", help="only members of this territory")
    members_list.add_argument("--json", action="store_true", help="machine-readable output")
    relay = sub.add_parser(
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
        cmd = with_actor(add(action, cmd_relay, text, relay_sub))
        if action != "list":
            cmd.add_argument("url", help="the relay's actor URL or inbox URL")
        else:
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
    share = with_actor(
        add("share", cmd_share, "share (boost) a library item (practice or commitments)")
    )
    share.add_argument("uri", help="the item's address")
    adopt = with_actor(add("adopt", cmd_adopt, "derive our own practice from a library practice"))
    adopt.add_argument("uri", help="the practice's address")
    adopt.add_argument(
        "--licence", help="licence of our version, when the origin's allows a choice"
    )
    adopt.add_argument(
        "--confirm", action="store_true", help="adopt although the origin's licence is unknown"
    )
    post = with_actor(add("post", cmd_post, "publish a public note to followers"))
    post.add_argument("text")
    post.add_argument(
        "--in-reply-to",
        metavar="URI",
        help="answer this object (a member's practice, a post); its author is told",
    )
    deliveries = with_actor(
        add("deliveries", cmd_deliveries, "show the delivery ledger (newest first)")
    )
    deliveries.add_argument("--json", action="store_true", help="machine-readable output")
    deliveries.add_argument(
        "--state",
        choices=["pending", "sending", "delivered", "failed", "dead", "gone", "parked"],
        help="only deliveries in this state",
    )
    deliveries.add_argument("--limit", type=int, default=100, help="rows to show (default 100)")
    deliveries.add_argument(
        "--retry",
        action="store_true",
        help="queue failed and abandoned deliveries again",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as err:
        print(f"declics: error: {err.reason}", file=sys.stderr)
        return 2
    except FetchError as err:
        print(f"declics: error: {err.reason}", file=sys.stderr)
        return 1
    except FederationError as err:
        print(f"declics: error: {err.reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stderr.close()
        return 0
