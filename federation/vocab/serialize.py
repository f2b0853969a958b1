"""One byte encoding per outgoing document: what is stored, digested and delivered."""

from __future__ import annotations

import json
from typing import Any


def to_json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
