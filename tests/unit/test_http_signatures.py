"""HTTP signatures: round trips, RFC 9421 vectors, cross-checks, variants, failures."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpsig
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from federation import keypairs
from federation.http_signatures import (
    HttpRequest,
    ParsedSignature,
    SignatureError,
    check_request,
    content_digest_header,
    digest_header,
    parse_signature,
    request_host,
    sign_cavage,
    sign_rfc9421,
    verify_signature,
)
from federation.keypairs import PublicKey

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=UTC)
INBOX = "https://coop.example/users/org/inbox"
KEY_ID = "https://peer.example/users/alice#main-key"
BODY = b'{"type":"Follow","actor":"https://peer.example/users/alice"}'
JSON = "application/activity+json"


@dataclass(frozen=True)
class Keys:
    rsa_key: rsa.RSAPrivateKey
    other_rsa: rsa.RSAPrivateKey
    ed: ed25519.Ed25519PrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(keypairs.generate_rsa(), keypairs.generate_rsa(), keypairs.generate_ed25519())


# ----------------------------------------------------------------------- helpers


def accept(request: HttpRequest, key: PublicKey, now: datetime = NOW) -> ParsedSignature:
    """What the inbox does: parse, cheap checks, then the cryptographic check."""
    parsed = parse_signature(request)
    check_request(request, parsed, now)
    verify_signature(parsed, key)
    return parsed


def with_headers(request: HttpRequest, **changes: str | None) -> HttpRequest:
    """Copy of `request` with headers set (value) or removed (None); names are
    given in snake case and matched case-insensitively."""
    headers = dict(request.headers)
    for snake, value in changes.items():
        name = snake.replace("_", "-")
        for existing in [h for h in headers if h.lower() == name]:
            del headers[existing]
        if value is not None:
            headers[name.title()] = value
    return replace(request, headers=headers)


def cavage_post(keys: Keys, url: str = INBOX, now: datetime = NOW) -> HttpRequest:
    headers = {"Content-Type": JSON}
    headers |= sign_cavage("POST", url, headers, BODY, KEY_ID, keys.rsa_key, now)
    return HttpRequest("POST", url, headers, BODY)


def rfc9421_post(key: keypairs.PrivateKey, now: datetime = NOW) -> HttpRequest:
    headers = {"Content-Type": JSON}
    headers |= sign_rfc9421("POST", INBOX, headers, BODY, KEY_ID, key, now)
    return HttpRequest("POST", INBOX, headers, BODY)


def unsigned(method: str = "POST", url: str = INBOX, **extra: str) -> HttpRequest:
    """A request carrying Host, Date (and Digest for POST) but no signature yet."""
    body = BODY if method == "POST" else b""
    headers = {"Host": request_host(url), "Date": format_datetime(NOW, usegmt=True)}
    if body:
        headers |= {"Digest": digest_header(body), "Content-Type": JSON}
    headers |= {name.replace("_", "-").title(): value for name, value in extra.items()}
    return HttpRequest(method, url, headers, body)


def cavage_value(
    request: HttpRequest,
    covered: str,
    key: rsa.RSAPrivateKey,
    *,
    algorithm: str = "rsa-sha256",
    target: str | None = None,
    created: int | None = None,
) -> str:
    """Independent draft-cavage signer, so variants do not depend on sign_cavage."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    parts = urlsplit(request.url)
    if target is None:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = []
    for name in covered.split():
        if name == "(request-target)":
            lines.append(f"(request-target): {request.method.lower()} {target}")
        elif name == "(created)":
            lines.append(f"(created): {created}")
        else:
            lines.append(f"{name}: {headers[name]}")
    raw = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    extra = f",created={created}" if created is not None else ""
    return (
        f'keyId="{KEY_ID}",algorithm="{algorithm}",headers="{covered}"{extra},'
        f'signature="{base64.b64encode(raw).decode()}"'
    )


def signed(
    request: HttpRequest,
    covered: str,
    key: rsa.RSAPrivateKey,
    algorithm: str = "rsa-sha256",
) -> HttpRequest:
    value = cavage_value(request, covered, key, algorithm=algorithm)
    return with_headers(request, signature=value)


# -------------------------------------------------------------------- small pieces


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://coop.example/users/org/inbox", "coop.example"),
        ("https://Coop.Example:443/x?y=1", "coop.example"),
        ("http://coop.example:80/", "coop.example"),
        ("http://127.0.0.1:8081/inbox", "127.0.0.1:8081"),
        ("https://[::1]:8443/inbox", "[::1]:8443"),
    ],
)
def test_request_host_keeps_only_non_default_ports(url: str, host: str) -> None:
    assert request_host(url) == host


def test_digest_headers() -> None:
    empty_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert digest_header(b"") == f"SHA-256={empty_sha256}"
    assert content_digest_header(b"") == f"sha-256=:{empty_sha256}:"


def test_signature_error_carries_reason() -> None:
    err = SignatureError("signature does not verify")
    assert err.reason == "signature does not verify"
    assert str(err) == "signature does not verify"


# -------------------------------------------------------------------- round trips


def test_cavage_post_round_trip(keys: Keys) -> None:
    request = cavage_post(keys)
    assert request.headers["Host"] == "coop.example"
    assert request.headers["Date"] == "Thu, 20 Aug 2026 10:00:00 GMT"
    assert request.headers["Digest"] == digest_header(BODY)
    assert request.headers["Signature"].startswith(
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest",signature="'
    )
    parsed = accept(request, keys.rsa_key.public_key())
    assert parsed.scheme == "cavage"
    assert parsed.key_id == KEY_ID
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.components == ("(request-target)", "host", "date", "digest")
    assert parsed.created == NOW
    assert parsed.expires is None
    assert parsed.signing_base.startswith(b"(request-target): post /users/org/inbox\nhost:")


def test_cavage_get_round_trip_with_query_and_port(keys: Keys) -> None:
    url = "http://127.0.0.1:8081/users/org/outbox?page=2"
    added = sign_cavage("GET", url, {"Accept": JSON}, None, KEY_ID, keys.rsa_key, NOW)
    assert set(added) == {"Host", "Date", "Signature"}
    assert added["Host"] == "127.0.0.1:8081"
    assert 'headers="(request-target) host date"' in added["Signature"]
    parsed = accept(HttpRequest("get", url, {"Accept": JSON, **added}), keys.rsa_key.public_key())
    assert parsed.signing_base.startswith(b"(request-target): get /users/org/outbox?page=2\n")


def test_rfc9421_rsa_post_round_trip(keys: Keys) -> None:
    request = rfc9421_post(keys.rsa_key)
    created = int(NOW.timestamp())
    assert request.headers["Content-Digest"] == content_digest_header(BODY)
    assert request.headers["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest");created={created}'
        f';keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    parsed = accept(request, keys.rsa_key.public_key())
    assert parsed.scheme == "rfc9421"
    assert parsed.algorithm == "rsa-v1_5-sha256"
    assert parsed.components == ("@method", "@target-uri", "content-digest")
    assert parsed.signing_base == (
        b'"@method": POST\n'
        b'"@target-uri": https://coop.example/users/org/inbox\n'
        + f'"content-digest": {content_digest_header(BODY)}\n'.encode()
        + b'"@signature-params": '
        + request.headers["Signature-Input"].removeprefix("sig1=").encode()
    )


def test_rfc9421_ed25519_round_trip(keys: Keys) -> None:
    parsed = accept(rfc9421_post(keys.ed), keys.ed.public_key())
    assert parsed.algorithm == "ed25519"


def test_rfc9421_get_round_trip(keys: Keys) -> None:
    url = INBOX + "?page=true"
    added = sign_rfc9421("GET", url, {}, None, KEY_ID, keys.rsa_key, NOW, label="get")
    assert set(added) == {"Signature-Input", "Signature"}
    assert added["Signature-Input"].startswith('get=("@method" "@target-uri");')
    parsed = accept(HttpRequest("GET", url, added), keys.rsa_key.public_key())
    assert b'"@target-uri": https://coop.example/users/org/inbox?page=true\n' in (
        parsed.signing_base
    )


# ------------------------------------------------------------ RFC 9421 Appendix B

# B.1.2 test-key-rsa-pss (public part) and B.1.4 test-key-ed25519.
RFC_RSA_PSS_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
"""
RFC_ED25519_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_CREATED = datetime.fromtimestamp(1618884473, UTC)
RFC_BODY = b'{"hello": "world"}'
# B.2 "test-request".
RFC_REQUEST = HttpRequest(
    "POST",
    "https://example.com/foo?param=Value&Pet=dog",
    {
        "Host": "example.com",
        "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "Content-Type": "application/json",
        "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+Ab"
        "wAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        "Content-Length": "18",
    },
    RFC_BODY,
)
B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgG"
    "xbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR"
    "72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuV"
    "G5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ"
    "98Xw9Q=="
)
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" '
    '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683"
    "+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsL"
    "NmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9Bmzh"
    "uzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKE"
    "gM4cUA=="
)
B23_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@query": ?param=Value&Pet=dog\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+Abw'
    "AgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n"
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@query" "@authority" '
    '"content-type" "content-digest" "content-length");created=1618884473'
    ';keyid="test-key-rsa-pss"'
)
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def rfc_signed(signature_input: str, signature: str) -> HttpRequest:
    label = signature_input.split("=", 1)[0]
    return with_headers(
        RFC_REQUEST, signature_input=signature_input, signature=f"{label}=:{signature}:"
    )


def test_rfc9421_b21_minimal_rsa_pss() -> None:
    request = rfc_signed(B21_INPUT, B21_SIGNATURE)
    parsed = parse_signature(request)
    assert parsed.signing_base == (
        b'"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
        b';nonce="b3k2pp5k7z-50gnwp.yemd"'
    )
    assert parsed.components == ()
    assert parsed.algorithm is None
    assert parsed.created == RFC_CREATED
    verify_signature(parsed, keypairs.public_from_pem(RFC_RSA_PSS_PUBLIC))
    with pytest.raises(SignatureError, match="must cover @method"):
        check_request(request, parsed, RFC_CREATED)


def test_rfc9421_b23_full_coverage_rsa_pss() -> None:
    request = rfc_signed(B23_INPUT, B23_SIGNATURE)
    parsed = parse_signature(request)
    assert parsed.signing_base == B23_BASE.encode()
    # Covers method, path, content-digest (sha-512, checked against the body).
    check_request(request, parsed, RFC_CREATED)
    verify_signature(parsed, keypairs.public_from_pem(RFC_RSA_PSS_PUBLIC))
    with pytest.raises(SignatureError, match="content-digest does not match body"):
        check_request(replace(request, body=b"{}"), parsed, RFC_CREATED)


def test_rfc9421_b26_ed25519() -> None:
    request = rfc_signed(B26_INPUT, B26_SIGNATURE)
    parsed = parse_signature(request)
    assert parsed.key_id == "test-key-ed25519"
    assert parsed.signing_base == B26_BASE.encode()
    verify_signature(parsed, keypairs.public_from_pem(RFC_ED25519_PUBLIC))
    # Ed25519 is deterministic: signing our base reproduces the published bytes.
    private = serialization.load_pem_private_key(RFC_ED25519_PRIVATE.encode(), None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert base64.b64encode(private.sign(parsed.signing_base)).decode() == B26_SIGNATURE
    # The vector signs a body without covering its digest: fine for the RFC, not for us.
    with pytest.raises(SignatureError, match="must cover content-digest"):
        check_request(request, parsed, RFC_CREATED)


def test_rfc9421_first_label_is_used() -> None:
    request = with_headers(
        RFC_REQUEST,
        signature_input=f'{B26_INPUT}, other=("@method");created=1;keyid="x"',
        signature=f"sig-b26=:{B26_SIGNATURE}:, other=:AAAA:",
    )
    parsed = parse_signature(request)
    verify_signature(parsed, keypairs.public_from_pem(RFC_ED25519_PUBLIC))


# ------------------------------------------------- cross-checks with other libraries


@dataclass
class LibMessage:
    """The request shape http_message_signatures reads and writes."""

    method: str
    url: str
    headers: dict[str, str]


def test_our_rfc9421_verifies_with_http_message_signatures(keys: Keys) -> None:
    now = datetime.now(UTC)  # the library checks created against its own clock
    for key, algorithm in (
        (keys.rsa_key, algorithms.RSA_V1_5_SHA256),
        (keys.ed, algorithms.ED25519),
    ):
        request = rfc9421_post(key, now)
        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithm,
            key_resolver=MappingKeyResolver(
                public_keys={KEY_ID: key.public_key()}, private_keys={}
            ),
        )
        message = LibMessage("POST", INBOX, dict(request.headers))
        results = verifier.verify(
            message,
            body=BODY,
            require_components=("@method", "@target-uri", "content-digest"),
        )
        assert results[0].parameters["keyid"] == KEY_ID


@pytest.mark.parametrize("algorithm", ["rsa", "ed25519"])
def test_http_message_signatures_request_verifies_with_ours(keys: Keys, algorithm: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    key: keypairs.PrivateKey = keys.rsa_key if algorithm == "rsa" else keys.ed
    url = "https://coop.example:8443/users/org/inbox?a=1&b=%20x"
    message = LibMessage("POST", url, {"Content-Type": JSON})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256
        if algorithm == "rsa"
        else algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY_ID: key}),
    )
    signer.sign(
        message,
        key_id=KEY_ID,
        created=now,
        expires=now + timedelta(minutes=5),
        nonce="n-1",
        tag="declics",
        label="lib",
        covered_component_ids=(
            "@method",
            "@target-uri",
            "@authority",
            "@scheme",
            "@request-target",
            "@path",
            "@query",
            "content-type",
        ),
        body=BODY,
    )
    request = HttpRequest("POST", url, message.headers, BODY)
    parsed = accept(request, key.public_key(), now)
    assert parsed.created == now
    assert parsed.expires == now + timedelta(minutes=5)
    assert "content-digest" in parsed.components


def test_our_cavage_verifies_with_httpsig(keys: Keys) -> None:
    url = INBOX + "?x=1"
    headers = {"Content-Type": JSON}
    headers |= sign_cavage("POST", url, headers, BODY, KEY_ID, keys.rsa_key, NOW)
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=keypairs.public_to_pem(keys.rsa_key.public_key()),
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path="/users/org/inbox?x=1",
        sign_header="signature",
    )
    assert verifier.verify() is True


@pytest.mark.parametrize("sign_header", ["authorization", "signature"])
def test_httpsig_request_verifies_with_ours(keys: Keys, sign_header: str) -> None:
    base = unsigned()
    signer = httpsig.HeaderSigner(
        KEY_ID,
        keypairs.private_to_pem(keys.rsa_key),
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
        sign_header=sign_header,
    )
    headers = signer.sign(dict(base.headers), method="POST", path="/users/org/inbox")
    parsed = accept(replace(base, headers=dict(headers)), keys.rsa_key.public_key())
    assert parsed.key_id == KEY_ID


# ----------------------------------------------------------- variants that verify


@dataclass(frozen=True)
class Variant:
    """A request as some peer signs it."""

    request: HttpRequest
    covered: str
    algorithm: str = "rsa-sha256"
    target: str | None = None
    created: int | None = None


QUERY_URL = INBOX + "?page=1&x=%2F"
VARIANTS = {
    "mastodon-old": Variant(unsigned(), "(request-target) host date digest"),
    "mastodon-4.4": Variant(unsigned(), "host date content-type digest (request-target)"),
    "gts-hs2019": Variant(unsigned(), "(request-target) host date digest", "hs2019"),
    "lemmy": Variant(unsigned(), "(request-target) content-type date digest host", "hs2019"),
    "misskey-post": Variant(unsigned(), "(request-target) date host digest"),
    "misskey-get": Variant(unsigned("GET", accept=JSON), "(request-target) date host accept"),
    "query-in-target": Variant(unsigned("GET", QUERY_URL), "(request-target) host date"),
    "query-not-in-target": Variant(
        unsigned("GET", QUERY_URL),
        "(request-target) host date",
        target="/users/org/inbox",
    ),
    "lowercase-digest-name": Variant(
        unsigned(digest="sha-256=" + digest_header(BODY).split("=", 1)[1]),
        "(request-target) host date digest",
    ),
    "several-digests": Variant(
        unsigned(digest=f"{digest_header(BODY)}, md5=whatever"),
        "(request-target) host date digest",
    ),
    "rfc850-date": Variant(
        unsigned(date="Thursday, 20-Aug-26 10:00:00 GMT"),
        "(request-target) host date digest",
    ),
    "asctime-date": Variant(
        unsigned(date="Thu Aug 20 10:00:00 2026"), "(request-target) host date digest"
    ),
    "hs2019-created": Variant(
        unsigned(),
        "(request-target) (created) host digest",
        "hs2019",
        created=int(NOW.timestamp()),
    ),
}


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_cavage_variants_verify(keys: Keys, variant: Variant) -> None:
    value = cavage_value(
        variant.request,
        variant.covered,
        keys.rsa_key,
        algorithm=variant.algorithm,
        target=variant.target,
        created=variant.created,
    )
    parsed = accept(with_headers(variant.request, signature=value), keys.rsa_key.public_key())
    assert parsed.components == tuple(variant.covered.split())


def test_cavage_signature_prefix_and_authorization_header(keys: Keys) -> None:
    request = unsigned()
    value = cavage_value(request, "(request-target) host date digest", keys.rsa_key)
    accept(with_headers(request, signature="Signature " + value), keys.rsa_key.public_key())
    accept(
        with_headers(request, authorization="Signature " + value),
        keys.rsa_key.public_key(),
    )


def test_cavage_default_algorithm_is_hs2019(keys: Keys) -> None:
    request = unsigned()
    value = cavage_value(request, "(request-target) host date digest", keys.rsa_key)
    value = value.replace('algorithm="rsa-sha256",', "")
    parsed = accept(with_headers(request, signature=value), keys.rsa_key.public_key())
    assert parsed.algorithm == "hs2019"


# ---------------------------------------------------------------------- failures

Case = Callable[[Keys], tuple[HttpRequest, PublicKey]]


def corrupt(value: str) -> str:
    head, _, tail = value.rpartition('signature="')
    raw = bytearray(base64.b64decode(tail.rstrip('"')))
    raw[0] ^= 0xFF
    return f'{head}signature="{base64.b64encode(bytes(raw)).decode()}"'


def sig_header(request: HttpRequest) -> str:
    return request.headers["Signature"]


BAD_CASES: list[tuple[str, Case, str]] = [
    ("unsigned", lambda k: (unsigned(), k.rsa_key.public_key()), "no signature"),
    (
        "body-changed",
        lambda k: (replace(cavage_post(k), body=b"{}"), k.rsa_key.public_key()),
        "digest does not match body",
    ),
    (
        "digest-removed",
        lambda k: (with_headers(cavage_post(k), digest=None), k.rsa_key.public_key()),
        "covered header 'digest' is missing",
    ),
    (
        "digest-without-sha256",
        lambda k: (
            signed(
                unsigned(digest="SHA-512=abcd"),
                "(request-target) host date digest",
                k.rsa_key,
            ),
            k.rsa_key.public_key(),
        ),
        "digest missing sha-256",
    ),
    (
        "corrupted-signature",
        lambda k: (
            with_headers(cavage_post(k), signature=corrupt(sig_header(cavage_post(k)))),
            k.rsa_key.public_key(),
        ),
        "signature does not verify",
    ),
    (
        "stale-date",
        lambda k: (
            cavage_post(k, now=NOW - timedelta(hours=2)),
            k.rsa_key.public_key(),
        ),
        "too old",
    ),
    (
        "future-date",
        lambda k: (
            cavage_post(k, now=NOW + timedelta(minutes=61)),
            k.rsa_key.public_key(),
        ),
        "future",
    ),
    (
        "unparseable-date",
        lambda k: (
            signed(
                unsigned(date="yesterday"),
                "(request-target) host date digest",
                k.rsa_key,
            ),
            k.rsa_key.public_key(),
        ),
        "not a valid HTTP date",
    ),
    (
        "missing-keyid",
        lambda k: (
            with_headers(
                cavage_post(k),
                signature=sig_header(cavage_post(k)).replace(f'keyId="{KEY_ID}",', ""),
            ),
            k.rsa_key.public_key(),
        ),
        "no keyId",
    ),
    (
        "missing-signature-param",
        lambda k: (
            with_headers(cavage_post(k), signature=f'keyId="{KEY_ID}"'),
            k.rsa_key.public_key(),
        ),
        "no signature parameter",
    ),
    (
        "duplicate-param",
        lambda k: (
            with_headers(
                cavage_post(k),
                signature='algorithm="hs2019",' + sig_header(cavage_post(k)),
            ),
            k.rsa_key.public_key(),
        ),
        "duplicate signature parameter",
    ),
    (
        "garbage-signature-header",
        lambda k: (
            with_headers(unsigned(), signature="keyId=a b c"),
            k.rsa_key.public_key(),
        ),
        "unparseable signature header",
    ),
    (
        "unsupported-algorithm",
        lambda k: (
            signed(
                unsigned(),
                "(request-target) host date digest",
                k.rsa_key,
                algorithm="hmac-sha256",
            ),
            k.rsa_key.public_key(),
        ),
        "unsupported signature algorithm 'hmac-sha256'",
    ),
    (
        "created-with-rsa-sha256",
        lambda k: (
            with_headers(
                unsigned(),
                signature=cavage_value(
                    unsigned(),
                    "(request-target) (created) host digest",
                    k.rsa_key,
                    created=1,
                ),
            ),
            k.rsa_key.public_key(),
        ),
        "require algorithm hs2019",
    ),
    (
        "post-not-covering-digest",
        lambda k: (
            signed(unsigned(), "(request-target) host date", k.rsa_key),
            k.rsa_key.public_key(),
        ),
        "must cover digest",
    ),
    (
        "get-not-covering-host",
        lambda k: (
            signed(unsigned("GET"), "(request-target) date", k.rsa_key),
            k.rsa_key.public_key(),
        ),
        "must cover host",
    ),
    (
        "not-covering-request-target",
        lambda k: (
            signed(unsigned(), "host date digest", k.rsa_key),
            k.rsa_key.public_key(),
        ),
        "must cover (request-target)",
    ),
    (
        "not-covering-date",
        lambda k: (
            signed(unsigned(), "(request-target) host digest", k.rsa_key),
            k.rsa_key.public_key(),
        ),
        "must cover date or (created)",
    ),
    (
        "covered-header-absent",
        lambda k: (
            with_headers(
                signed(
                    unsigned(),
                    "(request-target) host date digest content-type",
                    k.rsa_key,
                ),
                content_type=None,
            ),
            k.rsa_key.public_key(),
        ),
        "covered header 'content-type' is missing",
    ),
    (
        "wrong-key",
        lambda k: (cavage_post(k), k.other_rsa.public_key()),
        "signature does not verify",
    ),
    (
        "cavage-rsa-sha256-with-ed25519-key",
        lambda k: (cavage_post(k), k.ed.public_key()),
        "does not match the signer's Ed25519 key",
    ),
    (
        "malformed-signature-input",
        lambda k: (
            with_headers(
                rfc9421_post(k.rsa_key),
                signature_input='sig1=("@method" "@target-uri";created=1',
            ),
            k.rsa_key.public_key(),
        ),
        "malformed Signature-Input",
    ),
    (
        "signature-input-without-signature",
        lambda k: (
            with_headers(rfc9421_post(k.rsa_key), signature=None),
            k.rsa_key.public_key(),
        ),
        "without a Signature header",
    ),
    (
        "rfc9421-label-mismatch",
        lambda k: (
            with_headers(
                rfc9421_post(k.rsa_key),
                signature="other=" + rfc9421_post(k.rsa_key).headers["Signature"].split("=", 1)[1],
            ),
            k.rsa_key.public_key(),
        ),
        "no byte sequence for 'sig1'",
    ),
    (
        "rfc9421-missing-created",
        lambda k: (
            with_headers(
                rfc9421_post(k.rsa_key),
                signature_input='sig1=("@method" "@target-uri");keyid="k"',
            ),
            k.rsa_key.public_key(),
        ),
        "no created parameter",
    ),
    (
        "rfc9421-unsupported-alg",
        lambda k: (
            with_headers(
                rfc9421_post(k.rsa_key),
                signature_input=rfc9421_post(k.rsa_key)
                .headers["Signature-Input"]
                .replace("rsa-v1_5-sha256", "hmac-sha256"),
            ),
            k.rsa_key.public_key(),
        ),
        "unsupported signature algorithm 'hmac-sha256'",
    ),
    (
        "rfc9421-unknown-component",
        lambda k: (
            with_headers(
                rfc9421_post(k.rsa_key),
                signature_input=rfc9421_post(k.rsa_key)
                .headers["Signature-Input"]
                .replace('"@method"', '"@status"'),
            ),
            k.rsa_key.public_key(),
        ),
        "unsupported derived component '@status'",
    ),
    (
        "content-digest-mismatch",
        lambda k: (
            replace(rfc9421_post(k.rsa_key), body=b"{}"),
            k.rsa_key.public_key(),
        ),
        "content-digest does not match body",
    ),
    (
        "content-digest-malformed",
        lambda k: (
            with_headers(rfc9421_post(k.rsa_key), content_digest="sha-256=notbytes"),
            k.rsa_key.public_key(),
        ),
        "content-digest sha-256 is not a byte sequence",
    ),
    (
        "rfc9421-stale",
        lambda k: (
            rfc9421_post(k.rsa_key, now=NOW - timedelta(hours=2)),
            k.rsa_key.public_key(),
        ),
        "too old",
    ),
    (
        "rfc9421-wrong-key",
        lambda k: (rfc9421_post(k.rsa_key), k.other_rsa.public_key()),
        "signature does not verify",
    ),
    (
        "rfc9421-alg-contradicts-key",
        lambda k: (rfc9421_post(k.ed), k.rsa_key.public_key()),
        "does not match the signer's RSA key",
    ),
]


@pytest.mark.parametrize(
    ("build", "reason"),
    [pytest.param(build, reason, id=name) for name, build, reason in BAD_CASES],
)
def test_bad_requests_are_rejected(keys: Keys, build: Case, reason: str) -> None:
    request, public_key = build(keys)
    with pytest.raises(SignatureError) as caught:
        accept(request, public_key)
    assert reason in caught.value.reason


def test_expires_is_honoured(keys: Keys) -> None:
    parsed = parse_signature(rfc9421_post(keys.rsa_key))
    check_request(rfc9421_post(keys.rsa_key), replace(parsed, expires=NOW), NOW)
    late = replace(parsed, expires=NOW - timedelta(minutes=61))
    with pytest.raises(SignatureError, match="signature has expired"):
        check_request(rfc9421_post(keys.rsa_key), late, NOW)


def test_custom_skew(keys: Keys) -> None:
    request = cavage_post(keys, now=NOW - timedelta(minutes=10))
    parsed = parse_signature(request)
    check_request(request, parsed, NOW)
    with pytest.raises(SignatureError, match="too old"):
        check_request(request, parsed, NOW, max_skew=timedelta(minutes=5))
