"""Record an activity sent by a local actor and queue its deliveries, in one transaction.

Once the transaction commits the activity is durable: a crash right after it loses
nothing, since the delivery rows are in the same commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation import proofs
from federation.actors import follows, local, trust
from federation.delivery import queue
from federation.errors import CommandError
from federation.store.models import LocalActor, LocalObject, OutboxActivity
from federation.vocab import build
from federation.vocab.serialize import to_json_bytes


def new_uri(actor: LocalActor, kind: str) -> str:
    return f"{actor.base_url}/{kind}/{uuid.uuid4()}"


async def send(
    session: AsyncSession,
    actor: LocalActor,
    document: dict[str, Any],
    *,
    inboxes: Iterable[str],
    now: datetime,
    public: bool = False,
) -> OutboxActivity:
    """Store `document` as sent by `actor` and queue it to every inbox given.

    The activity carries a FEP-8b32 integrity proof made with the actor's Ed25519
    key, so that it can be forwarded (shared, relayed) and still be verified.
    """
    signer = local.signer_of(actor)
    document = proofs.create_proof(document, signer.ed25519_key, signer.ed25519_key_id, now)
    obj = document.get("object")
    object_uri = obj.get("id") if isinstance(obj, dict) else obj
    row = OutboxActivity(
        local_actor_id=actor.id,
        uri=document["id"],
        activity_type=document["type"],
        object_uri=object_uri if isinstance(object_uri, str) else None,
        public=public,
        body=to_json_bytes(document).decode("utf-8"),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    own = {actor.domain}
    blocked = await trust.matcher(session, actor.id)
    targets = [url for url in inboxes if queue.inbox_host(url) not in own and not blocked(url)]
    await queue.plan(session, row.id, targets, now)
    return row


async def to_followers(
    session: AsyncSession,
    actor: LocalActor,
    document: dict[str, Any],
    now: datetime,
    *,
    public: bool = True,
    extra_inboxes: Iterable[str] = (),
) -> OutboxActivity:
    from federation.outbox import relays  # imported here: relays builds on this module

    inboxes = await follows.follower_inboxes(session, actor.id)
    if public:
        # Relays our domain subscribed to carry its public activities further.
        inboxes += await relays.inboxes_for(session, actor, document)
    return await send(
        session,
        actor,
        document,
        inboxes=[*inboxes, *extra_inboxes],
        now=now,
        public=public,
    )


@dataclass(frozen=True)
class ReplyTarget:
    """What a note answers: the object, and its author (mentioned and told)."""

    object_uri: str
    author_uri: str
    author_inbox: str
    author_handle: str | None


async def post_note(
    session: AsyncSession,
    actor: LocalActor,
    text: str,
    now: datetime,
    language: str = "fr",
    reply_to: ReplyTarget | None = None,
) -> tuple[LocalObject, OutboxActivity]:
    """Publish a public Note to all followers: an announcement, or a reply."""
    text = text.strip()
    if not text:
        raise CommandError("the note is empty")
    return await publish_note(session, actor, build.text_to_html(text), now, language, reply_to)


async def publish_note(
    session: AsyncSession,
    actor: LocalActor,
    content_html: str,
    now: datetime,
    language: str = "fr",
    reply_to: ReplyTarget | None = None,
) -> tuple[LocalObject, OutboxActivity]:
    """Store a Note of ours (HTML we wrote) and send its Create to all followers."""
    urls = local.urls_of(actor)
    note = build.note(
        urls,
        new_uri(actor, "objects"),
        content_html,
        now,
        language=language,
        in_reply_to=reply_to.object_uri if reply_to else None,
    )
    if reply_to is not None:
        # Mastodon shows a reply in its thread when the author is addressed and mentioned.
        note["cc"] = [*note["cc"], reply_to.author_uri]
        note["tag"] = [
            {
                "type": "Mention",
                "href": reply_to.author_uri,
                "name": f"@{reply_to.author_handle}" if reply_to.author_handle else "",
            }
        ]
    # Like every object we publish, the note carries its author's proof.
    signer = local.signer_of(actor)
    audience: dict[str, list[str]] = {"to": note["to"], "cc": note["cc"]}
    note = proofs.create_proof(note, signer.ed25519_key, signer.ed25519_key_id, now)
    extra = [reply_to.author_inbox] if reply_to is not None else []
    obj = LocalObject(
        local_actor_id=actor.id,
        uri=note["id"],
        object_type="Note",
        document=note,
        published=now,
    )
    session.add(obj)
    create = build.with_object_context(
        build.activity(
            "Create",
            new_uri(actor, "activities"),
            urls.id,
            note,
            to=audience["to"],
            cc=audience["cc"],
            published=now,
        ),
        note,
    )
    return obj, await to_followers(session, actor, create, now, extra_inboxes=extra)
