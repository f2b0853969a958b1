"""FEP-8b32 integrity proofs: RFC 8785 JCS, published vectors, round trips, failures, apsig."""

from __future__ import annotations

import copy
import hashlib
import json
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from apsig.proof import ProofSigner, ProofVerifier
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from federation import keypairs
from federation.proofs import (
    DATA_INTEGRITY_CONTEXT,
    ProofError,
    canonicalize,
    create_proof,
    has_proof,
    proof_method,
    verify_proof,
)
from tests.support.fixtures import fediverse_fixtures

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=UTC)
AS = "https://www.w3.org/ns/activitystreams"
DI_V1 = "https://w3id.org/security/data-integrity/v1"
KEY_ID = "https://coop.example/users/org#ed25519-key"
MITRA_FIXTURE = fediverse_fixtures() / "accept-follow-id-only_mitra.json"

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text: str) -> bytes:
    """Test-side base58btc decoder, independent of the module's own."""
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def b58encode(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def private_from_multibase(text: str) -> Ed25519PrivateKey:
    raw = b58decode(text.removeprefix("z"))
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def proof_of(document: dict[str, object]) -> dict[str, Any]:
    proof = document["proof"]
    assert isinstance(proof, dict)
    return proof


def sign_by_hand(document: dict[str, Any], options: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """The eddsa-jcs-2022 recipe spelt out, to build proofs create_proof cannot make."""
    hash_data = (
        hashlib.sha256(canonicalize(options)).digest()
        + hashlib.sha256(canonicalize(document)).digest()
    )
    return "z" + b58encode(key.sign(hash_data))


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return keypairs.generate_ed25519()


@pytest.fixture
def activity() -> dict[str, Any]:
    return {
        "@context": [AS, DATA_INTEGRITY_CONTEXT],
        "id": "https://coop.example/activities/1",
        "type": "Create",
        "actor": "https://coop.example/users/org",
        "object": {
            "id": "https://coop.example/notes/1",
            "type": "Note",
            "attributedTo": "https://coop.example/users/org",
            "content": "<p>Assemblée générale jeudi 🎉</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    }


@pytest.fixture
def signed(activity: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    return create_proof(activity, key, KEY_ID, NOW)


# ===================================================================== RFC 8785 JCS

# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialisation.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
    # Extra samples from the json-canonicalization test data README.
    ("4340000000000001", "9007199254740994"),
    ("4340000000000002", "9007199254740996"),
]


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_jcs_appendix_b_numbers(bits: str, expected: str) -> None:
    assert canonicalize(_double(bits)) == expected.encode("ascii")


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_jcs_refuses_nan_and_infinity(bits: str) -> None:
    with pytest.raises(ValueError, match="NaN and Infinity"):
        canonicalize({"x": [_double(bits)]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (-0.0, "0"),
        (100.0, "100"),
        (4.5, "4.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (123456789012.5, "123456789012.5"),
        (-71.184902, "-71.184902"),
        (2**53, "9007199254740992"),
        (-(2**53), "-9007199254740992"),
        # Integers beyond 2**53 are what a JavaScript signer would see: the nearest double.
        (2**64, "18446744073709552000"),
        (10**21 + 1, "1e+21"),
        (0, "0"),
        (-17, "-17"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
    ],
)
def test_jcs_scalars(value: object, expected: str) -> None:
    assert canonicalize(value) == expected.encode("ascii")


def test_jcs_refuses_integer_beyond_double_range() -> None:
    with pytest.raises(ValueError, match="too large"):
        canonicalize(10**400)


def test_jcs_rfc_3_2_3_sorting_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33 by UTF-16 code
    # units, although it comes after it by code point.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonicalize(value) == expected.encode("utf-8")
    assert sorted(value)[-1] == "\U0001f600"  # by code point it would come last


def test_jcs_rfc_3_2_4_example() -> None:
    # RFC 8785 §3.2.4 input, parsed as a JSON text, and its canonical form.
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")


def test_jcs_cyberphone_weird_keys() -> None:
    # cyberphone/json-canonicalization testdata/{input,output}/weird.json.
    text = (
        '{"\\u20ac": "Euro Sign", "1": "One", "\\u0080": "Control\\u007f",'
        ' "\\ud83d\\ude02": "Smiley", "\\u00f6": "Latin Small Letter O With Diaeresis",'
        ' "\\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}'
    )
    expected = (
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")


def test_jcs_string_escaping() -> None:
    # Only ", \ and C0 controls are escaped (short forms where JSON has them, else
    # lower-case \u00xx); DEL, U+2028, "/" and non-ASCII stay literal, in UTF-8.
    value = '\x00\x01\x08\t\n\x0b\x0c\r\x1f "\\/\x7f\u2028é😀'
    expected = '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\x7f\u2028é😀"'
    assert canonicalize(value) == expected.encode("utf-8")


def test_jcs_nested_structures_and_whitespace() -> None:
    value = {"b": [1, {"z": None, "a": []}, "x"], "a": {}, "c": (1.5, "two")}
    assert canonicalize(value) == b'{"a":{},"b":[1,{"a":[],"z":null},"x"],"c":[1.5,"two"]}'


def test_jcs_rejects_lone_surrogates_and_non_json() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        canonicalize(json.loads('"\\ud800"'))
    with pytest.raises(TypeError, match="keys must be strings"):
        canonicalize({1: "one"})
    with pytest.raises(TypeError, match="not a JSON value"):
        canonicalize({"when": NOW})
    with pytest.raises(TypeError, match="not a JSON value"):
        canonicalize(b"bytes")


# ========================================================== published test vectors

# W3C Data Integrity EdDSA Cryptosuites v1.0, Appendix "Representation: eddsa-jcs-2022"
# (w3c/vc-di-eddsa TestVectors/keyPair.json and TestVectors/eddsa-jcs-2022/).
W3C_PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PRIVATE_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_UNSECURED = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_METHOD = f"did:key:{W3C_PUBLIC_MULTIBASE}#{W3C_PUBLIC_MULTIBASE}"
W3C_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
W3C_PROOF_CONFIG = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": W3C_METHOD,
    "proofPurpose": "assertionMethod",
    "@context": W3C_CONTEXT,
}
W3C_CANONICAL_DOCUMENT = (
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://www.w3.org/ns/credentials/examples/v2"],'
    '"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},'
    '"description":"A minimum viable example of an Alumni Credential.",'
    '"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",'
    '"issuer":"https://vc.example/issuers/5678","name":"Alumni Credential",'
    '"type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}'
)
W3C_CANONICAL_PROOF_CONFIG = (
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://www.w3.org/ns/credentials/examples/v2"],"created":"2023-02-24T23:36:38Z",'
    '"cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":"did:key:'
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"
    'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'
)
W3C_DOCUMENT_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
W3C_PROOF_CONFIG_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
W3C_SIGNATURE_HEX = (
    "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"
    "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808"
)
W3C_PROOF_VALUE = (
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
)


def test_w3c_vector_keys() -> None:
    private = private_from_multibase(W3C_PRIVATE_MULTIBASE)
    assert keypairs.public_to_multibase(private.public_key()) == W3C_PUBLIC_MULTIBASE


def test_w3c_vector_canonical_forms_and_hashes() -> None:
    canonical_document = canonicalize(W3C_UNSECURED)
    canonical_config = canonicalize(W3C_PROOF_CONFIG)
    assert canonical_document == W3C_CANONICAL_DOCUMENT.encode("utf-8")
    assert canonical_config == W3C_CANONICAL_PROOF_CONFIG.encode("utf-8")
    assert hashlib.sha256(canonical_document).hexdigest() == W3C_DOCUMENT_HASH
    assert hashlib.sha256(canonical_config).hexdigest() == W3C_PROOF_CONFIG_HASH
    # hashData is proofConfigHash || transformedDocumentHash (in that order).
    hash_data = bytes.fromhex(W3C_PROOF_CONFIG_HASH + W3C_DOCUMENT_HASH)
    signature = private_from_multibase(W3C_PRIVATE_MULTIBASE).sign(hash_data)
    assert signature.hex() == W3C_SIGNATURE_HEX
    assert "z" + b58encode(signature) == W3C_PROOF_VALUE


def test_w3c_vector_create_proof() -> None:
    private = private_from_multibase(W3C_PRIVATE_MULTIBASE)
    secured = create_proof(W3C_UNSECURED, private, W3C_METHOD, W3C_CREATED)
    proof = secured.pop("proof")
    # credentials/v2 already defines the Data Integrity terms: no context is added.
    assert secured == W3C_UNSECURED
    assert isinstance(proof, dict)
    assert proof.pop("proofValue") == W3C_PROOF_VALUE
    assert proof == W3C_PROOF_CONFIG


def test_w3c_vector_verify() -> None:
    secured = {**W3C_UNSECURED, "proof": {**W3C_PROOF_CONFIG, "proofValue": W3C_PROOF_VALUE}}
    public = keypairs.public_from_multibase(W3C_PUBLIC_MULTIBASE)
    assert isinstance(public, Ed25519PublicKey)
    assert verify_proof(secured, public, now=NOW) == W3C_METHOD


# FEP-8b32 fep-8b32.feature (current revision): same key pair as the W3C vector.
FEP_METHOD = "https://server.example/users/alice#ed25519-key"
FEP_CONTEXT = [AS, DATA_INTEGRITY_CONTEXT]
FEP_DOCUMENT: dict[str, Any] = {
    "@context": FEP_CONTEXT,
    "id": "https://server.example/activities/1",
    "type": "Create",
    "actor": "https://server.example/users/alice",
    "object": {
        "id": "https://server.example/objects/1",
        "type": "Note",
        "attributedTo": "https://server.example/users/alice",
        "content": "Hello world",
        "location": {"type": "Place", "longitude": -71.184902, "latitude": 25.273962},
    },
}
FEP_PROOF = {
    "@context": FEP_CONTEXT,
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "verificationMethod": FEP_METHOD,
    "proofPurpose": "assertionMethod",
    "proofValue": (
        "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL"
    ),
    "created": "2023-02-24T23:36:38Z",
}


def test_fep_8b32_feature_signing() -> None:
    private = private_from_multibase(W3C_PRIVATE_MULTIBASE)
    secured = create_proof(FEP_DOCUMENT, private, FEP_METHOD, W3C_CREATED)
    assert secured == {**FEP_DOCUMENT, "proof": FEP_PROOF}


def test_fep_8b32_feature_verifying() -> None:
    public = keypairs.public_from_multibase(W3C_PUBLIC_MULTIBASE)
    assert isinstance(public, Ed25519PublicKey)
    assert verify_proof({**FEP_DOCUMENT, "proof": FEP_PROOF}, public) == FEP_METHOD


def _fep_v1_document() -> dict[str, Any]:
    return {**copy.deepcopy(FEP_DOCUMENT), "@context": [AS, DI_V1]}


def test_fedify_vector_proof_without_context_but_signed_with_it() -> None:
    # fedify-dev/fedify packages/fedify/src/sig/proof.test.ts, verifyObject(): Fedify
    # publishes the proof without @context yet hashes the document's @context with it.
    # It is also a proof set: the first eddsa-jcs-2022 proof is the one checked.
    document = _fep_v1_document()
    document["proof"] = [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": FEP_METHOD,
            "proofPurpose": "assertionMethod",
            "proofValue": "zLaewdp4H9kqtwyrLatK4cjY5oRHwVcw4gibPSUDYDMhi4M49v8pcYk3ZB6D69dNpAPbUmY8"
            "ocuJ3m9KhKJEEg7z",
            "created": "2023-02-24T23:36:38Z",
        },
        {
            "created": "2023-02-24T23:36:38Z",
            "cryptosuite": "eddsa-jcs-2022",
            "proofPurpose": "assertionMethod",
            "proofValue": "zVrcY69MxozB9V9hmMmsjoB4YLCXvn6ienKr6jsP2rztSEr1WhMJymPqujKofkrV3C7A2C9i"
            "KYnRNSvtPgDQBCw2",
            "type": "DataIntegrityProof",
            "verificationMethod": "https://example.com/person2#key4",
        },
    ]
    public = keypairs.public_from_multibase(W3C_PUBLIC_MULTIBASE)
    assert isinstance(public, Ed25519PublicKey)
    assert proof_method(document) == FEP_METHOD
    assert verify_proof(document, public) == FEP_METHOD
    document["object"]["content"] = "bye"
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(document, public)


def test_legacy_fep_vector_proof_signed_without_context() -> None:
    # An earlier fep-8b32.feature revision (Mitra's early format): no @context in the proof,
    # and none hashed either.
    document = {
        "@context": [AS, DI_V1],
        "type": "Create",
        "actor": "https://server.example/users/alice",
        "object": {"type": "Note", "content": "Hello world"},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": FEP_METHOD,
            "proofPurpose": "assertionMethod",
            "proofValue": "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf71TRFz56osPSfDErszyL"
            "p5Ks1EhYSgpDaNM977Rg2",
            "created": "2023-02-24T23:36:38Z",
        },
    }
    public = keypairs.public_from_multibase(W3C_PUBLIC_MULTIBASE)
    assert isinstance(public, Ed25519PublicKey)
    assert verify_proof(document, public) == FEP_METHOD


def test_mitra_fixture_parses(key: Ed25519PrivateKey) -> None:
    # A real Mitra proof; its key is not in the fixture, so only the parsing can be checked
    # (including the nanosecond `created`), and the signature must fail with another key.
    if not MITRA_FIXTURE.is_file():
        pytest.skip(f"shared fixtures not found at {MITRA_FIXTURE.parent}")
    document = json.loads(MITRA_FIXTURE.read_text())
    assert has_proof(document)
    assert proof_method(document) == "https://mitra.social/users/localtestgroup#ed25519-key"
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(document, key.public_key(), now=NOW)


# ======================================================================= round trip


def test_round_trip(
    signed: dict[str, Any], activity: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    assert has_proof(signed)
    assert proof_method(signed) == KEY_ID
    assert verify_proof(signed, key.public_key(), now=NOW) == KEY_ID
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == KEY_ID
    assert proof["created"] == "2026-08-20T10:00:00Z"
    assert proof["@context"] == activity["@context"]
    assert proof["proofValue"].startswith("z")
    assert len(b58decode(proof["proofValue"][1:])) == 64
    # The input is left alone; the output survives a JSON round trip.
    assert "proof" not in activity
    reparsed = json.loads(json.dumps(signed, ensure_ascii=False))
    assert verify_proof(reparsed, key.public_key()) == KEY_ID


def test_created_is_utc_whole_seconds(activity: dict[str, Any], key: Ed25519PrivateKey) -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 8, 20, 12, 0, 5, 987654, tzinfo=paris)
    signed = create_proof(activity, key, KEY_ID, moment)
    assert proof_of(signed)["created"] == "2026-08-20T10:00:05Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        create_proof(activity, key, KEY_ID, datetime(2026, 8, 20))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (AS, [AS, DATA_INTEGRITY_CONTEXT]),
        ([AS], [AS, DATA_INTEGRITY_CONTEXT]),
        (
            [AS, {"toot": "http://joinmastodon.org/ns#"}],
            [AS, {"toot": "http://joinmastodon.org/ns#"}, DATA_INTEGRITY_CONTEXT],
        ),
        ({"@vocab": AS}, [{"@vocab": AS}, DATA_INTEGRITY_CONTEXT]),
        ([AS, DATA_INTEGRITY_CONTEXT], [AS, DATA_INTEGRITY_CONTEXT]),
        ([AS, DI_V1], [AS, DI_V1]),  # v1 already defines the terms; v2 would clash
        (DATA_INTEGRITY_CONTEXT, DATA_INTEGRITY_CONTEXT),
    ],
)
def test_data_integrity_context_is_added_when_missing(
    context: object, expected: object, key: Ed25519PrivateKey
) -> None:
    document = {"@context": context, "type": "Like", "actor": "https://coop.example/users/org"}
    original = copy.deepcopy(document)
    signed = create_proof(document, key, KEY_ID, NOW)
    assert signed["@context"] == expected
    assert proof_of(signed)["@context"] == expected
    assert document == original
    assert verify_proof(signed, key.public_key()) == KEY_ID


def test_document_without_context(key: Ed25519PrivateKey) -> None:
    signed = create_proof({"type": "Note", "content": "plain JSON"}, key, KEY_ID, NOW)
    assert "@context" not in signed
    assert "@context" not in proof_of(signed)
    assert verify_proof(signed, key.public_key()) == KEY_ID


def test_create_refuses_existing_proof_or_ld_signature(
    signed: dict[str, Any], activity: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    with pytest.raises(ValueError, match="already has a proof"):
        create_proof(signed, key, KEY_ID, NOW)
    with pytest.raises(ValueError, match="before the Linked Data signature"):
        create_proof({**activity, "signature": {"type": "RsaSignature2017"}}, key, KEY_ID, NOW)


# ========================================================================= failures

Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[str, ...], value: object) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _drop(path: tuple[str, ...]) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        target = document
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        _set(("object", "content"), "<p>Assemblée générale vendredi 🎉</p>"),
        _set(("actor",), "https://evil.example/users/mallory"),
        _set(("object", "to"), []),
        _set(("object", "sensitive"), True),
        _drop(("id",)),
        _set(("@context",), [AS]),
        _set(("proof", "created"), "2026-08-20T10:00:01Z"),
        _set(("proof", "verificationMethod"), "https://evil.example/users/mallory#key"),
        _set(("proof", "expires"), "2099-01-01T00:00:00Z"),
        _set(("proof", "@context"), [AS, DATA_INTEGRITY_CONTEXT, "https://example.com/x"]),
    ],
    ids=[
        "content",
        "actor",
        "audience",
        "added-field",
        "removed-field",
        "context",
        "proof-created",
        "proof-method",
        "proof-expires-added",
        "proof-context",
    ],
)
def test_tampering_fails(signed: dict[str, Any], key: Ed25519PrivateKey, mutate: Mutation) -> None:
    tampered = copy.deepcopy(signed)
    mutate(tampered)
    with pytest.raises(ProofError):
        verify_proof(tampered, key.public_key(), now=NOW)


def test_context_tampering_detected_with_and_without_proof_context(
    signed: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    # The proof's @context must prefix the document's.
    tampered = copy.deepcopy(signed)
    tampered["@context"] = [DATA_INTEGRITY_CONTEXT, AS]
    with pytest.raises(ProofError, match="@context does not match"):
        verify_proof(tampered, key.public_key())
    # Without @context in the proof, the document's @context is signed as content.
    del tampered["proof"]["@context"]
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(tampered, key.public_key())


def test_extended_document_context_is_accepted_per_spec(
    signed: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    # Data Integrity "Verify Proof" step 4: the document's @context only has to start
    # with the proof's; the hashed document uses the proof's @context.
    extended = copy.deepcopy(signed)
    extended["@context"] = [*signed["@context"], {"toot": "http://joinmastodon.org/ns#"}]
    assert verify_proof(extended, key.public_key()) == KEY_ID


def test_wrong_key_fails(signed: dict[str, Any]) -> None:
    with pytest.raises(ProofError, match="signature does not verify"):
        verify_proof(signed, keypairs.generate_ed25519().public_key())


def test_expiry(activity: dict[str, Any], key: Ed25519PrivateKey) -> None:
    options = {
        "@context": activity["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": KEY_ID,
        "proofPurpose": "assertionMethod",
        "created": "2026-08-20T09:00:00Z",
        "expires": "2026-08-20T09:30:00.5+00:00",
    }
    document = {
        **activity,
        "proof": {**options, "proofValue": sign_by_hand(activity, options, key)},
    }
    public = key.public_key()
    assert verify_proof(document, public) == KEY_ID  # no clock: expiry not checked
    assert verify_proof(document, public, now=NOW - timedelta(hours=1)) == KEY_ID
    with pytest.raises(ProofError, match="expired"):
        verify_proof(document, public, now=NOW)
    with pytest.raises(ProofError, match="expired"):
        verify_proof(document, public, now=datetime(2026, 8, 20, 9, 30, 0, 500000, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_proof(document, public, now=datetime(2026, 8, 20))  # noqa: DTZ001


def _proof_edit(**changes: object) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        for name, value in changes.items():
            if value is None:
                document["proof"].pop(name, None)
            else:
                document["proof"][name] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (_drop(("proof",)), "document has no proof"),
        (_set(("proof",), "zabc"), "proof is not an object"),
        (_set(("proof",), []), "no eddsa-jcs-2022 proof"),
        (_proof_edit(cryptosuite="eddsa-rdfc-2022"), "unsupported cryptosuite 'eddsa-rdfc-2022'"),
        (_proof_edit(cryptosuite=None), "unsupported cryptosuite None"),
        (_proof_edit(type="Ed25519Signature2020"), "unsupported proof type"),
        (_proof_edit(proofPurpose="authentication"), "proof purpose 'authentication'"),
        (_proof_edit(verificationMethod=None), "no verificationMethod"),
        (_proof_edit(verificationMethod={"id": KEY_ID}), "no verificationMethod"),
        (_proof_edit(previousProof="urn:uuid:1"), "proof chains"),
        (_proof_edit(proofValue=None), "proof has no proofValue"),
        (_proof_edit(proofValue=""), "proof has no proofValue"),
        (_proof_edit(proofValue="uAAAA"), "not base58btc multibase"),
        (_proof_edit(proofValue="z0OIl"), "not valid base58btc"),
        (_proof_edit(proofValue="z3sXaxjKs4M3"), "not an Ed25519 signature"),
        (_proof_edit(proofValue="z" + "2" * 10_000), "too long"),
        (_proof_edit(type="x" * 1000), "unsupported proof type 'xxx"),
        (_proof_edit(created="yesterday"), "created is not a valid date-time"),
        (_proof_edit(created="2026-02-30T10:00:00Z"), "created is not a valid date-time"),
        (_proof_edit(created="2026-08-20T10:00:00"), "created is not a valid date-time"),
        (_proof_edit(created=1755684000), "created is not a valid date-time"),
        (_proof_edit(expires="soon"), "expires is not a valid date-time"),
        (_set(("object", "score"), float("nan")), "not canonicalisable JSON"),
    ],
)
def test_specific_reasons(
    signed: dict[str, Any], key: Ed25519PrivateKey, mutate: Mutation, reason: str
) -> None:
    broken = copy.deepcopy(signed)
    mutate(broken)
    with pytest.raises(ProofError) as caught:
        verify_proof(broken, key.public_key(), now=NOW)
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


def test_proof_set_checks_first_eddsa_jcs_proof(
    signed: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    document = copy.deepcopy(signed)
    other = {"type": "DataIntegrityProof", "cryptosuite": "ecdsa-jcs-2019", "proofValue": "z1"}
    document["proof"] = ["not a proof", other, signed["proof"], {"cryptosuite": "eddsa-jcs-2022"}]
    assert proof_method(document) == KEY_ID
    assert verify_proof(document, key.public_key()) == KEY_ID


def test_ld_signature_is_ignored_per_fep_8b32(
    signed: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    # FEP-8b32: the proof is made first, the LD signature after, and verifiers drop it.
    document = {**signed, "signature": {"type": "RsaSignature2017", "signatureValue": "abc"}}
    assert verify_proof(document, key.public_key()) == KEY_ID


def test_has_proof_and_proof_method() -> None:
    assert not has_proof({"type": "Note"})
    assert not has_proof({"proof": "zabc"})
    assert not has_proof({"proof": []})
    assert has_proof({"proof": {}})
    assert has_proof({"proof": [{"cryptosuite": "eddsa-rdfc-2022"}]})
    assert proof_method({"type": "Note"}) is None
    assert proof_method({"proof": {"verificationMethod": ""}}) is None
    assert proof_method({"proof": {"verificationMethod": {"id": KEY_ID}}}) is None
    assert proof_method({"proof": {"verificationMethod": KEY_ID}}) == KEY_ID
    # In a list only an eddsa-jcs-2022 proof counts: it is the one verify_proof checks.
    assert proof_method({"proof": [{"verificationMethod": KEY_ID}]}) is None
    listed = {"proof": [{"cryptosuite": "eddsa-jcs-2022", "verificationMethod": KEY_ID}]}
    assert proof_method(listed) == KEY_ID


# ================================================================= apsig cross-check


def test_apsig_verifies_our_proof(signed: dict[str, Any], key: Ed25519PrivateKey) -> None:
    verifier = ProofVerifier(keypairs.public_to_multibase(key.public_key()))
    # apsig pops proofValue from the document it is given: hand it a copy.
    assert verifier.verify_proof(copy.deepcopy(signed), raise_on_fail=True) == KEY_ID
    tampered = copy.deepcopy(signed)
    tampered["object"]["content"] = "changed"
    assert verifier.verify_proof(tampered) is None


def test_we_verify_apsig_proof(activity: dict[str, Any], key: Ed25519PrivateKey) -> None:
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": KEY_ID,
        "proofPurpose": "assertionMethod",
        "created": "2026-08-20T10:00:00Z",
    }
    theirs = ProofSigner(key).sign(copy.deepcopy(activity), options)
    assert verify_proof(theirs, key.public_key(), now=NOW) == KEY_ID
    # Same key, same inputs, deterministic Ed25519: byte-identical to ours.
    ours = create_proof(activity, key, KEY_ID, NOW)
    assert theirs["proof"]["proofValue"] == proof_of(ours)["proofValue"]
    theirs["actor"] = "https://evil.example/users/mallory"
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(theirs, key.public_key())


def test_absurdly_deep_document_is_a_proof_error(
    signed: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ProofError, match="not canonicalisable"):
        verify_proof({**signed, "deep": deep}, key.public_key())


def test_is_supported_only_for_eddsa_jcs_2022() -> None:
    from federation.proofs import is_supported

    other = {
        "id": "https://a.example/x",
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "mldsa44-jcs-2024",
            "verificationMethod": "https://a.example/u#k",
            "proofPurpose": "assertionMethod",
            "proofValue": "zabc",
        },
    }
    assert not is_supported(other)
    assert not is_supported({"id": "https://a.example/x"})
    other["proof"]["cryptosuite"] = "eddsa-jcs-2022"  # type: ignore[index]
    assert is_supported(other)
