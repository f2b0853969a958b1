"""The archive container: a ZIP of JSON documents with a manifest (pure).

Archives are written canonically (entries in a fixed order, fixed dates, no extra
fields), and reading one checks that its bytes are exactly those this module writes
for its entries, and that each entry's SHA-256 is the manifest's. So one changed byte
anywhere, in an entry or in the container, is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from federation.errors import CommandError

FORMAT = "declics-archive"
VERSION = 1
MANIFEST = "manifest.json"
# Bounds for a member's archive; far above what a member publishes.
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 256 * 1024 * 1024
_DATE = (1980, 1, 1, 0, 0, 0)


class ArchiveError(CommandError):
    """The archive does not verify; nothing was stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"archive refused: {reason}")


def dumps(value: object) -> bytes:
    """The one JSON encoding of archive entries: sorted keys, compact, UTF-8 (compact
    keeps Python's C encoder: indenting made export ten times slower)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (text + "\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(entries: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_DATE)
            # Stored, not deflated: the bytes must not depend on the zlib at hand.
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.create_version = info.extract_version = 20
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def write(entries: Mapping[str, bytes], header: Mapping[str, Any]) -> bytes:
    """The archive bytes: `entries` plus a manifest with `header` and their hashes."""
    manifest = {
        **header,
        "format": FORMAT,
        "version": VERSION,
        "entries": {
            name: {"sha256": sha256(data), "size": len(data)} for name, data in entries.items()
        },
    }
    return _zip({**entries, MANIFEST: dumps(manifest)})


@dataclass(frozen=True)
class Archive:
    manifest: dict[str, Any]
    entries: dict[str, bytes]

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.entries[name])
        except KeyError as err:
            raise ArchiveError(f"{name} is missing") from err
        except ValueError as err:
            raise ArchiveError(f"{name} is not JSON") from err


def read(data: bytes) -> Archive:
    """Open and verify an archive; any problem is an `ArchiveError` with its reason."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise ArchiveError("too many entries")
            if any(info.file_size > MAX_ENTRY_BYTES for info in infos):
                raise ArchiveError("an entry is too large")
            entries = {info.filename: archive.read(info) for info in infos}
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as err:
        raise ArchiveError(f"not a readable archive ({err})") from err
    except Exception as err:  # zlib.error and friends: damaged compressed data
        raise ArchiveError(f"damaged archive ({err})") from err
    if MANIFEST not in entries:
        raise ArchiveError("manifest.json is missing")
    try:
        manifest = json.loads(entries.pop(MANIFEST))
    except ValueError as err:
        raise ArchiveError("manifest.json is not JSON") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("not a Déclics archive (manifest format)")
    if manifest.get("version") != VERSION:
        raise ArchiveError(f"archive format version {manifest.get('version')!r} is not supported")
    listed = manifest.get("entries")
    if not isinstance(listed, dict):
        raise ArchiveError("manifest.json lists no entries")
    if set(listed) != set(entries):
        missing = sorted(set(listed) - set(entries))
        extra = sorted(set(entries) - set(listed))
        raise ArchiveError(
            f"entries differ from the manifest (missing {missing}, unlisted {extra})"
        )
    for name, content in entries.items():
        expected = listed[name].get("sha256") if isinstance(listed[name], dict) else None
        if expected != sha256(content):
            raise ArchiveError(f"{name} does not match its SHA-256 in the manifest")
    if _zip({**entries, MANIFEST: dumps(manifest)}) != data:
        raise ArchiveError("the archive's bytes were changed after export")
    return Archive(manifest, entries)
