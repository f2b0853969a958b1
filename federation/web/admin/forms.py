"""Admin forms: what was typed becomes a domain draft, or errors per field.

Error messages are French msgids marked with `N_`: the templates translate them
(`_()`), so the English catalogue holds them like any other word of the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from federation import charter
from federation.content import commitments, licences, themes
from federation.content.policy import PolicyDraft
from federation.content.practices import PracticeDraft
from federation.vocab.sanitize import sanitize_html

Form = Mapping[str, Any]


def N_(message: str) -> str:
    return message


@dataclass
class Checked:
    """The values as typed (shown again on an error) and the errors per field."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # msgids, per field
    # Reasons given by the domain (English, may quote what was typed): shown as text,
    # never passed through gettext.
    details: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _is_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def practice(form: Form, multi: Mapping[str, list[str]]) -> tuple[Checked, PracticeDraft | None]:
    checked = Checked(
        {
            "title": _text(form, "title"),
            "summary": _text(form, "summary"),
            "body": form.get("body", "") if isinstance(form.get("body"), str) else "",
            "themes": multi.get("themes", []),
            "licence": _text(form, "licence"),
        }
    )
    v, errors = checked.values, checked.errors
    if not v["title"]:
        errors["title"] = N_("Donnez un titre à la pratique.")
    elif len(v["title"]) > 200:
        errors["title"] = N_("Le titre est trop long (200 caractères au plus).")
    if not v["body"].strip():
        errors["body"] = N_("Décrivez la pratique : le texte est vide.")
    numbers: set[int] = set()
    for value in v["themes"]:
        try:
            numbers.add(themes.parse_theme(value))
        except themes.UnknownTheme:
            errors["themes"] = N_("Thème inconnu.")
    if not numbers and "themes" not in errors:
        errors["themes"] = N_("Choisissez au moins un thème (un engagement de la charte).")
    licence = licences.find(v["licence"])
    if licence is None:
        errors["licence"] = N_("Choisissez une licence de la liste.")
    if errors or licence is None:
        return checked, None
    return checked, PracticeDraft(
        title=v["title"],
        summary=v["summary"],
        body=v["body"],
        themes=tuple(sorted(numbers)),
        licence=licence,
    )


def practice_values(document: Mapping[str, Any], obj: Any) -> dict[str, Any]:
    """The form filled from a published practice."""
    return {
        "title": obj.title or "",
        "summary": obj.summary or "",
        "body": obj.source or "",
        "themes": [str(n) for n in obj.themes or []],
        "licence": obj.licence or "",
    }


def commitments_form(form: Form) -> tuple[Checked, commitments.CommitmentsDraft | None]:
    text = charter.load()
    values: dict[str, Any] = {"signed_on": _text(form, "signed_on"), "points": {}}
    checked = Checked(values)
    errors = checked.errors
    signed: date | None = None
    try:
        signed = date.fromisoformat(values["signed_on"])
    except ValueError:
        errors["signed_on"] = N_("Indiquez la date de signature de la charte (AAAA-MM-JJ).")
    statements = []
    for number in sorted(text.numbers):
        point = {
            "progress": _text(form, f"progress-{number}"),
            "statement": _text(form, f"statement-{number}"),
            "actions": _text(form, f"actions-{number}"),
            "evidence": _text(form, f"evidence-{number}"),
        }
        values["points"][number] = point
        if not point["progress"]:
            continue  # not stated
        if point["progress"] not in commitments.PROGRESS:
            errors[f"progress-{number}"] = N_("Progression inconnue.")
            continue
        if not point["statement"]:
            errors[f"statement-{number}"] = N_("Dites ce que vous faites pour cet engagement.")
        evidence = _lines(point["evidence"])
        if not all(_is_link(url) for url in evidence):
            errors[f"evidence-{number}"] = N_("Les preuves sont des liens http(s), un par ligne.")
        statements.append(
            commitments.Statement(
                number,
                point["progress"],
                point["statement"],
                tuple(_lines(point["actions"])),
                tuple(evidence),
            )
        )
    if not statements and not errors:
        errors["points"] = N_("Renseignez au moins un engagement.")
    if errors or signed is None:
        return checked, None
    return checked, commitments.CommitmentsDraft(text.version, signed, tuple(statements))


def commitments_values(document: Mapping[str, Any] | None) -> dict[str, Any]:
    points: dict[int, dict[str, str]] = {}
    for item in (document or {}).get("commitments", []):
        points[int(item["number"])] = {
            "progress": item.get("progress", ""),
            "statement": (item.get("source") or {}).get("content", ""),
            "actions": "\n".join(item.get("actions", [])),
            "evidence": "\n".join(item.get("evidence", [])),
        }
    return {"signed_on": (document or {}).get("signedOn", ""), "points": points}


def profile(form: Form) -> tuple[Checked, dict[str, Any] | None]:
    checked = Checked(
        {
            "name": _text(form, "name"),
            "summary": _text(form, "summary"),
            "territory": _text(form, "territory"),
            "manual_approval": form.get("manual_approval") == "on",
        }
    )
    v = checked.values
    if not v["name"]:
        checked.errors["name"] = N_("Le nom ne peut pas être vide.")
    elif len(v["name"]) > 200:
        checked.errors["name"] = N_("Le nom est trop long (200 caractères au plus).")
    if len(v["territory"]) > 200:
        checked.errors["territory"] = N_("Le territoire est trop long (200 caractères au plus).")
    if not checked.ok:
        return checked, None
    return checked, {
        "name": v["name"],
        # Our own HTML, but sanitized like remote HTML: a stolen session cannot plant
        # markup in the public profile.
        "summary": sanitize_html(v["summary"]),
        "territory": v["territory"] or None,
        "manually_approves_followers": v["manual_approval"],
    }


def policy(form: Form) -> tuple[Checked, PolicyDraft | None, date | None]:
    names = ("storage_country", "host", "retention", "summary", "terms_url", "data", "uses")
    checked = Checked({name: _text(form, name) for name in names})
    checked.values["effective"] = _text(form, "effective")
    v, errors = checked.values, checked.errors
    for name in ("storage_country", "host", "retention"):
        if not v[name]:
            errors[name] = N_("Ce champ est obligatoire.")
    if v["terms_url"] and not _is_link(v["terms_url"]):
        errors["terms_url"] = N_("Indiquez un lien http(s).")
    data = []
    for line in _lines(v["data"]):
        what, sep, why = line.partition(":")
        if not sep or not what.strip() or not why.strip():
            errors["data"] = N_("Une ligne par donnée : « quoi : pourquoi ».")
            break
        data.append((what.strip(), why.strip()))
    if not data and "data" not in errors:
        errors["data"] = N_("Listez les données personnelles collectées.")
    uses = []
    for line in _lines(v["uses"]):
        parts = [p.strip() for p in line.split(":")]
        if len(parts) != 3 or not all(parts) or parts[2].lower() not in ("oui", "non"):
            errors["uses"] = N_(
                "Une ligne par usage : « qui : pourquoi : oui/non (consentement) »."
            )
            break
        uses.append((parts[0], parts[1], parts[2].lower() == "oui"))
    effective: date | None = None
    if v["effective"]:
        try:
            effective = date.fromisoformat(v["effective"])
        except ValueError:
            errors["effective"] = N_("Indiquez une date (AAAA-MM-JJ).")
    if errors:
        return checked, None, None
    draft = PolicyDraft(
        storage_country=v["storage_country"],
        host=v["host"],
        retention=v["retention"],
        summary=v["summary"],
        terms_url=v["terms_url"] or None,
        data=tuple(data),
        external_uses=tuple(uses),
    )
    return checked, draft, effective


def policy_values(document: Mapping[str, Any] | None) -> dict[str, Any]:
    doc = document or {}
    data = "\n".join(
        f"{d.get('what', '')} : {d.get('why', '')}" for d in doc.get("personalData", [])
    )
    uses = "\n".join(
        f"{u.get('who', '')} : {u.get('why', '')} : {'oui' if u.get('consent') else 'non'}"
        for u in doc.get("externalUses", [])
    )
    return {
        "storage_country": doc.get("storageCountry", ""),
        "host": doc.get("host", ""),
        "retention": doc.get("retention", ""),
        # The published summary is generated (country, host, date); the operator's
        # text is kept apart (older versions did not: empty then).
        "summary": doc.get("presentation", "") or "",
        "terms_url": doc.get("termsOfUse", "") or "",
        "data": data,
        "uses": uses,
        "effective": "",
    }
