"""The charter as an AS2 `Document` with the extension vocabulary (served, not posted)."""

from __future__ import annotations

from typing import Any

from federation.charter import Charter
from federation.vocab import declics


def charter_url(base_url: str, version: str) -> str:
    return f"{base_url}/charter/{version}"


def as_document(charter: Charter, base_url: str) -> dict[str, Any]:
    url = charter_url(base_url, charter.version)
    return {
        "@context": declics.context(),
        "id": url,
        "type": "Document",
        "kind": "charter",
        "name": charter.title["fr"],
        "nameMap": charter.title,
        "url": url,
        "charterVersion": charter.version,
        "charterHash": f"sha256:{charter.sha256}",
        "commitments": [
            {
                "number": c.number,
                "name": c.title["fr"],
                "nameMap": c.title,
                "source": c.source,
                "points": [p["fr"] for p in c.points],
                "pointsMap": {lang: [p[lang] for p in c.points] for lang in ("fr", "en")},
            }
            for c in charter.commitments
        ],
    }
