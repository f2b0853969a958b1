"""Intake of an inbox POST: every check before an activity may have any effect.

Order: size and JSON shape (400/413: depth, keys, string lengths, recipients),
signature present and sound (401), activity shape (400), key fetched and signature
verified (401), key owner is the actor (401), rate per remote host and actor (429),
then the activity is stored once (idempotent on its id) and 202 is answered. Nothing
is stored before every check has passed. Processing happens in the inbox worker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urldefrag

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from federation import http_signatures, proofs
from federation.actors import keys, local
from federation.delivery import queue
from federation.errors import BadRequest, Unauthorized, Unavailable
from federation.inbox import admission, batch
from federation.inbox.guard import InboxGuard
from federation.inbox.states import InboxState
from federation.observability import logs
from federation.runtime import Runtime
from federation.settings import InboxSettings
from federation.store.models import InboxItem, LocalActor, RemoteActor
from federation.transport.client import Signer
from federation.vocab import limits
from federation.vocab.constants import ACTOR_TYPES
from federation.vocab.normalize import (
    Activity,
    ProtocolError,
    check_http_uri,
    host_of,
    id_of,
    parse_activity,
    types_of,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    duplicate: bool
    activity_id: str


def shape_limits(settings: InboxSettings) -> limits.ShapeLimits:
    return limits.ShapeLimits(
        max_depth=settings.max_json_depth,
        max_entries=settings.max_json_keys,
        max_string_chars=settings.max_string_chars,
        max_recipients=settings.max_recipients,
    )


def parse_body(body: bytes, settings: InboxSettings) -> dict[str, object]:
    try:
        document = limits.loads(body)
    except ProtocolError as err:
        reason = "body is not valid JSON" if err.reason == "not valid JSON" else err.reason
        raise BadRequest(reason) from err
    if not isinstance(document, dict):
        raise BadRequest("body is not a JSON object")
    try:
        limits.check_shape(document, shape_limits(settings))
    except ProtocolError as err:
        raise BadRequest(err.reason) from err
    return document


async def backlog(rt: Runtime) -> int:
    """Received activities the inbox worker has not finished yet."""
    async with rt.sessions() as session:
        waiting = await session.execute(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.state == InboxState.RECEIVED.value)
        )
        return int(waiting.scalar() or 0)


def _check_origin(activity: Activity) -> None:
    """Objects an activity carries must come from the actor's own server."""
    actor_host = host_of(activity.actor)
    if host_of(activity.id) != actor_host:
        raise Unauthorized("activity id is not on the actor's server")
    if activity.type in ("Create", "Update") and activity.object is not None:
        if activity.object_id is None or host_of(activity.object_id) != actor_host:
            raise Unauthorized("the object is not on the actor's server")
        attributed = id_of(activity.object.get("attributedTo"))
        if attributed not in (None, activity.actor) and activity.object_id != activity.actor:
            raise Unauthorized("the object is attributed to someone else")
        # Same host is not enough for a profile: only its own actor may change it.
        is_actor = set(types_of(activity.object)) & ACTOR_TYPES
        if is_actor and activity.object_id != activity.actor:
            raise Unauthorized("an actor may only update its own profile")
    deleted = activity.object_id if activity.type == "Delete" else None
    if deleted is not None and host_of(deleted) != actor_host:
        raise Unauthorized("cannot delete an object of another server")


def _parse_signature(
    request: http_signatures.HttpRequest,
) -> http_signatures.ParsedSignature | http_signatures.SignatureError:
    """Parsed once: the blocks read its keyId, `_verify` refuses its error (401)."""
    try:
        return http_signatures.parse_signature(request)
    except http_signatures.SignatureError as err:
        return err


async def _verify(
    rt: Runtime,
    request: http_signatures.HttpRequest,
    signer: Signer,
    parsed: http_signatures.ParsedSignature | http_signatures.SignatureError,
) -> tuple[http_signatures.ParsedSignature, keys.ResolvedKey]:
    if isinstance(parsed, http_signatures.SignatureError):
        raise Unauthorized(parsed.reason) from parsed
    try:
        # Refused here, not by the fetch: a file: or ftp: key is no temporary failure.
        check_http_uri(parsed.key_id, "the signature's keyId")
    except ProtocolError as err:
        raise Unauthorized(err.reason) from err
    if parsed.scheme == "rfc9421" and not rt.settings.signatures.accept_rfc9421:
        raise Unauthorized("RFC 9421 signatures are not accepted here; use draft-cavage")
    skew = timedelta(seconds=rt.settings.signatures.clock_skew_seconds)
    try:
        http_signatures.check_request(request, parsed, rt.clock.now(), skew)
    except http_signatures.SignatureError as err:
        raise Unauthorized(err.reason) from err
    try:
        key = await keys.resolve_key(rt, parsed.key_id, signer)
        try:
            http_signatures.verify_signature(parsed, key.public_key)
        except http_signatures.SignatureError:
            if not key.from_cache:
                raise
            # The actor may have rotated its key since we cached it.
            key = await keys.resolve_key(rt, parsed.key_id, signer, refresh=True)
            http_signatures.verify_signature(parsed, key.public_key)
    except http_signatures.SignatureError as err:
        raise Unauthorized(err.reason) from err
    except keys.KeyUnavailable as err:
        if err.temporary:
            raise Unavailable(err.reason) from err
        raise Unauthorized(err.reason) from err
    return parsed, key


async def _proof_of(
    rt: Runtime, document: Mapping[str, object], owner: str, signer: Signer
) -> bool:
    """Check a FEP-8b32 integrity proof on `document`, which `owner` must have made.

    True when the proof verifies; False when there is none we can use (unknown
    cryptosuite, key not found: FEP-8b32 says to ignore it). A proof that does not
    verify, or was made with another actor's key, means the body was altered or
    forged: refused with 401.
    """
    if not proofs.has_proof(document) or not proofs.is_supported(document):
        return False
    method = proofs.proof_method(document)
    if method is None:
        return False
    if urldefrag(method).url != owner:
        raise Unauthorized("the integrity proof was made with a key of another actor")
    try:
        key = await keys.resolve_key(rt, method, signer)
    except keys.KeyUnavailable:
        return False
    if not isinstance(key.public_key, Ed25519PublicKey) or key.owner != owner:
        return False
    try:
        proofs.verify_proof(document, key.public_key, now=rt.clock.now())
    except proofs.ProofError as err:
        raise Unauthorized(f"integrity proof refused: {err.reason}") from err
    return True


async def _check_proofs(
    rt: Runtime,
    document: dict[str, object],
    activity: Activity,
    signer: Signer,
    *,
    signed_by_actor: bool,
) -> None:
    """The activity's own proof, and that of an object it carries from another author.

    An activity signed (HTTP) by someone other than its actor was forwarded — by a
    relay, or a member sharing it: only the actor's own proof may vouch for it then.
    """
    proven = await _proof_of(rt, document, activity.actor, signer)
    if not signed_by_actor and not proven:
        raise Unauthorized("the signing key does not belong to the activity's actor")
    embedded = activity.object
    author = id_of(embedded.get("attributedTo")) if embedded is not None else None
    if embedded is not None and author is not None and author != activity.actor:
        # A shared practice travels with its author's proof: checked, not fetched.
        await _proof_of(rt, embedded, author, signer)


async def _is_unknown(rt: Runtime, actor_uri: str) -> bool:
    async with rt.sessions() as session:
        found = await session.execute(select(RemoteActor.id).where(RemoteActor.uri == actor_uri))
        return found.first() is None


async def receive(
    rt: Runtime,
    request: http_signatures.HttpRequest,
    recipient: LocalActor | None,
    signer: Signer,
    organisations: Sequence[int] = (),
    guard: InboxGuard | None = None,
) -> Accepted:
    """Authenticate and store one inbound activity; raise a FederationError if refused.

    `organisations` are the local actors the request is for (the recipient, or every
    organisation of the domain for the shared inbox): their blocks apply. `guard`
    applies the per-host and per-actor rates once the sender is known.
    """
    document = parse_body(request.body, rt.settings.inbox)
    names = {name.lower() for name in request.headers}
    if not names & {"signature", "signature-input", "authorization"}:
        raise Unauthorized("request is not signed")
    try:
        activity = parse_activity(document)
    except ProtocolError as err:
        raise BadRequest(err.reason) from err
    logs.bind(activity_id=activity.id)
    # A deleted account's key can no longer be fetched (410): Mastodon sends such
    # Deletes to everyone, so drop them unverified when we never knew the actor.
    if (
        activity.type == "Delete"
        and activity.object_id == activity.actor
        and await _is_unknown(rt, activity.actor)
    ):
        return Accepted(duplicate=True, activity_id=activity.id)
    parsed = _parse_signature(request)
    key_id = None if isinstance(parsed, http_signatures.SignatureError) else parsed.key_id
    await admission.check_blocks(rt, organisations, activity.actor, key_id)
    _parsed, key = await _verify(rt, request, signer, parsed)
    signed_by_actor = urldefrag(key.owner).url == activity.actor
    if guard is not None:
        sender = urldefrag(key.owner).url
        guard.admit_sender(sender, host_of(sender))
    try:
        _check_origin(activity)
    except ProtocolError as err:
        raise BadRequest(err.reason) from err
    await _check_proofs(rt, document, activity, signer, signed_by_actor=signed_by_actor)
    await admission.check_membership(rt, activity)
    now = rt.clock.now()
    if rt.inbox_writer is None:
        rt.inbox_writer = batch.InboxWriter(rt)
    # Stored with the other POSTs accepted meanwhile, in one transaction.
    stored = await rt.inbox_writer.store(
        {
            "activity_uri": activity.id,
            "activity_type": activity.type,
            "actor_uri": activity.actor,
            "recipient_id": recipient.id if recipient is not None else None,
            "payload": document,
            "state": InboxState.RECEIVED.value,
            "attempts": 0,
            "next_attempt_at": now,
            "received_at": now,
        },
        queue.inbox_host(activity.actor),
    )
    if not stored:
        return Accepted(duplicate=True, activity_id=activity.id)
    rt.inbox_wakeup.set()
    return Accepted(duplicate=False, activity_id=activity.id)


async def signer_for(rt: Runtime, domain: str) -> Signer:
    """The key our signed GETs use: the application actor of the domain addressed."""
    remembered: Signer | None = rt.signers.get(domain)
    if remembered is not None:
        return remembered
    signer = await _signer_for(rt, domain)
    rt.signers.put(domain, signer)
    return signer


async def _signer_for(rt: Runtime, domain: str) -> Signer:
    async with rt.sessions() as session:
        app_actor = await local.application_of(session, domain)
        if app_actor is None:
            orgs = await local.organisations(session)
            if not orgs:
                raise Unavailable("no actor is configured on this server")
            app_actor = await local.application_of(session, orgs[0].domain)
        if app_actor is None:
            raise Unavailable("no application actor is configured")
        return local.signer_of(app_actor)
