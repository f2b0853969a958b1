"""Table rows as JSON and back, generically: every column but the row's own id and
its links to other rows, so that a column added later is carried without new code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from federation.store.base import Base, UTCDateTime


def _is_date(column: Any) -> bool:
    return isinstance(column.type, UTCDateTime)


def to_json(row: Base, skip: Iterable[str] = ()) -> dict[str, Any]:
    skipped = {"id", *skip}
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in skipped or column.foreign_keys:
            continue
        value = getattr(row, column.key)
        out[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def from_json(
    model: type[Base], data: Mapping[str, Any], fixed: Mapping[str, Any]
) -> dict[str, Any]:
    """Column values for `model(**values)`: known columns only, dates parsed, then
    `fixed` (ids, links) on top. A missing column keeps the model's default."""
    values: dict[str, Any] = {}
    for column in model.__table__.columns:
        if column.key == "id" or column.foreign_keys or column.key not in data:
            continue
        value = data[column.key]
        if value is not None and _is_date(column):
            if not isinstance(value, str):
                raise ValueError(f"{model.__tablename__}.{column.key} is not a date")
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(f"{model.__tablename__}.{column.key} has no time zone")
        values[column.key] = value
    values.update(fixed)
    return values
