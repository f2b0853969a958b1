"""iCalendar (RFC 5545) of events: a VCALENDAR with one VEVENT per AS2 `Event`.

Pure: it reads event documents (ours or the library's) and writes text with CRLF
line ends, escaped values and lines folded at 75 octets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

PRODID = "-//Déclics//Déclics events//FR"


def escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1)."""
    if len(line) <= 18 or len(line.encode("utf-8")) <= 75:
        return line
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _stamp(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _where(location: object) -> str | None:
    if not isinstance(location, Mapping):
        return None
    parts = [location.get("name")]
    address = location.get("address")
    if isinstance(address, Mapping):
        parts += [
            address.get(key)
            for key in (
                "streetAddress",
                "postalCode",
                "addressLocality",
                "addressRegion",
                "addressCountry",
            )
        ]
    elif isinstance(address, str):
        parts.append(address)
    if isinstance(location.get("url"), str):
        parts.append(location["url"])
    text = ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return text or None


def vevent(document: Mapping[str, Any], now: datetime) -> list[str] | None:
    """The VEVENT lines of an event document, or None when it has no usable dates."""
    uid, start = document.get("id"), _stamp(document.get("startTime"))
    if not isinstance(uid, str) or start is None:
        return None
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape(uid)}",
        f"DTSTAMP:{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART:{start}",
    ]
    end = _stamp(document.get("endTime"))
    if end is not None:
        lines.append(f"DTEND:{end}")
    name = document.get("name")
    if isinstance(name, str) and name:
        lines.append(f"SUMMARY:{escape(name)}")
    source = document.get("source")
    if isinstance(source, Mapping) and isinstance(source.get("content"), str):
        lines.append(f"DESCRIPTION:{escape(source['content'][:4000])}")
    where = _where(document.get("location"))
    if where:
        lines.append(f"LOCATION:{escape(where)}")
    url = document.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        lines.append(f"URL:{url}")
    organiser = document.get("attributedTo")
    if isinstance(organiser, str):
        lines.append(f"ORGANIZER:{organiser}")
    lines.append("STATUS:CONFIRMED")
    lines.append("END:VEVENT")
    return lines


def calendar(name: str, documents: Iterable[Mapping[str, Any]], now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for document in documents:
        lines += vevent(document, now) or []
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
