"""The data policy (charter commitment 5 made real), with its notice period.

A change is published ahead of time: a Note tells followers what changes and from
when, and the new version takes effect on its date — never earlier than the notice
period allows. Every version stays public, with its effective date.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.errors import CommandError
from federation.outbox import objects
from federation.outbox.publish import publish_note
from federation.store.models import LocalActor, LocalObject, ObjectVersion
from federation.vocab import build, declics

KIND = "data-policy"
FIELDS = {"storage_country", "host", "retention", "terms_url", "data", "external_uses", "summary"}


@dataclass(frozen=True)
class PolicyDraft:
    storage_country: str
    host: str
    retention: str
    summary: str
    terms_url: str | None
    data: tuple[tuple[str, str], ...]  # (what, why)
    external_uses: tuple[tuple[str, str, bool], ...]  # (who, why, consent asked)


def _text(raw: dict[str, Any], key: str, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CommandError(f"{key} is required (text)")
    return value.strip()


def parse_file(text: str) -> PolicyDraft:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CommandError(f"the policy file is not valid TOML: {err}") from err
    unknown = set(raw) - FIELDS
    if unknown:
        raise CommandError(f"unknown key(s) in the policy file: {', '.join(sorted(unknown))}")
    storage, host, retention = (_text(raw, k) for k in ("storage_country", "host", "retention"))
    terms = raw.get("terms_url")
    if terms is not None and (
        not isinstance(terms, str) or urlsplit(terms).scheme not in ("http", "https")
    ):
        raise CommandError("terms_url must be an http(s) link")
    data = []
    for entry in raw.get("data", []):
        if not isinstance(entry, dict):
            raise CommandError("each [[data]] entry must be a table with what and why")
        data.append((_text(entry, "what"), _text(entry, "why")))
    if not data:
        raise CommandError("list the personal data collected in [[data]] tables (what, why)")
    uses = []
    for entry in raw.get("external_uses", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("consent", False), bool):
            raise CommandError(
                "each [[external_uses]] entry needs who, why and consent (true/false)"
            )
        uses.append((_text(entry, "who"), _text(entry, "why"), bool(entry.get("consent"))))
    return PolicyDraft(
        storage_country=storage,
        host=host,
        retention=retention,
        summary=_text(raw, "summary", required=False),
        terms_url=terms,
        data=tuple(data),
        external_uses=tuple(uses),
    )


def address(actor: LocalActor) -> str:
    return f"{actor.base_url}/data-policy"


def _html(draft: PolicyDraft, effective: date) -> str:
    rows = "".join(f"<li>{escape(what)} : {escape(why)}</li>" for what, why in draft.data)
    uses = (
        "".join(
            f"<li>{escape(who)} : {escape(why)}"
            f"{' (avec votre consentement)' if consent else ''}</li>"
            for who, why, consent in draft.external_uses
        )
        or "<li>Aucune utilisation externe.</li>"
    )
    terms = (
        f'<p>Conditions d’utilisation : <a href="{escape(draft.terms_url)}">'
        f"{escape(draft.terms_url)}</a></p>"
        if draft.terms_url
        else ""
    )
    lead = f"<p>{escape(draft.summary)}</p>" if draft.summary else ""
    return (
        f"{lead}<p>En vigueur à partir du {effective.strftime('%d/%m/%Y')}.</p>"
        f"<p>Données stockées en {escape(draft.storage_country)}, chez {escape(draft.host)}.</p>"
        f"<h2>Données collectées et pourquoi</h2><ul>{rows}</ul>"
        f"<h2>Durée de conservation</h2><p>{escape(draft.retention)}</p>"
        f"<h2>Utilisations externes</h2><ul>{uses}</ul>{terms}"
    )


def version_document(
    actor: LocalActor, draft: PolicyDraft, effective: date, version: int, published: datetime
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    uri = address(actor)
    html = _html(draft, effective)
    return {
        "@context": declics.context(),
        "id": uri,
        "type": "Article",
        "kind": KIND,
        "attributedTo": urls.id,
        "name": f"Politique de données — {actor.name}",
        "summary": (
            f"<p>Données stockées en {escape(draft.storage_country)} chez "
            f"{escape(draft.host)}. En vigueur à partir du "
            f"{effective.strftime('%d/%m/%Y')}.</p>"
        ),
        "content": html,
        "url": uri,
        "published": build.iso(published),
        "version": version,
        "effectiveFrom": effective.isoformat(),
        "storageCountry": draft.storage_country,
        "host": draft.host,
        "retention": draft.retention,
        # The operator's own words, kept apart from the generated summary so that the
        # admin form shows them again on the next edit.
        "presentation": draft.summary,
        "termsOfUse": draft.terms_url,
        "personalData": [{"what": w, "why": y} for w, y in draft.data],
        "externalUses": [{"who": w, "why": y, "consent": c} for w, y, c in draft.external_uses],
        "versions": f"{uri}/versions",
        **build.public_audience(urls),
    }


async def _object(session: AsyncSession, actor: LocalActor) -> LocalObject | None:
    return await objects.by_kind(session, actor, KIND)


def _effective(version: ObjectVersion) -> date:
    return date.fromisoformat(str(version.document["effectiveFrom"]))


async def versions(session: AsyncSession, actor: LocalActor) -> list[ObjectVersion]:
    obj = await _object(session, actor)
    return [] if obj is None else await objects.versions(session, obj)


async def in_force(
    session: AsyncSession, actor: LocalActor, today: date
) -> tuple[ObjectVersion | None, ObjectVersion | None]:
    """(the version in force today, the next one announced), either may be None."""
    current, upcoming = None, None
    for version in await versions(session, actor):
        if _effective(version) <= today:
            current = version
        elif upcoming is None or _effective(version) < _effective(upcoming):
            upcoming = version
    return current, upcoming


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    labels = {
        "presentation": "présentation",
        "storageCountry": "pays de stockage",
        "host": "hébergeur",
        "retention": "durée de conservation",
        "termsOfUse": "conditions d’utilisation",
        "personalData": "données collectées",
        "externalUses": "utilisations externes",
    }
    # A missing key (versions written before it existed) equals an empty one.
    return [
        label for key, label in labels.items() if (old.get(key) or None) != (new.get(key) or None)
    ]


async def publish(
    session: AsyncSession,
    actor: LocalActor,
    draft: PolicyDraft,
    now: datetime,
    *,
    notice_days: int,
    effective: date | None = None,
    language: str = "fr",
) -> tuple[LocalObject, date]:
    """Publish a first policy (in force at once) or announce a change with notice."""
    today = now.date()
    obj = await _object(session, actor)
    if obj is None:
        starts = effective or today
        if starts > today + timedelta(days=3650):
            raise CommandError("the effective date is too far away")
        document = version_document(actor, draft, starts, 1, now)
        obj = LocalObject(
            local_actor_id=actor.id,
            uri=address(actor),
            object_type="Article",
            kind=KIND,
            version=1,
            title="Politique de données",
            document=document,
            published=now,
        )
        await objects.create(session, actor, obj, now, history=True)
        return obj, starts
    earliest = today + timedelta(days=notice_days)
    starts = effective or earliest
    if starts < earliest:
        raise CommandError(
            f"a change needs {notice_days} days of notice: it can take effect on "
            f"{earliest.isoformat()} at the earliest"
        )
    current, _upcoming = await in_force(session, actor, today)
    document = version_document(actor, draft, starts, obj.version + 1, obj.published)
    changed = _changes(current.document if current else {}, document)
    if not changed:
        raise CommandError("nothing changes in this policy: nothing published")
    await objects.update(session, actor, obj, document, now, history=True)
    await _announce(session, actor, starts, changed, notice_days, now, language)
    return obj, starts


async def _announce(
    session: AsyncSession,
    actor: LocalActor,
    starts: date,
    changed: list[str],
    notice_days: int,
    now: datetime,
    language: str = "fr",
) -> None:
    """The Note that tells followers, ahead of time, what changes and when."""
    link = address(actor)
    text = (
        f"<p>Notre politique de données change le {starts.strftime('%d/%m/%Y')} "
        f"(préavis de {notice_days} jours, comme le prévoit la charte Nos Déclics).</p>"
        f"<p>Ce qui change : {escape(', '.join(changed))}.</p>"
        f'<p>Détails et versions : <a href="{link}">{link}</a></p>'
    )
    await publish_note(session, actor, text, now, language)


def served_document(
    obj: LocalObject, current: ObjectVersion | None, upcoming: ObjectVersion | None
) -> dict[str, Any]:
    """What /data-policy serves today: the version in force, and the one announced."""
    base = dict(current.document if current else obj.document)
    base["id"] = obj.uri
    if upcoming is not None:
        base["upcoming"] = f"{obj.uri}/versions/{upcoming.version}"
    return base


def today_utc(now: datetime) -> date:
    return now.astimezone(UTC).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
