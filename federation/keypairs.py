"""Key pairs of actors: RSA-2048 (draft-cavage signatures) and Ed25519 (RFC 9421, proofs).

Pure value handling: generation, PEM and multibase (FEP-521a Multikey) encodings.
Remote servers publish keys in odd PEM layouts (lines joined by spaces, no trailing
newline), so the PEM reader is tolerant.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

# Multicodec prefixes used by Multikey (varint-encoded).
_ED25519_PUB = b"\xed\x01"
_RSA_PUB = b"\x85\x24"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_PEM_RE = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)


class KeyFormatError(ValueError):
    """A key could not be read; the message says why."""


def generate_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def generate_ed25519() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_to_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def private_from_pem(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyFormatError(f"unsupported private key type {type(key).__name__}")
    return key


def public_to_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def _normalise_pem(text: str) -> bytes:
    """Rebuild a well-formed PEM from one whose body lost or mangled its newlines."""
    match = _PEM_RE.search(text.strip())
    if match is None:
        raise KeyFormatError("no PEM block found")
    label, body = match.group(1), re.sub(r"\s+", "", match.group(2))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode(
        "ascii"
    )


def public_from_pem(text: str) -> PublicKey:
    """Read a public key PEM (SPKI or PKCS#1 RSA), tolerating bad line layout."""
    try:
        key = serialization.load_pem_public_key(_normalise_pem(text))
    except (ValueError, TypeError, UnicodeEncodeError) as err:
        raise KeyFormatError(f"unreadable public key: {err}") from err
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise KeyFormatError(f"unsupported public key type {type(key).__name__}")
    return key


def public_of(key: PrivateKey) -> PublicKey:
    return key.public_key()


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise KeyFormatError(f"invalid base58 character {char!r}")
        number = number * 58 + index
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + raw


def public_to_multibase(key: PublicKey) -> str:
    """FEP-521a `publicKeyMultibase`: base58btc ('z') of multicodec-prefixed key."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "z" + b58encode(_ED25519_PUB + raw)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return "z" + b58encode(_RSA_PUB + der)


def public_from_multibase(text: str) -> PublicKey:
    if not text.startswith("z"):
        raise KeyFormatError("only base58btc multibase keys are supported")
    data = b58decode(text[1:])
    if data.startswith(_ED25519_PUB) and len(data) == 34:
        return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
    if data.startswith(_RSA_PUB):
        try:
            key = serialization.load_der_public_key(data[2:])
        except ValueError as err:
            raise KeyFormatError(f"unreadable RSA multikey: {err}") from err
        if isinstance(key, rsa.RSAPublicKey):
            return key
    raise KeyFormatError("unsupported multikey type")
