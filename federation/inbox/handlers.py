"""What each authenticated activity does. One function per activity type.

A handler returns a short outcome ("processed: …" or "ignored: …"); it raises
`Retry` when a temporary failure (a fetch) should be tried again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select

from federation import proofs
from federation.actors import follows, keys, local, remote
from federation.content import backfill, library
from federation.inbox import admission
from federation.inbox import commons as commons_inbox
from federation.outbox import follow as follow_use_cases
from federation.outbox import relays
from federation.runtime import Runtime
from federation.store.models import Interaction, LocalActor, LocalObject, RemoteActor
from federation.transport.client import FetchError, Signer
from federation.vocab.normalize import (
    Activity,
    ProtocolError,
    first_text,
    host_of,
    id_of,
    parse_activity,
    parse_object,
)
from federation.vocab.sanitize import sanitize_html

log = logging.getLogger(__name__)


class Retry(Exception):
    """A temporary failure: process the activity again later."""


@dataclass(frozen=True)
class Context:
    rt: Runtime
    signer: Signer
    recipient_id: int | None


Handler = Callable[[Context, Activity], Awaitable[str]]


async def _sender(ctx: Context, uri: str) -> RemoteActor:
    try:
        return await remote.resolve(ctx.rt, uri, ctx.signer)
    except FetchError as err:
        raise Retry(f"cannot fetch actor {uri}: {err.reason}") from err


async def _local_target(ctx: Context, uri: str | None) -> LocalActor | None:
    if uri is None:
        return None
    async with ctx.rt.sessions() as session:
        return await local.by_uri(session, uri)


async def on_follow(ctx: Context, activity: Activity) -> str:
    target = await _local_target(ctx, activity.object_id)
    if target is None:
        return "ignored: not a follow of one of our organisations"
    if target.moved_to is not None:
        # Like Mastodon: a moved account takes no new followers; its new one does.
        return f"ignored: this organisation moved to {target.moved_to}"
    if target.actor_type == local.APPLICATION:
        # A relay we subscribed to follows our application actor back (activityrelay
        # does): accepted, so that it may deliver to us. Nobody else may follow it.
        async with ctx.rt.sessions() as session:
            sender_or_none = await remote.get_cached(session, activity.actor)
            relay = sender_or_none is not None and await relays.is_subscribed(
                session, target, sender_or_none
            )
        if sender_or_none is None or not relay:
            return "ignored: follow of the application actor by no relay of ours"
        sender, manual = sender_or_none, False
    else:
        sender = await _sender(ctx, activity.actor)
        manual = target.manually_approves_followers
    trust = ctx.rt.settings.trust
    member = admission.is_member_document(sender.document)
    now = ctx.rt.clock.now()
    async with ctx.rt.sessions.begin() as session:
        existing = await follows.get_follower(session, target.id, sender.id)
        known = existing is not None and existing.state == follows.ACCEPTED
        if member and trust.approve_member_follows and not known:
            manual = True  # the operator admits new members to the network by hand
        state = follows.ACCEPTED if (not manual or known) else follows.PENDING
        row = await follows.set_follower(session, target.id, sender.id, activity.id, state, now)
        followed_back = False
        if state == follows.ACCEPTED:
            await follow_use_cases.respond(session, target, row, sender, now, accept=True)
            if member and trust.follow_back_members and target.actor_type != local.APPLICATION:
                # Joining = following one member: it follows back, so the newcomer
                # shows up in every directory after one crawl.
                followed_back = await follow_use_cases.follow_back(session, target, sender, now)
    ctx.rt.delivery_wakeup.set()
    return f"processed: follower {state}" + (", followed back" if followed_back else "")


async def _undo_follow(ctx: Context, activity: Activity, inner: Activity) -> str:
    target = await _local_target(ctx, inner.object_id)
    if target is None:
        return "ignored: undo of a follow we do not know"
    async with ctx.rt.sessions.begin() as session:
        sender = await remote.get_cached(session, activity.actor)
        if sender is None or not await follows.remove_follower(session, target.id, sender.id):
            return "ignored: was not following"
    return "processed: follower removed"


async def _undo_interaction(ctx: Context, activity: Activity, inner_id: str) -> str:
    async with ctx.rt.sessions.begin() as session:
        result = await session.execute(
            delete(Interaction).where(
                Interaction.activity_uri == inner_id,
                Interaction.actor_uri == activity.actor,
            )
        )
    if result.rowcount:  # type: ignore[attr-defined]
        return "processed: interaction withdrawn"
    return "ignored: nothing to undo"


async def on_undo(ctx: Context, activity: Activity) -> str:
    if activity.object is None:
        if activity.object_id is None:
            return "ignored: undo of nothing"
        return await _undo_interaction(ctx, activity, activity.object_id)
    try:
        inner = parse_activity(activity.object)
    except ProtocolError as err:
        return f"ignored: undone object unreadable ({err.reason})"
    if inner.actor != activity.actor:
        return "ignored: undo of another actor's activity"
    if inner.type == "Follow":
        return await _undo_follow(ctx, activity, inner)
    if inner.type in ("Like", "Announce", "EmojiReact", "Join", "Accept", "TentativeAccept"):
        return await _undo_interaction(ctx, activity, inner.id)
    return f"ignored: undo of {inner.type}"


async def _answer_to_our_follow(ctx: Context, activity: Activity, accepted: bool) -> str:
    now = ctx.rt.clock.now()
    async with ctx.rt.sessions.begin() as session:
        row = None
        if activity.object_id is not None:
            row = await follows.following_by_follow_uri(session, activity.object_id)
        sender = await remote.get_cached(session, activity.actor)
        if row is None and activity.object is not None and sender is not None:
            # Embedded Follow whose id we do not know: match it by its actor.
            ours = await local.by_uri(session, id_of(activity.object.get("actor")) or "")
            if ours is not None:
                row = await follows.get_following(session, ours.id, sender.id)
        if row is None or sender is None or row.remote_actor_id != sender.id:
            return "ignored: answer to no follow of ours"
        if accepted:
            row.state = follows.ACCEPTED
            row.accepted_at = now
        else:
            row.state = follows.REJECTED
        outbox = sender.document.get("outbox")
        sender_uri = sender.uri
    if accepted and isinstance(outbox, str):
        # What the member shared before we followed it fills our library now.
        count = await backfill.backfill(ctx.rt, sender_uri, outbox, ctx.signer)
        return f"processed: follow accepted, {count} items backfilled"
    return f"processed: follow {'accepted' if accepted else 'rejected'}"


async def on_accept(ctx: Context, activity: Activity) -> str:
    taking_part = await commons_inbox.participate(ctx.rt, ctx.signer, activity, "join")
    if taking_part is not None:
        return taking_part
    return await _answer_to_our_follow(ctx, activity, accepted=True)


async def on_join(ctx: Context, activity: Activity) -> str:
    outcome = await commons_inbox.participate(ctx.rt, ctx.signer, activity, "join")
    return outcome or "ignored: join of no event of ours"


async def on_tentative_accept(ctx: Context, activity: Activity) -> str:
    outcome = await commons_inbox.participate(ctx.rt, ctx.signer, activity, "maybe")
    return outcome or "ignored: tentative accept of no event of ours"


async def on_leave(ctx: Context, activity: Activity) -> str:
    return await commons_inbox.leave(ctx.rt, activity)


async def on_reject(ctx: Context, activity: Activity) -> str:
    return await _answer_to_our_follow(ctx, activity, accepted=False)


async def on_update(ctx: Context, activity: Activity) -> str:
    if activity.object_id == activity.actor:
        # Take the new profile from its origin, not from the message body.
        try:
            await remote.resolve(ctx.rt, activity.actor, ctx.signer, refresh=True)
        except FetchError as err:
            raise Retry(err.reason) from err
        return "processed: actor refreshed"
    if activity.object is not None and activity.object_id:
        stored = await _to_library(ctx, activity, activity.object)
        if stored is not None:
            return stored
        return await _record_reply(ctx, activity, activity.object, update=True)
    return "ignored: update of something we do not keep"


async def on_delete(ctx: Context, activity: Activity) -> str:
    now = ctx.rt.clock.now()
    async with ctx.rt.sessions.begin() as session:
        if activity.object_id == activity.actor:
            actor = await remote.get_cached(session, activity.actor)
            if actor is None:
                return "ignored: unknown actor deleted"
            await follows.forget_actor(session, actor, now)
            return "processed: actor deleted"
        if activity.object_id and await library.remove(
            session, activity.actor, activity.object_id, now
        ):
            return "processed: library item deleted"
        result = await session.execute(
            delete(Interaction).where(
                Interaction.reply_uri == activity.object_id,
                Interaction.actor_uri == activity.actor,
            )
        )
    if result.rowcount:  # type: ignore[attr-defined]
        return "processed: reply deleted"
    return "ignored: delete of something we do not keep"


async def _our_object(ctx: Context, uri: str | None) -> LocalObject | None:
    if uri is None:
        return None
    async with ctx.rt.sessions() as session:
        return (
            await session.execute(select(LocalObject).where(LocalObject.uri == uri))
        ).scalar_one_or_none()


async def _record(
    ctx: Context,
    activity: Activity,
    kind: str,
    obj: LocalObject,
    reply_uri: str | None = None,
    content_html: str | None = None,
) -> str:
    async with ctx.rt.sessions.begin() as session:
        existing = (
            await session.execute(
                select(Interaction).where(Interaction.activity_uri == activity.id)
            )
        ).scalar_one_or_none()
        if existing is not None:
            existing.content_html = content_html
            return f"processed: {kind} updated"
        session.add(
            Interaction(
                local_actor_id=obj.local_actor_id,
                object_uri=obj.uri,
                kind=kind,
                actor_uri=activity.actor,
                activity_uri=activity.id,
                reply_uri=reply_uri,
                content_html=content_html,
                hidden=False,
                created_at=ctx.rt.clock.now(),
            )
        )
    return f"processed: {kind} recorded"


async def on_like(ctx: Context, activity: Activity) -> str:
    obj = await _our_object(ctx, activity.object_id)
    if obj is None:
        return "ignored: like of something that is not ours"
    return await _record(ctx, activity, "like", obj)


async def on_announce(ctx: Context, activity: Activity) -> str:
    obj = await _our_object(ctx, activity.object_id)
    if obj is not None:
        return await _record(ctx, activity, "announce", obj)
    if activity.object_id is None:
        return "ignored: boost of nothing"
    async with ctx.rt.sessions() as session:
        followed = await library.is_followed(session, activity.actor)
    if not followed:
        return "ignored: boost of something that is not ours"
    # A member shares another's practice. Its author's integrity proof, when it
    # travels with it, lets us keep it as it came; otherwise take it from its
    # origin, never from the message, so that no one can put words in its mouth.
    document = await _proven_copy(ctx, activity.object)
    if document is None:
        try:
            document = await ctx.rt.client.get_json(activity.object_id, signer=ctx.signer)
        except FetchError as err:
            raise Retry(f"cannot fetch shared object: {err.reason}") from err
    if document.get("id") != activity.object_id:
        return "ignored: shared object's id differs from its address"
    author = id_of(document.get("attributedTo"))
    if author is None or host_of(author) != host_of(activity.object_id):
        return "ignored: shared object has no author on its own server"
    async with ctx.rt.sessions.begin() as session:
        item = await library.store(session, author, document, ctx.rt.clock.now())
    if item is None:
        return "ignored: shared object is not library material"
    return f"processed: shared {item.kind} stored in the library"


async def _proven_copy(ctx: Context, embedded: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The embedded object if its author's FEP-8b32 proof verifies, else None."""
    if embedded is None or not proofs.is_supported(embedded):
        return None
    author, method = id_of(embedded.get("attributedTo")), proofs.proof_method(embedded)
    if author is None or method is None or urldefrag(method).url != author:
        return None
    try:
        key = await keys.resolve_key(ctx.rt, method, ctx.signer)
        if not isinstance(key.public_key, Ed25519PublicKey) or key.owner != author:
            return None
        proofs.verify_proof(embedded, key.public_key, now=ctx.rt.clock.now())
    except (keys.KeyUnavailable, proofs.ProofError):
        return None
    return dict(embedded)


async def _record_reply(
    ctx: Context, activity: Activity, raw: object, *, update: bool = False
) -> str:
    try:
        note = parse_object(raw)
    except ProtocolError as err:
        return f"ignored: unreadable object ({err.reason})"
    if update:
        async with ctx.rt.sessions.begin() as session:
            row = (
                await session.execute(
                    select(Interaction).where(
                        Interaction.reply_uri == note.id,
                        Interaction.actor_uri == activity.actor,
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                return "ignored: update of something we do not keep"
            row.content_html = sanitize_html(first_text(note.raw, "content") or "")
        return "processed: reply updated"
    obj = await _our_object(ctx, note.in_reply_to)
    if obj is None:
        return "ignored: not a reply to us"
    content = sanitize_html(note.content or "")
    return await _record(ctx, activity, "reply", obj, note.id, content)


async def _to_library(ctx: Context, activity: Activity, document: Mapping[str, Any]) -> str | None:
    """Store a member's practice or commitments if we follow it; None if not library material."""
    if library.kind_of(document) is None:
        return None
    async with ctx.rt.sessions.begin() as session:
        if not await library.is_followed(session, activity.actor):
            return "ignored: library material from an actor we do not follow"
        item = await library.store(session, activity.actor, document, ctx.rt.clock.now())
    if item is None:
        return "ignored: unusable library item"
    return f"processed: {item.kind} stored in the library"


async def on_create(ctx: Context, activity: Activity) -> str:
    if activity.object is None:
        return "ignored: create without an embedded object"
    declared = await commons_inbox.declaration(
        ctx.rt, activity, await _our_object(ctx, id_of(activity.object.get("object")))
    )
    if declared is not None:
        return declared
    adopted = await _record_adoption(ctx, activity, activity.object)
    stored = await _to_library(ctx, activity, activity.object)
    if stored is not None:
        return stored if adopted is None else f"{adopted}; {stored}"
    if adopted is not None:
        return adopted
    return await _record_reply(ctx, activity, activity.object)


async def _record_adoption(
    ctx: Context, activity: Activity, document: Mapping[str, Any]
) -> str | None:
    """A member derived a practice from one of ours: show who adopted it."""
    origin = await _our_object(ctx, id_of(document.get("derivedFrom")))
    derived = id_of(document.get("id"))
    if origin is None or derived is None:
        return None
    title = document.get("name")
    return await _record(
        ctx, activity, "adoption", origin, derived, str(title)[:500] if title else None
    )


HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Undo": on_undo,
    "Accept": on_accept,
    "Reject": on_reject,
    "Update": on_update,
    "Delete": on_delete,
    "Like": on_like,
    "EmojiReact": on_like,
    "Announce": on_announce,
    "Create": on_create,
    "Join": on_join,
    "Leave": on_leave,
    "TentativeAccept": on_tentative_accept,
}


async def dispatch(ctx: Context, activity: Activity) -> str:
    from federation.inbox import moves  # builds on this module's Context

    handler = HANDLERS.get(activity.type) or {"Move": moves.on_move}.get(activity.type)
    if handler is None:
        return f"ignored: {activity.type} is not handled"
    return await handler(ctx, activity)
