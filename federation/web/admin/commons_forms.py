"""Admin forms for tools, events, needs and offers.

The checks are the domain's (`tools.from_meta`, `events.from_meta`, `offers.make_draft`,
the same the command line runs on a file): the form only gathers what was typed into
the front matter shape, and shows the `FieldError` next to the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from federation.content import commons, events, offers, tools
from federation.store.models import LocalObject
from federation.web.admin.forms import N_, Checked, Form

# Where each domain key is shown on the form, and the French message for it (the
# domain's English reason is shown beside it, as for practices).
TOOL_FIELDS = {
    "name": ("name", N_("Donnez un nom à l’outil.")),
    "title": ("name", N_("Donnez un nom à l’outil.")),
    "summary": ("summary", N_("Un résumé ou une description est nécessaire.")),
    "licence": ("licence", N_("Indiquez un identifiant SPDX (par exemple AGPL-3.0-or-later).")),
    "repository": ("repository", N_("Indiquez un lien http(s).")),
    "homepage": ("homepage", N_("Indiquez un lien http(s).")),
    "themes": ("themes", N_("Thème inconnu.")),
}
EVENT_FIELDS = {
    "title": ("title", N_("Donnez un titre à l’événement.")),
    "summary": ("summary", N_("Le résumé est trop long.")),
    "start": ("start", N_("Indiquez la date et l’heure de début.")),
    "end": ("end", N_("La fin doit suivre le début.")),
    "timezone": ("timezone", N_("Fuseau horaire inconnu (par exemple Europe/Paris).")),
    "place": ("place", N_("Indiquez un lieu ou un lien en ligne.")),
    "online": ("online", N_("Indiquez un lien http(s).")),
    "capacity": ("capacity", N_("La jauge est un nombre entier positif.")),
    "join_mode": ("join_mode", N_("Mode d’inscription inconnu.")),
    "themes": ("themes", N_("Thème inconnu.")),
}
OFFER_FIELDS = {
    "kind": ("kind", N_("Choisissez besoin ou offre.")),
    "title": ("title", N_("Donnez un titre (200 caractères au plus).")),
    "text": ("text", N_("Le texte est trop long.")),
    "theme": ("theme", N_("Choisissez un thème.")),
    "expires": ("expires", N_("Indiquez une date d’expiration à venir, dans l’année.")),
}
PLACE_KEYS = ("name", "street", "postal_code", "locality")


def _text(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _body(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _refused(
    checked: Checked, err: commons.FieldError, fields: Mapping[str, tuple[str, str]]
) -> None:
    field, message = fields.get(err.key, ("form", N_("Ce changement est refusé.")))
    checked.errors[field] = message
    checked.details[field] = err.reason


def tool(
    form: Form, multi: Mapping[str, list[str]], extra: Mapping[str, Any] | None = None
) -> tuple[Checked, tools.ToolDraft | None]:
    names = ("name", "summary", "licence", "repository", "homepage")
    checked = Checked({name: _text(form, name) for name in names})
    checked.values["body"] = _body(form, "body")
    checked.values["themes"] = multi.get("themes", [])
    v = checked.values
    meta: dict[str, Any] = {
        "name": v["name"],
        "summary": v["summary"],
        "licence": v["licence"],
        "repository": v["repository"] or None,
        "homepage": v["homepage"] or None,
        "themes": v["themes"],
        **(extra or {}),
    }
    try:
        return checked, tools.from_meta(meta, v["body"])
    except commons.FieldError as err:
        _refused(checked, err, TOOL_FIELDS)
        return checked, None


def tool_values(obj: LocalObject) -> dict[str, Any]:
    doc = obj.document
    repository = doc.get("doap:repository")
    return {
        "name": obj.title or "",
        "summary": obj.summary or "",
        "body": obj.source or "",
        "licence": obj.licence or "",
        "repository": repository.get("doap:browse", "") if isinstance(repository, dict) else "",
        "homepage": doc.get("doap:homepage", "") or "",
        "themes": [str(n) for n in obj.themes or []],
    }


def event(form: Form, multi: Mapping[str, list[str]]) -> tuple[Checked, events.EventDraft | None]:
    names = ("title", "summary", "start", "end", "timezone", "online", "capacity", "join_mode")
    checked = Checked({name: _text(form, name) for name in names})
    v = checked.values
    v["body"] = _body(form, "body")
    v["themes"] = multi.get("themes", [])
    v["place"] = {key: _text(form, f"place_{key}") for key in PLACE_KEYS}
    v["anonymous"] = form.get("anonymous") == "on"
    capacity: object = v["capacity"] or None
    if isinstance(capacity, str) and capacity.isascii() and capacity.isdigit():
        capacity = int(capacity)
    place = {key: value for key, value in v["place"].items() if value}
    meta: dict[str, Any] = {
        "title": v["title"],
        "summary": v["summary"],
        # The browser's datetime-local: no zone, read in the event's timezone.
        "start": v["start"] or None,
        "end": v["end"] or None,
        "timezone": v["timezone"] or events.DEFAULT_TIMEZONE,
        "place": place or None,
        "online": v["online"] or None,
        "capacity": capacity,
        "join_mode": v["join_mode"] or "free",
        "anonymous": v["anonymous"],
        "themes": v["themes"],
    }
    try:
        return checked, events.from_meta(meta, v["body"])
    except commons.FieldError as err:
        _refused(checked, err, EVENT_FIELDS)
        return checked, None


def event_values(obj: LocalObject) -> dict[str, Any]:
    doc = obj.document
    zone_name = str(doc.get("timezone") or events.DEFAULT_TIMEZONE)
    zone = ZoneInfo(zone_name)
    found = doc.get("location")
    location: dict[str, Any] = found if isinstance(found, dict) else {}
    found = location.get("address")
    address: dict[str, Any] = found if isinstance(found, dict) else {}
    online = next(
        (
            a.get("href", "")
            for a in doc.get("attachment", [])
            if isinstance(a, dict) and a.get("name") == "Website"
        ),
        "",
    )
    name = location.get("name", "")
    if name == "En ligne" and online and not address:
        name = ""
    capacity = doc.get("maximumAttendeeCapacity")
    return {
        "title": obj.title or "",
        "summary": obj.summary or "",
        "body": obj.source or "",
        "start": obj.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if obj.starts_at else "",
        "end": obj.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if obj.ends_at else "",
        "timezone": zone_name,
        "place": {
            "name": name,
            "street": address.get("streetAddress", ""),
            "postal_code": address.get("postalCode", ""),
            "locality": address.get("addressLocality", ""),
        },
        "online": online,
        "capacity": str(capacity) if capacity is not None else "",
        "join_mode": doc.get("joinMode", "free"),
        "anonymous": bool(doc.get("anonymousParticipationEnabled")),
        "themes": [str(n) for n in obj.themes or []],
    }


def offer(form: Form, today: date) -> tuple[Checked, offers.OfferDraft | None]:
    names = ("kind", "title", "theme", "expires")
    checked = Checked({name: _text(form, name) for name in names})
    v = checked.values
    v["text"] = _body(form, "text")
    try:
        draft = offers.make_draft(v["kind"], v["title"], v["text"], v["theme"], v["expires"], today)
    except commons.FieldError as err:
        _refused(checked, err, OFFER_FIELDS)
        return checked, None
    return checked, draft


def offer_values(obj: LocalObject) -> dict[str, Any]:
    return {
        "kind": obj.kind,
        "title": obj.title or "",
        "text": obj.source or "",
        "theme": str(obj.themes[0]) if obj.themes else "",
        # The last day shown: the day before the end (ends_at is the next midnight).
        "expires": (obj.ends_at.date() - timedelta(days=1)).isoformat() if obj.ends_at else "",
    }
