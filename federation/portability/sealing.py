"""Private keys sealed with a passphrase: scrypt derives a key, AES-256-GCM seals.

Pure. The sealed form is a JSON object that names its parameters, so another tool
can open it with any scrypt and AES-GCM implementation (docs/portability.md).
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# About 32 MiB and a tenth of a second: costly to guess, cheap to type once.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE = 8


class SealError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise SealError(f"sealed keys: {what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as err:
        raise SealError(f"sealed keys: {what} is not base64") from err


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def seal(plaintext: bytes, passphrase: str, associated: bytes) -> dict[str, Any]:
    """`associated` (the actor id) is authenticated with the keys, not encrypted."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise SealError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "ciphertext": _b64(AESGCM(key).encrypt(nonce, plaintext, associated)),
    }


def unseal(sealed: object, passphrase: str, associated: bytes) -> bytes:
    if not isinstance(sealed, dict):
        raise SealError("sealed keys: not a JSON object")
    kdf = sealed.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise SealError("sealed keys: unknown key derivation (scrypt expected)")
    if sealed.get("cipher") != "AES-256-GCM":
        raise SealError("sealed keys: unknown cipher (AES-256-GCM expected)")
    params = [kdf.get(name) for name in ("n", "r", "p")]
    if not all(isinstance(v, int) and 0 < v <= 2**20 for v in params):
        raise SealError("sealed keys: scrypt parameters out of range")
    n, r, p = (int(v) for v in params)  # type: ignore[arg-type]
    salt = _unb64(kdf.get("salt"), "salt")
    nonce = _unb64(sealed.get("nonce"), "nonce")
    ciphertext = _unb64(sealed.get("ciphertext"), "ciphertext")
    try:
        key = _derive(passphrase, salt, n, r, p)
        return AESGCM(key).decrypt(nonce, ciphertext, associated)
    except (InvalidTag, ValueError) as err:
        raise SealError("wrong passphrase (or the sealed keys were altered)") from err
