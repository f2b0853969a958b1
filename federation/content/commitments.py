"""A member's commitments to the charter: what it does for each, its progress, its plans.

Published as one `Article` at a stable address (`/commitments`); every change is an
`Update`, and every version stays available (versions collection and history page).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation import charter
from federation.actors import local
from federation.charter.document import charter_url
from federation.content import markdown
from federation.errors import CommandError
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject, ObjectVersion, OutboxActivity
from federation.vocab import build, declics

KIND = "commitments"
PROGRESS = {"to-start": "à démarrer", "in-progress": "en cours", "achieved": "atteint"}
PROGRESS_EN = {"to-start": "to start", "in-progress": "in progress", "achieved": "achieved"}


@dataclass(frozen=True)
class Statement:
    number: int
    progress: str
    statement: str  # Markdown
    actions: tuple[str, ...]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class CommitmentsDraft:
    charter_version: str
    signed_on: date
    statements: tuple[Statement, ...]


def _text_list(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CommandError(f"{what} must be a list of texts")
    return tuple(v.strip() for v in value if v.strip())


def parse_file(text: str) -> CommitmentsDraft:
    """Read a commitments TOML file; every problem is a CommandError naming it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CommandError(f"the commitments file is not valid TOML: {err}") from err
    unknown = set(raw) - {"charter_version", "signed_on", "commitments"}
    if unknown:
        raise CommandError(f"unknown key(s) in the commitments file: {', '.join(sorted(unknown))}")
    version = raw.get("charter_version", charter.CURRENT_VERSION)
    try:
        text_of_charter = charter.load(str(version))
    except KeyError as err:
        known = ", ".join(charter.versions())
        raise CommandError(f"unknown charter version {version!r}; known: {known}") from err
    signed = raw.get("signed_on")
    if isinstance(signed, str):
        try:
            signed = date.fromisoformat(signed)
        except ValueError as err:
            raise CommandError("signed_on must be a date like 2023-09-14") from err
    if not isinstance(signed, date) or isinstance(signed, datetime):
        raise CommandError("signed_on (the day the charter was signed) is required")
    entries = raw.get("commitments", [])
    if not isinstance(entries, list) or not entries:
        raise CommandError("state at least one commitment in [[commitments]] tables")
    statements: dict[int, Statement] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise CommandError("each [[commitments]] entry must be a table")
        extra = set(entry) - {"number", "progress", "statement", "actions", "evidence"}
        if extra:
            raise CommandError(f"unknown key(s) in a commitment: {', '.join(sorted(extra))}")
        number = entry.get("number")
        if not isinstance(number, int) or number not in text_of_charter.numbers:
            numbers = sorted(text_of_charter.numbers)
            raise CommandError(f"commitment number must be one of {numbers}, got {number!r}")
        if number in statements:
            raise CommandError(f"commitment {number} is stated twice")
        progress = entry.get("progress")
        if progress not in PROGRESS:
            raise CommandError(
                f"commitment {number}: progress must be one of {', '.join(PROGRESS)}"
            )
        statement = entry.get("statement", "")
        if not isinstance(statement, str) or not statement.strip():
            raise CommandError(f"commitment {number}: the statement (what you do) is required")
        evidence = _text_list(entry.get("evidence"), f"commitment {number}: evidence")
        if any(urlsplit(url).scheme not in ("http", "https") for url in evidence):
            raise CommandError(f"commitment {number}: evidence must be http(s) links")
        statements[number] = Statement(
            number,
            progress,
            statement.strip(),
            _text_list(entry.get("actions"), f"commitment {number}: actions"),
            evidence,
        )
    return CommitmentsDraft(
        text_of_charter.version, signed, tuple(statements[n] for n in sorted(statements))
    )


def address(actor: LocalActor) -> str:
    return f"{actor.base_url}/commitments"


def _summary(draft: CommitmentsDraft) -> str:
    """What Mastodon shows: the signature, then one line per commitment with its progress."""
    text = charter.load(draft.charter_version)
    lines = "".join(
        f"<br>{s.number}. {escape(text.commitment(s.number).title['fr'])} : "
        f"<strong>{PROGRESS[s.progress]}</strong>"
        for s in draft.statements
    )
    return (
        f"<p>Charte « Nos Déclics » signée le {draft.signed_on.strftime('%d/%m/%Y')} "
        f"(version {draft.charter_version}).</p><p>Où nous en sommes :{lines}</p>"
    )


def _content(draft: CommitmentsDraft) -> str:
    text = charter.load(draft.charter_version)
    parts = []
    for s in draft.statements:
        actions = "".join(f"<li>{escape(a)}</li>" for a in s.actions)
        evidence = "".join(f'<li><a href="{escape(u)}">{escape(u)}</a></li>' for u in s.evidence)
        parts.append(
            f"<h2>{s.number}. {escape(text.commitment(s.number).title['fr'])}</h2>"
            f"<p>Progression : <strong>{PROGRESS[s.progress]}</strong></p>"
            f"{markdown.render(s.statement)}"
            + (f"<h3>Actions prévues</h3><ul>{actions}</ul>" if actions else "")
            + (f"<h3>Preuves</h3><ul>{evidence}</ul>" if evidence else "")
        )
    return "".join(parts)


def document(
    actor: LocalActor,
    draft: CommitmentsDraft,
    *,
    published: datetime,
    updated: datetime | None,
    version: int,
    language: str,
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    uri = address(actor)
    text = charter.load(draft.charter_version)
    content = _content(draft)
    doc: dict[str, Any] = {
        "@context": declics.context({"sensitive": "as:sensitive"}),
        "id": uri,
        "type": "Article",
        "kind": KIND,
        "attributedTo": urls.id,
        "name": f"Nos engagements pour la charte Nos Déclics — {actor.name}",
        "summary": _summary(draft),
        "content": content,
        "contentMap": {language: content},
        "url": uri,
        "published": build.iso(published),
        "charter": charter_url(actor.base_url, text.version),
        "charterVersion": text.version,
        "charterHash": f"sha256:{text.sha256}",
        "signedOn": draft.signed_on.isoformat(),
        "versions": f"{uri}/versions",
        "version": version,
        "commitments": [
            {
                "number": s.number,
                "progress": s.progress,
                "statement": markdown.render(s.statement),
                "source": {"content": s.statement, "mediaType": "text/markdown"},
                "actions": list(s.actions),
                "evidence": list(s.evidence),
            }
            for s in draft.statements
        ],
        "sensitive": False,
        **build.public_audience(urls),
    }
    if updated is not None:
        doc["updated"] = build.iso(updated)
    return doc


async def current(session: AsyncSession, actor: LocalActor) -> LocalObject | None:
    return await objects.by_kind(session, actor, KIND)


async def publish(
    session: AsyncSession,
    actor: LocalActor,
    draft: CommitmentsDraft,
    now: datetime,
    language: str,
) -> tuple[LocalObject, OutboxActivity | None]:
    """Publish the statements, or an Update of them; nothing is sent if nothing changed."""
    obj = await current(session, actor)
    actor.charter_version = draft.charter_version
    actor.charter_signed_on = draft.signed_on.isoformat()
    if obj is None:
        obj = LocalObject(
            local_actor_id=actor.id,
            uri=address(actor),
            object_type="Article",
            kind=KIND,
            version=1,
            title="Engagements",
            document=document(
                actor, draft, published=now, updated=None, version=1, language=language
            ),
            published=now,
        )
        return obj, await objects.create(session, actor, obj, now, history=True)
    new_doc = document(
        actor,
        draft,
        published=obj.published,
        updated=now,
        version=obj.version + 1,
        language=language,
    )
    if _essence(new_doc) == _essence(obj.document):
        return obj, None
    return obj, await objects.update(session, actor, obj, new_doc, now, history=True)


def _essence(doc: dict[str, Any]) -> Any:
    return (doc.get("signedOn"), doc.get("charterVersion"), doc.get("commitments"))


def changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What changed between two versions, in plain French."""
    if old is None:
        return ["Première publication des engagements."]
    said: list[str] = []
    if old.get("signedOn") != new.get("signedOn"):
        said.append(f"Date de signature : {old.get('signedOn')} → {new.get('signedOn')}.")
    before = {c["number"]: c for c in old.get("commitments", [])}
    after = {c["number"]: c for c in new.get("commitments", [])}
    for number in sorted(set(before) | set(after)):
        a, b = before.get(number), after.get(number)
        if a is None:
            said.append(f"Engagement {number} : ajouté ({PROGRESS.get(b['progress'], '?')}).")  # type: ignore[index]
            continue
        if b is None:
            said.append(f"Engagement {number} : retiré.")
            continue
        if a["progress"] != b["progress"]:
            said.append(
                f"Engagement {number} : progression « {PROGRESS.get(a['progress'], '?')} » → "
                f"« {PROGRESS.get(b['progress'], '?')} »."
            )
        if a.get("source") != b.get("source"):
            said.append(f"Engagement {number} : déclaration modifiée.")
        if a.get("actions") != b.get("actions"):
            said.append(f"Engagement {number} : actions prévues modifiées.")
        if a.get("evidence") != b.get("evidence"):
            said.append(f"Engagement {number} : preuves modifiées.")
    return said or ["Aucun changement de fond."]


async def history(session: AsyncSession, obj: LocalObject) -> list[tuple[ObjectVersion, list[str]]]:
    """Versions, newest first, each with what it changed."""
    versions = await objects.versions(session, obj)
    out: list[tuple[ObjectVersion, list[str]]] = []
    previous: dict[str, Any] | None = None
    for version in versions:
        out.append((version, changes(previous, version.document)))
        previous = version.document
    return list(reversed(out))
