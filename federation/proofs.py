"""FEP-8b32 Object Integrity Proofs with the `eddsa-jcs-2022` cryptosuite.

Implements W3C "Data Integrity EdDSA Cryptosuites v1.0" §3.3 (eddsa-jcs-2022) on plain
JSON documents, plus the RFC 8785 JSON Canonicalization Scheme it is built on:

    proofConfig = proof options (everything but proofValue), carrying the document's @context
    hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
    proofValue  = "z" + base58btc(Ed25519.sign(hashData))

Pure: no I/O. Verification is split so the caller can fetch the key in between:
`proof_method` names the key, `verify_proof` checks the proof once the key is known.

Interoperability notes (why verification may try two proof configurations):
- The spec, Mastodon 4.7, apsig and the current FEP-8b32 vector hash the proof object as
  published (minus proofValue); signers copy the document's @context into the proof.
- Fedify publishes the proof without @context yet hashes the document's @context with it.
- Early FEP-8b32 signers (the 2023 test vector) neither publish nor hash a proof @context;
  the "as published" configuration covers them.
We publish @context inside the proof, which every verifier above accepts, and inbound
accept both readings when the proof has no @context.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from federation import keypairs

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
# Contexts that already define the Data Integrity terms (proof, DataIntegrityProof,
# cryptosuite, proofValue...). Adding the v2 context next to one of them would redefine
# @protected terms, which JSON-LD processors reject, so any of them is enough.
_CONTEXTS_WITH_PROOF_TERMS = frozenset(
    {
        DATA_INTEGRITY_CONTEXT,
        "https://w3id.org/security/data-integrity/v1",
        "https://www.w3.org/ns/credentials/v2",
    }
)

_SIGNATURE_LENGTH = 64
# 64 bytes never take more than 88 base58 characters; refusing longer values up front
# keeps the quadratic big-integer decoding away from hostile megabyte-long strings.
_MAX_PROOF_VALUE = 90
# ECMAScript numbers are IEEE doubles: integers above 2**53 are serialised as the
# double they round to, exactly as a JavaScript signer would see them.
_MAX_EXACT_INT = 2**53
# XML Schema dateTimeStamp (what Data Integrity requires for created/expires). Fractions
# of any length occur in the wild (Mitra sends nanoseconds), so they are parsed by hand.
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z"
)


class ProofError(Exception):
    """A proof is missing, malformed, unsupported, expired or does not verify.

    `.reason` is a short sentence fit for a log line or an error response.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- JCS


def canonicalize(value: object) -> bytes:
    """Serialise a JSON value per RFC 8785 (JCS) and return its UTF-8 bytes.

    Object members are sorted by the UTF-16 code units of their names, numbers follow
    the ECMAScript Number-to-String rules, strings use the minimal JSON escaping.
    Raises ValueError for NaN, infinities and strings that are not valid Unicode
    (lone surrogates), TypeError for values that are not JSON (or non-string keys).
    """
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as err:
        # Only lone surrogates can fail here; RFC 8785 §3.2.2.2 says to abort on them.
        raise ValueError("string contains a lone surrogate") from err


def _write(value: object, out: list[str]) -> None:
    # bool before int/float: in Python True is an int.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        out.append("{")
        # Sorting by UTF-16 code units (not code points) matters once keys mix characters
        # above U+FFFF with ones in U+E000..U+FFFF; big-endian UTF-16 bytes sort the same.
        keys = sorted(value, key=lambda key: key.encode("utf-16-be", "surrogatepass"))
        for index, key in enumerate(keys):
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _string(text: str) -> str:
    # ECMAScript JSON.stringify escaping: only quote, backslash and C0 controls; all other
    # characters (including DEL, U+2028/2029 and non-ASCII) stay literal.
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _integer(number: int) -> str:
    if -_MAX_EXACT_INT <= number <= _MAX_EXACT_INT:
        return str(number)
    try:
        return _number(float(number))
    except OverflowError as err:
        raise ValueError("integer too large for an IEEE 754 double") from err


def _number(number: float) -> str:
    """ECMAScript Number::toString(x) for a finite double (ECMA-262 §6.1.6.1.20)."""
    if math.isnan(number) or math.isinf(number):
        raise ValueError("NaN and Infinity have no JSON representation")
    if number == 0:
        return "0"  # covers -0 too
    if number < 0:
        return "-" + _number(-number)
    # repr() yields the shortest digit string that round-trips, which is the digit
    # string s (with k digits and decimal exponent n) ECMAScript asks for.
    _, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    if not isinstance(exponent, int):  # only NaN/Infinity have a str exponent
        raise ValueError("NaN and Infinity have no JSON representation")
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    digits = digits.lstrip("0")
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


# ------------------------------------------------------------------------ helpers


def _format_created(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("created must be timezone-aware")
    # Whole seconds: Fedify re-serialises `created` through Temporal.Instant before
    # hashing, which writes no fraction for whole seconds, so any fraction we wrote
    # would make its hash differ from ours.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_datetime(text: object, field: str) -> datetime:
    match = _DATETIME_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ProofError(f"proof {field} is not a valid date-time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        if zone in ("Z", "z"):
            tz = UTC
        else:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            offset = timedelta(hours=hours, minutes=minutes)
            tz = timezone(-offset if zone[0] == "-" else offset)
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError as err:
        raise ProofError(f"proof {field} is not a valid date-time") from err


def _show(value: object) -> str:
    """A remote value for an error reason: repr'd, and short, as it may be anything."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _context_list(context: object) -> list[object]:
    return list(context) if isinstance(context, list) else [context]


def _with_proof_context(context: object) -> object:
    """The document @context, extended with the Data Integrity context if it lacks one."""
    entries = _context_list(context)
    if any(isinstance(entry, str) and entry in _CONTEXTS_WITH_PROOF_TERMS for entry in entries):
        return copy.deepcopy(context)
    # Appended last: a later context may override an earlier unprotected definition,
    # never the other way round, so this cannot clash with inline term definitions.
    return [*copy.deepcopy(entries), DATA_INTEGRITY_CONTEXT]


def _select_proof(document: Mapping[str, object]) -> Mapping[str, object] | None:
    """The proof verify_proof checks: the single one, or the first eddsa-jcs-2022 one."""
    proof = document.get("proof")
    if isinstance(proof, Mapping):
        return proof
    if isinstance(proof, list):
        for item in proof:
            if isinstance(item, Mapping) and item.get("cryptosuite") == CRYPTOSUITE:
                return item
    return None


def _hash_data(proof_config: Mapping[str, object], unsecured: Mapping[str, object]) -> bytes:
    return (
        hashlib.sha256(canonicalize(proof_config)).digest()
        + hashlib.sha256(canonicalize(unsecured)).digest()
    )


# --------------------------------------------------------------------------- API


def has_proof(document: Mapping[str, object]) -> bool:
    """Whether the document carries an integrity proof (an object, or a list with one)."""
    proof = document.get("proof")
    if isinstance(proof, Mapping):
        return True
    return isinstance(proof, list) and any(isinstance(item, Mapping) for item in proof)


def is_supported(document: Mapping[str, object]) -> bool:
    """Whether the proof verify_proof would check is one we implement (FEP-8b32 says
    to ignore the others and rely on the HTTP signature)."""
    proof = _select_proof(document)
    return (
        proof is not None
        and proof.get("type") == PROOF_TYPE
        and proof.get("cryptosuite") == CRYPTOSUITE
    )


def proof_method(document: Mapping[str, object]) -> str | None:
    """The verificationMethod (key id) of the proof verify_proof would check, if any.

    Lets the caller fetch the key before verifying. None when there is no usable proof
    (none at all, a list without an eddsa-jcs-2022 proof, or no string method).
    """
    proof = _select_proof(document)
    method = proof.get("verificationMethod") if proof is not None else None
    return method if isinstance(method, str) and method else None


def create_proof(
    document: Mapping[str, object],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, object]:
    """Return a copy of `document` with an eddsa-jcs-2022 DataIntegrityProof added.

    If the document has an @context without the Data Integrity terms, the
    `https://w3id.org/security/data-integrity/v2` context is appended (FEP-8b32) before
    hashing. The proof repeats the document's @context, as the spec's Create Proof
    algorithm does, so that verifiers hashing the proof as published (Mastodon, apsig)
    and verifiers using the document's @context (Fedify) compute the same proofConfig.
    `created` must be timezone-aware; it is written in UTC, to the second.
    Raises ValueError if the document already has a proof or a Linked Data signature
    (FEP-8b32: the proof must be made first), or is not canonicalisable JSON.
    """
    if "proof" in document:
        raise ValueError("document already has a proof")
    if "signature" in document:
        raise ValueError("add the integrity proof before the Linked Data signature")
    secured: dict[str, object] = copy.deepcopy(dict(document))
    proof: dict[str, object] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
        "created": _format_created(created),
    }
    if "@context" in secured:
        secured["@context"] = _with_proof_context(secured["@context"])
        proof["@context"] = copy.deepcopy(secured["@context"])
    signature = private_key.sign(_hash_data(proof, secured))
    proof["proofValue"] = "z" + keypairs.b58encode(signature)
    secured["proof"] = proof
    return secured


def verify_proof(
    document: Mapping[str, object],
    public_key: Ed25519PublicKey,
    *,
    now: datetime | None = None,
) -> str:
    """Verify the document's eddsa-jcs-2022 proof with `public_key`; return its method.

    Checks the proof's type, cryptosuite, proofPurpose, proofValue encoding, the
    created/expires timestamps (expiry only when `now` is given) and the signature.
    With a list of proofs, the first eddsa-jcs-2022 one is checked. A Linked Data
    `signature` property is left out of the hash (FEP-8b32), so it is not covered.
    The caller must still check that the returned verificationMethod belongs to the
    activity's actor (or the object's owner). Raises ProofError with a reason otherwise.
    """
    if now is not None and now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if "proof" not in document:
        raise ProofError("document has no proof")
    raw = document["proof"]
    proof = _select_proof(document)
    if proof is None:
        if isinstance(raw, list):
            raise ProofError(f"no {CRYPTOSUITE} proof among the document's proofs")
        raise ProofError("proof is not an object")

    if proof.get("type") != PROOF_TYPE:
        raise ProofError(f"unsupported proof type {_show(proof.get('type'))}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"unsupported cryptosuite {_show(proof.get('cryptosuite'))}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError(f"proof purpose {_show(proof.get('proofPurpose'))} is not {PROOF_PURPOSE}")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("proof has no verificationMethod")
    if "previousProof" in proof:
        raise ProofError("proof chains (previousProof) are not supported")

    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value:
        raise ProofError("proof has no proofValue")
    if not proof_value.startswith("z"):
        raise ProofError("proofValue is not base58btc multibase (must start with 'z')")
    if len(proof_value) > _MAX_PROOF_VALUE:
        raise ProofError("proofValue is too long for an Ed25519 signature")
    try:
        signature = keypairs.b58decode(proof_value[1:])
    except keypairs.KeyFormatError as err:
        raise ProofError("proofValue is not valid base58btc") from err
    if len(signature) != _SIGNATURE_LENGTH:
        raise ProofError(f"proofValue decodes to {len(signature)} bytes, not an Ed25519 signature")

    if "created" in proof:
        _parse_datetime(proof["created"], "created")
    if "expires" in proof:
        expires = _parse_datetime(proof["expires"], "expires")
        if now is not None and now >= expires:
            raise ProofError(f"proof expired at {expires.isoformat()}")

    # Data Integrity "Verify Proof": the whole proof property goes (a proof set's proofs
    # each sign the document without any proof), and per FEP-8b32 so does an LD signature.
    unsecured = {key: value for key, value in document.items() if key not in ("proof", "signature")}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    configs: list[Mapping[str, object]] = [options]
    if "@context" in options:
        # Spec step: the document's @context must start with the proof's, and the
        # signed document is the one with the proof's @context.
        expected = _context_list(options["@context"])
        actual = _context_list(document.get("@context"))
        if actual[: len(expected)] != expected:
            raise ProofError("proof @context does not match the document @context")
        unsecured["@context"] = options["@context"]
    elif "@context" in document:
        # Fedify-style proofs omit @context but sign it: try that configuration too.
        configs.append({**options, "@context": document["@context"]})

    try:
        candidates = [_hash_data(config, unsecured) for config in configs]
    except (TypeError, ValueError, RecursionError) as err:
        raise ProofError(f"document is not canonicalisable JSON: {err}") from err
    for hash_data in candidates:
        try:
            public_key.verify(signature, hash_data)
        except InvalidSignature:
            continue
        return method
    raise ProofError("proof signature does not verify")
