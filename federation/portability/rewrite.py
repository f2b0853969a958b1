"""Ids of a member's things from its old base URL to its new one (pure).

Only what the member owns moves: its actor's URLs, its profile page, the objects
exported with it (and what lies under them: versions, fragments), and the pages every
Déclics server has (themes, charter…). Links to anything else on the old host are
left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Pages every Déclics server serves: a link to one of them goes to the new host's.
SHARED_PATHS = ("/tags/", "/charter", "/library", "/directory", "/ns")


@dataclass(frozen=True)
class Rebase:
    old_base: str
    new_base: str
    old_actor: str
    new_actor: str
    old_username: str
    new_username: str
    object_paths: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        old_base: str,
        new_base: str,
        old_username: str,
        new_username: str,
        object_uris: Iterable[str],
    ) -> Rebase:
        paths = frozenset(
            urlsplit(uri).path for uri in object_uris if _under(uri, old_base) is not None
        )
        return cls(
            old_base,
            new_base,
            f"{old_base}/users/{old_username}",
            f"{new_base}/users/{new_username}",
            old_username,
            new_username,
            paths,
        )

    def url(self, url: str) -> str:
        rest = _under(url, self.old_actor)
        if rest is not None:
            return self.new_actor + rest
        rest = _under(url, f"{self.old_base}/@{self.old_username}")
        if rest is not None:
            return f"{self.new_base}/@{self.new_username}{rest}"
        rest = _under(url, self.old_base)
        if rest is None:
            return url
        path = re.split(r"[?#]", rest, maxsplit=1)[0]
        owned = any(path == p or path.startswith(p + "/") for p in self.object_paths)
        if owned or path.startswith(SHARED_PATHS):
            return self.new_base + rest
        return url

    def text(self, text: str) -> str:
        if self.old_base not in text:
            return text
        return _URL.sub(lambda m: self.url(m.group(0)), text)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(item) for item in value]
        if isinstance(value, dict):
            return {key: self.deep(item) for key, item in value.items()}
        return value


_URL = re.compile(r"https?://[^\s<>\"'`)\]]+")


def _under(url: str, prefix: str) -> str | None:
    """What follows `prefix` in `url` when `url` is `prefix` or below it, else None."""
    if not url.startswith(prefix):
        return None
    rest = url[len(prefix) :]
    if rest and rest[0] not in "/#?":
        return None  # another port, user or path that merely starts the same way
    return rest
