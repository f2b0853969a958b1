"""Import: verify an archive completely, then restore the member on this host.

`verify` reads nothing but the archive and the passphrase; `check_target` reads the
database; `restore_organisation` is the only creation path, in one transaction.
Nothing is stored unless all of them pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import keypairs
from federation.actors import local
from federation.errors import CommandError
from federation.outbox import objects as object_use_cases
from federation.outbox.publish import new_uri, send
from federation.portability import archive, rows, sealing
from federation.portability.archive import ArchiveError
from federation.portability.export import KEYS_AAD, PRIVATE
from federation.portability.rewrite import Rebase
from federation.store.models import (
    Block,
    BlockRecommendation,
    Interaction,
    LocalActor,
    LocalObject,
    ObjectVersion,
    RecommendationSource,
)
from federation.vocab import build

REQUIRED = (
    "actor.json",
    "outbox.json",
    "declics/profile.json",
    "declics/keys.json",
    "declics/objects.json",
    "declics/followers.json",
    "declics/following.json",
    "declics/blocks.json",
    "declics/recommendation-sources.json",
    "declics/block-recommendations.json",
)


@dataclass(frozen=True)
class Checked:
    """An archive that verified: what `restore_organisation` stores."""

    old_actor: str
    old_base: str
    old_username: str
    profile: dict[str, Any]
    secret: dict[str, str | None]
    objects: list[dict[str, Any]]
    followers: list[dict[str, Any]]
    following: list[dict[str, Any]]
    blocks: list[dict[str, Any]]
    recommendation_sources: list[dict[str, Any]]
    block_recommendations: list[dict[str, Any]]
    settings_toml: bytes | None


def _list_of_dicts(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ArchiveError(f"{name} is not a list of JSON objects")
    return value


def _same_public(a: str, b: object) -> bool:
    if not isinstance(b, str):
        return False
    try:
        return keypairs.public_to_pem(keypairs.public_from_pem(a)) == keypairs.public_to_pem(
            keypairs.public_from_pem(b)
        )
    except (ValueError, keypairs.KeyFormatError):
        return False


def _check_keys(opened: archive.Archive, old_actor: str, passphrase: str) -> dict[str, str | None]:
    entry = opened.json("declics/keys.json")
    if not isinstance(entry, dict) or not isinstance(entry.get("public"), dict):
        raise ArchiveError("declics/keys.json has no public keys")
    try:
        plain = sealing.unseal(entry.get("sealed"), passphrase, KEYS_AAD + old_actor.encode())
    except sealing.SealError as err:
        raise ArchiveError(err.reason) from err
    secret = json.loads(plain)
    if not isinstance(secret, dict) or not all(
        isinstance(secret.get(name), str) for name in PRIVATE[:2]
    ):
        raise ArchiveError("the sealed keys are incomplete")
    try:
        rsa_key = keypairs.private_from_pem(secret["rsa_private_pem"])
        ed_key = keypairs.private_from_pem(secret["ed25519_private_pem"])
    except (ValueError, keypairs.KeyFormatError) as err:
        raise ArchiveError("a sealed private key is unreadable") from err
    if not isinstance(rsa_key, rsa.RSAPrivateKey) or not isinstance(
        ed_key, ed25519.Ed25519PrivateKey
    ):
        raise ArchiveError("the sealed private keys have the wrong types")
    public = entry["public"]
    rsa_pem = keypairs.public_to_pem(rsa_key.public_key())
    ed_multibase = keypairs.public_to_multibase(ed_key.public_key())
    listed_rsa = public.get("rsa") if isinstance(public.get("rsa"), dict) else {}
    listed_ed = public.get("ed25519") if isinstance(public.get("ed25519"), dict) else {}
    if not _same_public(rsa_pem, listed_rsa.get("publicKeyPem")):
        raise ArchiveError("the RSA private key does not match its public key")
    if listed_ed.get("publicKeyMultibase") != ed_multibase:
        raise ArchiveError("the Ed25519 private key does not match its public key")
    document = opened.json("actor.json")
    published = [
        key.get("publicKeyPem")
        for key in (
            document.get("publicKey")
            if isinstance(document.get("publicKey"), list)
            else [document.get("publicKey")]
        )
        if isinstance(key, dict) and key.get("id") == listed_rsa.get("id")
    ]
    if not published or not _same_public(rsa_pem, published[0]):
        raise ArchiveError("the RSA key is not the one actor.json publishes")
    multikeys = [
        m.get("publicKeyMultibase")
        for m in document.get("assertionMethod") or []
        if isinstance(m, dict) and m.get("id") == listed_ed.get("id")
    ]
    if multikeys != [ed_multibase]:
        raise ArchiveError("the Ed25519 key is not the one actor.json publishes")
    _check_next_keys(secret, public.get("next"))
    return {name: secret.get(name) for name in PRIVATE}


def _check_next_keys(secret: dict[str, Any], listed: object) -> None:
    """During a rotation the next keys travel too, and must match what was listed."""
    rsa_pem, ed_pem = secret.get("next_rsa_private_pem"), secret.get("next_ed25519_private_pem")
    if rsa_pem is None and ed_pem is None and listed is None:
        return
    if not isinstance(rsa_pem, str) or not isinstance(ed_pem, str) or not isinstance(listed, dict):
        raise ArchiveError("the keys of the rotation under way are incomplete")
    try:
        rsa_key = keypairs.private_from_pem(rsa_pem)
        ed_key = keypairs.private_from_pem(ed_pem)
    except (ValueError, keypairs.KeyFormatError) as err:
        raise ArchiveError("a sealed next key is unreadable") from err
    if not _same_public(
        keypairs.public_to_pem(keypairs.public_of(rsa_key)), listed.get("publicKeyPem")
    ) or keypairs.public_to_multibase(keypairs.public_of(ed_key)) != listed.get(
        "publicKeyMultibase"
    ):
        raise ArchiveError("the next keys do not match their public keys")


def _check_objects(items: list[dict[str, Any]], old_base: str) -> None:
    for item in items:
        obj = item.get("object")
        if not isinstance(obj, dict):
            raise ArchiveError("declics/objects.json: an entry has no object")
        uri = obj.get("uri")
        if not isinstance(uri, str) or not uri.startswith(old_base + "/"):
            raise ArchiveError(f"declics/objects.json: object {uri!r} is not the member's")
        for field in ("object_type", "kind", "document", "published"):
            if obj.get(field) is None:
                raise ArchiveError(f"declics/objects.json: {uri} has no {field}")
        _list_of_dicts(item.get("versions"), f"versions of {uri}")
        _list_of_dicts(item.get("interactions"), f"interactions of {uri}")


def verify(data: bytes, passphrase: str) -> Checked:
    """Everything that can be checked without this host's database."""
    opened = archive.read(data)
    for name in REQUIRED:
        if name not in opened.entries:
            raise ArchiveError(f"{name} is missing")
    manifest = opened.manifest
    old_actor = manifest.get("actor")
    profile = opened.json("declics/profile.json")
    if not isinstance(profile, dict) or not isinstance(old_actor, str):
        raise ArchiveError("the manifest or declics/profile.json names no actor")
    old_base, old_username = profile.get("base_url"), profile.get("username")
    if not isinstance(old_base, str) or not isinstance(old_username, str):
        raise ArchiveError("declics/profile.json has no base_url or username")
    if (
        f"{old_base}/users/{old_username}" != old_actor
        or opened.json("actor.json").get("id") != old_actor
    ):
        raise ArchiveError("actor.json, the profile and the manifest name different actors")
    secret = _check_keys(opened, old_actor, passphrase)
    objects = _list_of_dicts(opened.json("declics/objects.json"), "declics/objects.json")
    _check_objects(objects, old_base)
    checked = Checked(
        old_actor=old_actor,
        old_base=old_base,
        old_username=old_username,
        profile=profile,
        secret=secret,
        objects=objects,
        followers=_list_of_dicts(opened.json("declics/followers.json"), "followers"),
        following=_list_of_dicts(opened.json("declics/following.json"), "following"),
        blocks=_list_of_dicts(opened.json("declics/blocks.json"), "blocks"),
        recommendation_sources=_list_of_dicts(
            opened.json("declics/recommendation-sources.json"), "recommendation sources"
        ),
        block_recommendations=_list_of_dicts(
            opened.json("declics/block-recommendations.json"), "block recommendations"
        ),
        settings_toml=opened.entries.get("declics/settings.toml"),
    )
    _check_counts(checked, manifest)
    return checked


def _check_counts(checked: Checked, manifest: dict[str, Any]) -> None:
    counts = manifest.get("counts")
    if not isinstance(counts, dict):
        raise ArchiveError("the manifest has no counts")
    found = {
        "objects": len(checked.objects),
        "versions": sum(len(o["versions"]) for o in checked.objects),
        "interactions": sum(len(o["interactions"]) for o in checked.objects),
        "followers": len(checked.followers),
        "following": len(checked.following),
        "blocks": len(checked.blocks),
    }
    for name, number in found.items():
        if counts.get(name) != number:
            raise ArchiveError(
                f"{name}: the manifest says {counts.get(name)}, the archive holds {number}"
            )


def rebase_for(checked: Checked, new_base: str, new_username: str) -> Rebase:
    return Rebase.of(
        checked.old_base,
        new_base,
        checked.old_username,
        new_username,
        (item["object"]["uri"] for item in checked.objects),
    )


async def check_target(session: AsyncSession, checked: Checked, rebase: Rebase) -> None:
    """This host can take the member: its handle and every object id are free."""
    domain = local.domain_of(rebase.new_base)
    if await local.find(session, domain, rebase.new_username) is not None:
        raise CommandError(f"{rebase.new_username}@{domain} already exists on this host")
    if await local.by_uri(session, checked.old_actor) is not None:
        raise CommandError(f"{checked.old_actor} is an actor of this install already")
    uris = [rebase.url(item["object"]["uri"]) for item in checked.objects]
    for start in range(0, len(uris), 500):
        taken = (
            (
                await session.execute(
                    select(LocalObject.uri).where(LocalObject.uri.in_(uris[start : start + 500]))
                )
            )
            .scalars()
            .first()
        )
        if taken is not None:
            raise CommandError(f"{taken} already exists on this host")
    activities = [i["activity_uri"] for o in checked.objects for i in o["interactions"]]
    for start in range(0, len(activities), 500):
        taken = (
            (
                await session.execute(
                    select(Interaction.activity_uri).where(
                        Interaction.activity_uri.in_(activities[start : start + 500])
                    )
                )
            )
            .scalars()
            .first()
        )
        if taken is not None:
            raise CommandError(f"interaction {taken} is already recorded on this host")


def _resigned(actor: LocalActor, document: dict[str, Any], now: datetime) -> dict[str, Any]:
    # The old proof covers the old ids; the member's own key vouches for the new ones.
    if "proof" in document:
        return object_use_cases.signed(actor, document, now)
    return document


async def restore_organisation(
    session: AsyncSession, checked: Checked, rebase: Rebase, now: datetime
) -> LocalActor:
    """Create the member on this host from a verified archive (the one creation path
    of an import). Its former id goes into alsoKnownAs, so it can be moved here."""
    base_url = rebase.new_base
    profile = rebase.deep(checked.profile)
    aliases = [a for a in (checked.profile.get("also_known_as") or []) if a != rebase.new_actor]
    if checked.old_actor != rebase.new_actor:  # not a backup restored at its own URL
        aliases.append(checked.old_actor)
    actor = LocalActor(
        **rows.from_json(
            LocalActor,
            profile,
            {
                **checked.secret,
                "domain": local.domain_of(base_url),
                "base_url": base_url,
                "username": rebase.new_username,
                "also_known_as": aliases or None,
                "moved_to": None,
                "moved_at": None,
            },
        )
    )
    await local.ensure_application(session, base_url, now)
    session.add(actor)
    await session.flush()
    restored = []
    for item in checked.objects:
        data = rebase.deep(item["object"])
        obj = LocalObject(**rows.from_json(LocalObject, data, {"local_actor_id": actor.id}))
        obj.document = _resigned(actor, obj.document, now)
        session.add(obj)
        restored.append((obj, item))
    await session.flush()  # once: the objects' ids, for their versions
    for obj, item in restored:
        for version in item["versions"]:
            row = ObjectVersion(
                **rows.from_json(ObjectVersion, rebase.deep(version), {"object_id": obj.id})
            )
            row.document = _resigned(actor, row.document, now)
            session.add(row)
        for interaction in item["interactions"]:
            values = rows.from_json(Interaction, interaction, {"local_actor_id": actor.id})
            values["object_uri"] = obj.uri
            session.add(Interaction(**values))
        if obj.deleted_at is None:
            await _announce_in_outbox(session, actor, obj, now)
    for model, items in (
        (Block, checked.blocks),
        (RecommendationSource, checked.recommendation_sources),
        (BlockRecommendation, checked.block_recommendations),
    ):
        for values in items:
            session.add(model(**rows.from_json(model, values, {"local_actor_id": actor.id})))
    await session.flush()
    return actor


async def _announce_in_outbox(
    session: AsyncSession, actor: LocalActor, obj: LocalObject, now: datetime
) -> None:
    """A Create in the new outbox, delivered to nobody (no follower yet): followers
    that come with the Move read the member's objects from it (backfill)."""
    document = build.activity(
        "Create",
        new_uri(actor, "activities"),
        local.urls_of(actor).id,
        obj.document,
        to=obj.document.get("to", []),
        cc=obj.document.get("cc", []),
        published=obj.published,
    )
    await send(
        session,
        actor,
        build.with_object_context(document, obj.document),
        inboxes=[],
        now=now,
        public=True,
    )
