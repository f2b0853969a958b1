"""States of a stored inbound activity."""

from __future__ import annotations

from enum import StrEnum


class InboxState(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"
