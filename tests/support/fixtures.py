"""Where the shared fediverse fixtures are (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path


def fediverse_fixtures() -> Path:
    # DECLICS_FIXTURES_DIR may name either shared/fixtures or its fediverse/.
    override = os.environ.get("DECLICS_FIXTURES_DIR")
    if override:
        base = Path(override)
        return base / "fediverse" if (base / "fediverse").is_dir() else base
    # The repository sits beside shared/.
    return Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "fediverse"
