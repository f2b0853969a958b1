"""The network's charter as versioned data, identified by version and SHA-256.

Two members can tell they signed the same text by comparing the hash of the canonical
form (sorted keys, no insignificant whitespace, UTF-8), without asking anyone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data")
CURRENT_VERSION = "2023-09-14"


@dataclass(frozen=True)
class Commitment:
    number: int
    source: str
    title: dict[str, str]
    points: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Charter:
    version: str
    title: dict[str, str]
    introduction: dict[str, str]
    commitments: tuple[Commitment, ...]
    sha256: str
    raw: dict[str, Any]

    def commitment(self, number: int) -> Commitment:
        for item in self.commitments:
            if item.number == number:
                return item
        raise KeyError(number)

    @property
    def numbers(self) -> frozenset[int]:
        return frozenset(c.number for c in self.commitments)


def canonical_bytes(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def versions() -> list[str]:
    return sorted(p.stem.removeprefix("charter-") for p in DATA.glob("charter-*.json"))


@cache
def load(version: str = CURRENT_VERSION) -> Charter:
    """The charter of that version; KeyError if we do not ship it."""
    if version not in versions():
        raise KeyError(version)
    raw = json.loads((DATA / f"charter-{version}.json").read_text(encoding="utf-8"))
    return Charter(
        version=raw["version"],
        title=raw["title"],
        introduction=raw["introduction"],
        commitments=tuple(
            Commitment(c["number"], c["source"], c["title"], tuple(c["points"]))
            for c in raw["commitments"]
        ),
        sha256=hashlib.sha256(canonical_bytes(raw)).hexdigest(),
        raw=raw,
    )


def adhesion_of(document: Mapping[str, object]) -> Charter | None:
    """The charter an actor document says it signed, if we ship that very text.

    A member is known by these signals alone (version and hash of the charter on its
    actor), never by a list kept somewhere.
    """
    version = document.get("charterVersion")
    declared = document.get("charterHash")
    if not isinstance(version, str) or not isinstance(declared, str):
        return None
    try:
        text = load(version)
    except KeyError:
        return None
    return text if declared.removeprefix("sha256:") == text.sha256 else None
