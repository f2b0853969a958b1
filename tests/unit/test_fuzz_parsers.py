"""Property tests: every parser of untrusted input answers or refuses, never crashes.

Each parser is fed hostile input built by hypothesis; the only exception allowed is
the parser's own refusal (ProtocolError, SignatureError, ProofError, CommandError,
FrontMatterError). Where a parser accepts, what it returns keeps its promises.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

from federation import http_signatures, keypairs, proofs
from federation.actors.webfinger import parse_handle
from federation.content import commitments, markdown, policy, practices, themes
from federation.errors import CommandError
from federation.settings import CONFIG_NAME, load_settings
from federation.vocab import limits
from federation.vocab import normalize as n
from tests.support.fuzz import (
    AS_KEYS,
    DOCUMENTS,
    JSON,
    TOML_SCALARS,
    TOML_VALUES,
    as2_document,
    toml_value,
)

T = TypeVar("T")


def outcome(call: Callable[[], T], *refusals: type[Exception]) -> T | Exception:
    """What `call` returns, or the refusal it raised (anything else propagates)."""
    try:
        return call()
    except refusals as err:
        return err


def reason(err: Exception) -> str:
    return str(getattr(err, "reason", None) or err)


PARSERS = [
    n.parse_activity,
    n.parse_actor,
    n.parse_object,
    n.parse_webfinger,
    n.parse_collection,
    n.parse_nodeinfo,
    n.parse_nodeinfo_links,
]


@pytest.mark.parametrize("parser", PARSERS, ids=[p.__name__ for p in PARSERS])
@given(document=DOCUMENTS)
def test_as2_parsers_accept_or_refuse(parser: Any, document: Any) -> None:
    result = outcome(lambda: parser(document), n.ProtocolError)
    if isinstance(result, n.ProtocolError):
        assert result.reason


@given(document=as2_document(3))
def test_parsed_activity_keeps_its_promises(document: dict[str, Any]) -> None:
    document.setdefault("id", "https://a.example/activities/1")
    document.setdefault("actor", "https://a.example/users/alice")
    try:
        activity = n.parse_activity(document)
    except n.ProtocolError:
        return
    for uri in (activity.id, activity.actor):
        assert n.check_http_uri(uri, "uri") == uri
    assert activity.type


@given(raw=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_untrusted_json_decoder_refuses_cleanly(raw: bytes) -> None:
    try:
        decoded = limits.loads(raw)
    except n.ProtocolError:
        return
    limits_ = limits.ShapeLimits(max_depth=8, max_entries=30, max_string_chars=20, max_recipients=3)
    outcome(lambda: limits.check_shape(decoded, limits_), n.ProtocolError)


@given(document=JSON)
def test_shape_check_refuses_only_what_exceeds(document: Any) -> None:
    strict = limits.ShapeLimits(max_depth=3, max_entries=6, max_string_chars=10, max_recipients=2)
    try:
        limits.check_shape(document, strict)
    except n.ProtocolError:
        return
    assert n.json_depth(document) <= 3


TOKENS = st.sampled_from(
    [
        'keyId="https://a.example/users/alice#main-key"', 'algorithm="rsa-sha256"',
        'algorithm="hs2019"', 'headers="(request-target) host date digest"',
        'headers="(created) (expires)"', 'headers=""', 'signature="AAAA"', "created=12",
        "expires=x", 'created="1700000000"', 'signature="!!"', ",", "=", '"', "\\",
        "keyId=", "sig1=", 'sig1=("@method" "@target-uri");created=1;keyid="k"',
        "sig1=:AAAA:", '("date")', ';alg="ed25519"', "\n", "\x00", "é",
    ]
)  # fmt: skip
HEADER_TEXT = st.lists(TOKENS | st.text(max_size=8), max_size=8).map("".join)


@given(
    signature=HEADER_TEXT,
    signature_input=st.none() | HEADER_TEXT,
    authorization=st.none() | HEADER_TEXT,
    date=st.sampled_from(["Sat, 28 Nov 2026 21:00:00 GMT", "yesterday", "", "Sat, 99 Xyz"]),
    digest=st.sampled_from(["SHA-256=AAAA", "sha-256=:AAAA:", "MD5=x", "", "SHA-256="]),
    body=st.binary(max_size=40),
)
def test_signature_headers_parse_or_refuse(
    signature: str,
    signature_input: str | None,
    authorization: str | None,
    date: str,
    digest: str,
    body: bytes,
) -> None:
    headers = {"signature": signature, "date": date, "digest": digest, "host": "a.example"}
    headers["content-digest"] = digest
    if signature_input is not None:
        headers["signature-input"] = signature_input
    if authorization is not None:
        headers["authorization"] = "Signature " + authorization
    request = http_signatures.HttpRequest("POST", "https://a.example/inbox", headers, body)
    now = datetime(2026, 11, 28, 21, tzinfo=UTC)

    def check() -> None:
        parsed = http_signatures.parse_signature(request)
        http_signatures.check_request(request, parsed, now)

    result = outcome(check, http_signatures.SignatureError)
    if result is not None:
        assert reason(result)


PUBLIC = ed25519.Ed25519PrivateKey.generate().public_key()


@given(document=as2_document(2), proof=as2_document(1))
def test_integrity_proofs_verify_or_refuse(document: dict[str, Any], proof: dict[str, Any]) -> None:
    proof.setdefault("type", "DataIntegrityProof")
    proof.setdefault("cryptosuite", "eddsa-jcs-2022")
    document["proof"] = proof
    proofs.has_proof(document)
    proofs.proof_method(document)
    if not proofs.is_supported(document):
        return
    with pytest.raises(proofs.ProofError):
        proofs.verify_proof(document, PUBLIC, now=datetime(2026, 11, 28, tzinfo=UTC))


@given(text=st.text(max_size=60) | st.sampled_from(["", "@", "acct:", "@@", "acct:a@b@c"]))
def test_webfinger_resource_parses_or_is_none(text: str) -> None:
    handle = parse_handle(text)
    if handle is not None:
        assert handle.username and handle.domain
        assert handle.domain == handle.domain.lower()


@given(text=st.text(max_size=40) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_keys_from_pem_or_multibase_refuse_cleanly(text: str) -> None:
    for reader in (keypairs.public_from_pem, keypairs.public_from_multibase):
        outcome(lambda: reader(text), ValueError, TypeError)  # noqa: B023


FRONT_KEYS = st.sampled_from(
    ["title", "summary", "themes", "licence", "links", "other", "title\x00"]
)
YAML_VALUES = st.one_of(
    st.text(alphabet=string.printable, max_size=30),
    st.sampled_from(
        ["[1, 2]", "[communs, 99]", "&a [*a]", "!!python/object:os.system", "{a: b}", "~",
         "[https://x.example, javascript:alert(1)]", "'unclosed", "- a", "2023-01-01"]
    ),
)  # fmt: skip


@given(
    pairs=st.lists(st.tuples(FRONT_KEYS, YAML_VALUES), max_size=6),
    body=st.text(max_size=60),
    closed=st.booleans(),
    opening=st.sampled_from(["---\n", "\ufeff---\n", "", "--- \n"]),
)
def test_practice_files_parse_or_give_one_line(
    pairs: list[tuple[str, str]], body: str, closed: bool, opening: str
) -> None:
    header = "".join(f"{key}: {value}\n" for key, value in pairs)
    text = opening + header + ("---\n" if closed else "") + body
    outcome(lambda: markdown.split_front_matter(text), markdown.FrontMatterError)
    draft = outcome(lambda: practices.parse_file(text, "CC-BY-SA-4.0"), CommandError)
    if isinstance(draft, Exception):
        assert reason(draft)
        return
    assert draft.title
    assert all(1 <= t <= 7 for t in draft.themes)


@given(value=st.text(max_size=20) | st.integers() | st.none() | JSON)
def test_themes_parse_or_refuse(value: Any) -> None:
    try:
        number = themes.parse_theme(value)
    except themes.UnknownTheme:
        return
    assert 1 <= number <= 7


COMMITMENT_KEYS = ["number", "progress", "statement", "actions", "evidence", "junk"]
TOP_KEYS = ["charter_version", "signed_on", "summary", "storage_country", "host", "retention",
            "terms_url", "junk"]  # fmt: skip


def _toml(top: dict[str, Any], tables: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [f"{key} = {toml_value(value)}" for key, value in top.items()]
    for name, table in tables:
        lines.append(f"[[{name}]]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table.items())
    return "\n".join(lines) + "\n"


TABLES = st.lists(
    st.tuples(
        st.sampled_from(["commitments", "data", "external_uses", "other"]),
        st.dictionaries(st.sampled_from([*COMMITMENT_KEYS, "what", "why", "who", "consent"]),
                        TOML_VALUES, max_size=5),
    ),
    max_size=3,
)  # fmt: skip


@given(top=st.dictionaries(st.sampled_from(TOP_KEYS), TOML_VALUES, max_size=6), tables=TABLES)
def test_commitments_and_policy_files_parse_or_give_one_line(
    top: dict[str, Any], tables: list[tuple[str, dict[str, Any]]]
) -> None:
    text = _toml(top, tables)
    for parse in (commitments.parse_file, policy.parse_file):
        result = outcome(lambda: parse(text), CommandError)  # noqa: B023
        if isinstance(result, CommandError):
            assert result.reason


@given(text=st.text(max_size=80))
def test_commitments_and_policy_refuse_any_text(text: str) -> None:
    for parse in (commitments.parse_file, policy.parse_file):
        result = outcome(lambda: parse(text), CommandError)  # noqa: B023
        if isinstance(result, CommandError):
            assert result.reason


SECTIONS = ["server", "database", "signatures", "inbox", "delivery", "fetch", "content",
            "trust", "directory", "nowhere"]  # fmt: skip
SETTING_KEYS = ["dev", "port", "host", "max_body_bytes", "per_actor_per_second", "concurrency",
                "timeout_seconds", "allowed_domains", "members_only", "depth", "url",
                "busy_timeout_ms", "max_redirects", "breaker_seconds", "language",
                "unknown"]  # fmt: skip


@given(
    sections=st.dictionaries(
        st.sampled_from(SECTIONS),
        st.dictionaries(st.sampled_from(SETTING_KEYS), TOML_VALUES, max_size=4),
        max_size=4,
    ),
    env=st.dictionaries(
        st.sampled_from(["DECLICS_INBOX__MAX_BODY_BYTES", "DECLICS_SERVER__DEV",
                         "DECLICS_DELIVERY__TIMEOUT_SECONDS", "DECLICS_TRUST__ALLOWED_DOMAINS"]),
        st.text(max_size=10) | TOML_SCALARS.map(str),
        max_size=2,
    ),
)  # fmt: skip
def test_settings_load_or_give_one_line(
    sections: dict[str, dict[str, Any]], env: dict[str, str], tmp_path_factory: Any
) -> None:
    folder: Path = tmp_path_factory.mktemp("settings", numbered=True)
    text = "".join(
        f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items())
        for name, keys in sections.items()
    )
    (folder / CONFIG_NAME).write_text(text, encoding="utf-8")
    loaded = outcome(lambda: load_settings(folder, env), CommandError)
    if isinstance(loaded, Exception):
        assert "\n" not in reason(loaded)
        return
    assert loaded.inbox.max_body_bytes >= 1
    assert 0 < loaded.delivery.timeout_seconds < float("inf")


def test_fuzz_keys_cover_the_vocabulary_we_read() -> None:
    # The AS2 keys the strategies use include every key the inbox reads first.
    assert {"id", "type", "actor", "object", "to", "cc", "bto", "bcc", "audience"} <= set(AS_KEYS)
    assert base64.b64encode(b"x")
