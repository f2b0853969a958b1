"""Local actors: creation with keys, look-up by host and path, their documents."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import charter, keypairs
from federation.charter.document import charter_url
from federation.errors import CommandError
from federation.store.models import LocalActor
from federation.transport.client import Signer
from federation.vocab.build import ActorProfile, ActorUrls, actor_document

USERNAME_RE = re.compile(r"^[a-z0-9_]+([.-][a-z0-9_]+)*$")
ORGANIZATION = "Organization"
APPLICATION = "Application"


def normalise_base_url(url: str, *, dev: bool) -> str:
    """Check and canonicalise a base URL: scheme://host[:port], no path."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CommandError(f"base URL must look like https://coop.example, got {url!r}")
    if parts.scheme == "http" and not dev:
        raise CommandError("base URL must use https (http only with --dev)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise CommandError("base URL must not have a path: the actor lives at the root")
    if parts.username or parts.password:
        raise CommandError("base URL must not carry credentials")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def domain_of(base_url: str) -> str:
    return urlsplit(base_url).netloc.lower()


def check_username(username: str) -> str:
    if not USERNAME_RE.match(username) or len(username) > 64:
        raise CommandError(
            "username must be lower-case letters, digits and _ (dots and dashes "
            f"inside), got {username!r}"
        )
    return username


def urls_of(actor: LocalActor) -> ActorUrls:
    return ActorUrls(
        actor.base_url,
        actor.username,
        actor.actor_type == APPLICATION,
        actor.key_generation or 0,
    )


def handle_of(actor: LocalActor) -> str:
    return f"{actor.username}@{actor.domain}"


@lru_cache(maxsize=256)
def _load_signer(key_id: str, rsa_pem: str, ed_key_id: str, ed_pem: str) -> Signer:
    rsa_key = keypairs.private_from_pem(rsa_pem)
    ed_key = keypairs.private_from_pem(ed_pem)
    if not isinstance(rsa_key, rsa.RSAPrivateKey) or not isinstance(
        ed_key, ed25519.Ed25519PrivateKey
    ):
        raise ValueError("stored keys have the wrong types")
    return Signer(key_id, rsa_key, ed_key_id, ed_key)


def signer_of(actor: LocalActor) -> Signer:
    urls = urls_of(actor)
    return _load_signer(
        urls.key_id,
        actor.rsa_private_pem,
        urls.ed25519_key_id,
        actor.ed25519_private_pem,
    )


def _adhesion(
    actor: LocalActor, licence_name: str | None, storage: str | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Profile fields Mastodon shows, and the extension terms members read."""
    fields: list[tuple[str, str]] = []
    extension: dict[str, Any] = {}
    if actor.charter_version and actor.charter_signed_on:
        text = charter.load(actor.charter_version)
        signed = date.fromisoformat(actor.charter_signed_on)
        commitments = f"{actor.base_url}/commitments"
        fields.append(
            (
                "Charte Nos Déclics",
                f"signée le {signed.strftime('%d/%m/%Y')} — "
                f'<a href="{commitments}" rel="nofollow noopener">nos engagements</a>',
            )
        )
        extension = {
            "charter": charter_url(actor.base_url, text.version),
            "charterVersion": text.version,
            "charterHash": f"sha256:{text.sha256}",
            "signedOn": actor.charter_signed_on,
            "commitmentStatements": commitments,
            "directory": f"{urls_of(actor).id}/directory",
        }
    if actor.territory:
        extension["territory"] = actor.territory
    if storage:
        policy_url = f"{actor.base_url}/data-policy"
        fields.append(
            (
                "Données stockées en",
                f'{escape(storage)} — <a href="{policy_url}" rel="nofollow noopener">'
                "notre politique de données</a>",
            )
        )
    if licence_name:
        fields.append(("Licence des contenus partagés", licence_name))
    extension["blockRecommendations"] = f"{urls_of(actor).id}/blocks"
    return fields, extension


def document_of(
    actor: LocalActor, licence_name: str | None = None, storage: str | None = None
) -> dict[str, Any]:
    """The actor document; `licence_name` is the install's default licence for
    practices, `storage` the country of the data policy in force."""
    signer = signer_of(actor)
    adhesion_fields, extension = (
        _adhesion(actor, licence_name, storage) if actor.actor_type != APPLICATION else ([], {})
    )
    profile = ActorProfile(
        urls=urls_of(actor),
        actor_type=actor.actor_type,
        name=actor.name,
        summary_html=actor.summary,
        handle=handle_of(actor),
        rsa_public_pem=keypairs.public_to_pem(signer.rsa_key.public_key()),
        ed25519_multibase=keypairs.public_to_multibase(signer.ed25519_key.public_key()),
        manually_approves_followers=actor.manually_approves_followers,
        published=actor.created_at,
        icon_url=actor.icon_url,
        image_url=actor.image_url,
        fields=[*adhesion_fields, *((f["name"], f["value"]) for f in actor.fields)],
        extension=extension,
        also_known_as=tuple(actor.also_known_as or ()),
        moved_to=actor.moved_to,
        next_keys=next_public_keys(actor),
    )
    return actor_document(profile)


def next_public_keys(actor: LocalActor) -> tuple[str, str] | None:
    """(RSA PEM, Ed25519 multibase) of the keys a rotation announced, if any."""
    if not actor.next_rsa_private_pem or not actor.next_ed25519_private_pem:
        return None
    rsa_key = keypairs.private_from_pem(actor.next_rsa_private_pem)
    ed_key = keypairs.private_from_pem(actor.next_ed25519_private_pem)
    return (
        keypairs.public_to_pem(keypairs.public_of(rsa_key)),
        keypairs.public_to_multibase(keypairs.public_of(ed_key)),
    )


def _new_actor(
    base_url: str,
    username: str,
    actor_type: str,
    name: str,
    summary: str,
    now: datetime,
) -> LocalActor:
    return LocalActor(
        domain=domain_of(base_url),
        base_url=base_url,
        username=username,
        actor_type=actor_type,
        name=name,
        summary=summary,
        fields=[],
        manually_approves_followers=actor_type == APPLICATION,
        rsa_private_pem=keypairs.private_to_pem(keypairs.generate_rsa()),
        ed25519_private_pem=keypairs.private_to_pem(keypairs.generate_ed25519()),
        created_at=now,
    )


async def create_organisation(
    session: AsyncSession,
    *,
    base_url: str,
    username: str,
    name: str,
    summary: str,
    manually_approves_followers: bool,
    now: datetime,
) -> LocalActor:
    """Create an organisation actor, and its domain's application actor if needed."""
    check_username(username)
    domain = domain_of(base_url)
    if await find(session, domain, username) is not None:
        raise CommandError(f"{username}@{domain} already exists")
    if await application_of(session, domain) is None:
        host = urlsplit(base_url).hostname or domain
        session.add(_new_actor(base_url, host, APPLICATION, host, "", now))
    actor = _new_actor(base_url, username, ORGANIZATION, name, summary, now)
    actor.manually_approves_followers = manually_approves_followers
    session.add(actor)
    await session.flush()
    return actor


async def ensure_application(session: AsyncSession, base_url: str, now: datetime) -> None:
    """The domain's application actor, created if the domain has none yet."""
    domain = domain_of(base_url)
    if await application_of(session, domain) is None:
        host = urlsplit(base_url).hostname or domain
        session.add(_new_actor(base_url, host, APPLICATION, host, "", now))


async def find(session: AsyncSession, domain: str, username: str) -> LocalActor | None:
    return (
        await session.execute(
            select(LocalActor).where(
                LocalActor.domain == domain.lower(),
                LocalActor.username == username.lower(),
                LocalActor.actor_type != APPLICATION,
            )
        )
    ).scalar_one_or_none()


async def application_of(session: AsyncSession, domain: str) -> LocalActor | None:
    return (
        await session.execute(
            select(LocalActor).where(
                LocalActor.domain == domain.lower(),
                LocalActor.actor_type == APPLICATION,
            )
        )
    ).scalar_one_or_none()


async def organisations(session: AsyncSession) -> list[LocalActor]:
    return list(
        (
            await session.execute(
                select(LocalActor)
                .where(LocalActor.actor_type != APPLICATION)
                .order_by(LocalActor.id)
            )
        ).scalars()
    )


async def by_uri(session: AsyncSession, uri: str) -> LocalActor | None:
    """The local actor whose id is `uri`, if any (organisation or application)."""
    parts = urlsplit(uri)
    domain = parts.netloc.lower()
    path = parts.path
    if path == "/actor":
        return await application_of(session, domain)
    if path.startswith("/users/") and path.count("/") == 2:
        actor = await find(session, domain, path.removeprefix("/users/"))
        if actor is not None and urls_of(actor).id == uri.split("#", 1)[0]:
            return actor
    return None


async def by_id(session: AsyncSession, actor_id: int) -> LocalActor | None:
    return await session.get(LocalActor, actor_id)
