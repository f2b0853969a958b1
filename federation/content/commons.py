"""What tools, events, needs and offers share: front matter reading, and the one
publish, update, delete and listing path of `local_objects` for a kind.

They are rows of the one content model (`local_objects.kind`), federated by
`outbox.objects` like practices; only their documents differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.content import licences, markdown, themes
from federation.errors import CommandError
from federation.outbox import objects
from federation.store.models import LocalActor, LocalObject, OutboxActivity

SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$")


class FieldError(CommandError):
    """A CommandError that names the field (front matter key) at fault, so the admin
    form can show it next to that field; the CLI prints it like any CommandError."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


Builder = Callable[[str, datetime, datetime | None], dict[str, Any]]
Apply = Callable[[LocalObject], None]


def front_matter(text: str, known: set[str]) -> tuple[dict[str, Any], str]:
    """The YAML header (only `known` keys) and the Markdown body of a file."""
    try:
        parsed = markdown.split_front_matter(text)
    except markdown.FrontMatterError as err:
        raise CommandError(str(err)) from err
    unknown = set(parsed.meta) - known
    if unknown:
        raise CommandError(f"unknown front matter key(s): {', '.join(sorted(unknown))}")
    return dict(parsed.meta), parsed.body


def text(meta: Mapping[str, Any], key: str, *, required: bool = False, limit: int = 500) -> str:
    value = meta.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise FieldError(key, f"{key} must be text")
    value = str(value).strip()
    if required and not value:
        raise FieldError(key, f"missing {key} in the front matter")
    if len(value) > limit:
        raise FieldError(key, f"{key} is longer than {limit} characters")
    return value


def url(value: object, key: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        raise FieldError(key, f"{key} must be an http(s) URL")
    if not urlsplit(value).netloc:
        raise FieldError(key, f"{key} must be an http(s) URL")
    return value


def urls(value: object, key: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(u for u in (url(v, key) for v in items) if u)


def theme_numbers(value: object, *, required: bool, key: str = "themes") -> tuple[int, ...]:
    raw = value if isinstance(value, list) else ([] if value in (None, "") else [value])
    try:
        numbers = tuple(sorted({themes.parse_theme(t) for t in raw}))
    except themes.UnknownTheme as err:
        raise FieldError(key, str(err)) from err
    if required and not numbers:
        raise FieldError(key, "a theme is needed (a charter commitment, 1 to 7)")
    return numbers


def licence(spdx: object, key: str = "licence") -> licences.Licence:
    """A licence by SPDX id: one we describe, or any well-formed id (software
    licences: AGPL-3.0-or-later, MIT…), linked to its SPDX page."""
    if not isinstance(spdx, str) or not SPDX_ID.match(spdx.strip()):
        raise FieldError(key, f"licence must be an SPDX id, got {spdx!r}")
    known = licences.find(spdx)
    if known is not None:
        return known
    spdx = spdx.strip()
    return licences.Licence(spdx, spdx, f"https://spdx.org/licenses/{spdx}.html")


def moment(value: object, key: str, zone: Any = UTC) -> datetime:
    """A date-time from YAML (a datetime, a date, or ISO text), aware, in `zone` if naive."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        try:
            found = datetime.fromisoformat(value.strip())
        except ValueError as err:
            raise FieldError(key, f"{key} must be a date and time (2026-12-03T14:00)") from err
    else:
        raise FieldError(key, f"missing {key}")
    return found if found.tzinfo else found.replace(tzinfo=zone)


def plain_date(value: str | date, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError as err:
        raise FieldError(key, f"{key} must be a date (YYYY-MM-DD)") from err


async def publish(
    session: AsyncSession,
    actor: LocalActor,
    *,
    kind: str,
    object_type: str,
    collection: str,
    title: str,
    build: Builder,
    apply: Apply,
    now: datetime,
    extra_inboxes: Iterable[str] = (),
) -> tuple[LocalObject, OutboxActivity]:
    uri = await objects.free_uri(session, actor, collection, title)
    obj = LocalObject(
        local_actor_id=actor.id,
        uri=uri,
        object_type=object_type,
        kind=kind,
        version=1,
        document=build(uri, now, None),
        published=now,
    )
    apply(obj)
    sent = await objects.create(
        session, actor, obj, now, history=False, extra_inboxes=extra_inboxes
    )
    return obj, sent


async def get(
    session: AsyncSession, actor: LocalActor, kinds: tuple[str, ...], ref: str
) -> LocalObject:
    for kind in kinds:
        obj = await objects.find(session, actor, kind, ref)
        if obj is not None:
            return obj
    raise CommandError(f"no {' or '.join(kinds)} {ref!r} here")


async def update(
    session: AsyncSession,
    actor: LocalActor,
    obj: LocalObject,
    *,
    build: Builder,
    apply: Apply,
    now: datetime,
    extra_inboxes: Iterable[str] = (),
) -> OutboxActivity:
    if obj.deleted_at is not None:
        raise CommandError(f"{obj.uri} was deleted; publish a new one instead")
    apply(obj)
    return await objects.update(
        session,
        actor,
        obj,
        build(obj.uri, obj.published, now),
        now,
        history=False,
        extra_inboxes=extra_inboxes,
    )


async def listing(
    session: AsyncSession, actor: LocalActor, kinds: tuple[str, ...]
) -> list[LocalObject]:
    rows = await session.execute(
        select(LocalObject)
        .where(LocalObject.local_actor_id == actor.id, LocalObject.kind.in_(kinds))
        .order_by(LocalObject.published.desc())
    )
    return list(rows.scalars())
