"""Size rules for untrusted JSON, checked before a document is read any further. Pure.

`loads` is the one JSON decoder for bytes from the network: it refuses what
`json.loads` would accept but the rest of the code must not see (NaN and Infinity,
which PostgreSQL's JSONB refuses at insert time), and turns the decoder's own failures
on hostile input (RecursionError on 100 000 nested brackets, ValueError on a number
with 5 000 digits) into one `ProtocolError`.

`check_shape` bounds what a parsed document may hold: nesting depth, entries (object
keys and array items, in all), the length of each string, and the recipients an
activity and its object name. A document inside the body-size limit can still be
expensive to walk or fan out; these caps keep the work per request small.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from federation.vocab.normalize import ProtocolError, as_list

ADDRESS_FIELDS: Final = ("to", "cc", "bto", "bcc", "audience")


@dataclass(frozen=True)
class ShapeLimits:
    max_depth: int
    max_entries: int
    max_string_chars: int
    max_recipients: int


def _refuse_constant(name: str) -> object:
    raise ProtocolError(f"JSON constant {name} is not allowed")


def loads(raw: bytes | str) -> object:
    """Decode untrusted JSON; raise ProtocolError (never anything else) when refused."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except ProtocolError:
        raise
    except RecursionError as err:
        raise ProtocolError("JSON nested too deeply") from err
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError("not valid JSON") from err


def recipient_count(document: Mapping[str, object]) -> int:
    """Addressees named by an activity and by the object it embeds."""
    total = sum(len(as_list(document.get(name))) for name in ADDRESS_FIELDS)
    embedded = document.get("object")
    if isinstance(embedded, Mapping):
        total += sum(len(as_list(embedded.get(name))) for name in ADDRESS_FIELDS)
    return total


def check_shape(document: object, limits: ShapeLimits) -> None:
    """Raise ProtocolError when `document` exceeds one of `limits`.

    Iterative (a hostile document cannot exhaust the stack) and stops at the first
    excess, so the walk itself costs at most `max_entries` steps.
    """
    entries = 0
    max_chars = limits.max_string_chars
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        current, depth = stack.pop()
        # Plain dict, list and str first: all that a JSON decoder makes, tested
        # without the slower abstract-class check (this runs on every inbox POST).
        if type(current) is str:
            if len(current) > max_chars:
                raise ProtocolError(f"a text is longer than {max_chars} characters")
            continue
        keys: Iterable[str] = ()
        if type(current) is dict or isinstance(current, Mapping):
            keys = current.keys()
            children: list[object] = list(current.values())
        elif isinstance(current, list):
            children = current
        elif isinstance(current, str):
            if len(current) > max_chars:
                raise ProtocolError(f"a text is longer than {max_chars} characters")
            continue
        else:
            continue
        if depth + 1 > limits.max_depth:
            raise ProtocolError(f"JSON nested deeper than {limits.max_depth} levels")
        entries += len(children)
        if entries > limits.max_entries:
            raise ProtocolError(f"JSON holds more than {limits.max_entries} keys and items")
        if any(len(key) > max_chars for key in keys):
            raise ProtocolError(f"a key is longer than {max_chars} characters")
        stack.extend((child, depth + 1) for child in children)
    if isinstance(document, Mapping) and recipient_count(document) > limits.max_recipients:
        raise ProtocolError(f"more than {limits.max_recipients} recipients")
