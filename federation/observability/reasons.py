"""A short, bounded label for why an inbox POST was refused with 401.

The refusal reasons are sentences, some with values in them (header names, key ids);
a metric label must come from a small fixed set, so each sentence maps to one kind.
"""

from __future__ import annotations

# First match wins: more specific phrases come first.
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unsigned", ("request is not signed", "no signature")),
    ("scheme_refused", ("signatures are not accepted here",)),
    ("digest", ("digest",)),
    ("expired", ("too old", "too far in the future", "has expired")),
    ("coverage", ("must cover", "covers no", "covered header", "cannot be covered")),
    (
        "key_unavailable",
        ("cannot fetch key", "does not publish the key", "unreadable key", "key id is not"),
    ),
    ("key_owner", ("the fetched actor's id differs", "does not belong to the activity's actor")),
    ("bad_signature", ("does not verify", "does not match the signer")),
    ("proof", ("integrity proof",)),
    ("origin", ("actor's server", "attributed to someone else", "of another server")),
)
KINDS = (*(kind for kind, _ in _KINDS), "malformed")


def signature_failure_kind(reason: str) -> str:
    text = reason.lower()
    for kind, phrases in _KINDS:
        if any(p in text for p in phrases):
            return kind
    return "malformed"
