"""Actor documents, HTML in and out, keys, address checks and handles."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import keypairs
from federation.actors.webfinger import Handle, parse_handle
from federation.clock import SystemClock
from federation.settings import ServerSettings, Settings
from federation.transport.addresses import is_ip_literal, is_public_address
from federation.transport.client import FederationClient, FetchError
from federation.vocab.build import ActorProfile, ActorUrls, actor_document, text_to_html
from federation.vocab.constants import AS_CONTEXT, SECURITY_CONTEXT
from federation.vocab.normalize import parse_actor
from federation.vocab.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize_html
from federation.vocab.serialize import to_json_bytes

RSA_KEY = keypairs.generate_rsa()
ED_KEY = keypairs.generate_ed25519()
BASE = "https://coop.example"
ACTOR_ID = f"{BASE}/users/collectif"
PUBLISHED = datetime(2026, 3, 2, 9, 30, 12, tzinfo=UTC)


def profile(**overrides: object) -> ActorProfile:
    values: dict[str, object] = {
        "urls": ActorUrls(BASE, "collectif"),
        "actor_type": "Organization",
        "name": "Le Collectif",
        "summary_html": "<p>Coopérative</p>",
        "handle": "collectif@coop.example",
        "rsa_public_pem": keypairs.public_to_pem(RSA_KEY.public_key()),
        "ed25519_multibase": keypairs.public_to_multibase(ED_KEY.public_key()),
        "manually_approves_followers": False,
        "published": PUBLISHED,
        "icon_url": "https://coop.example/logo.png",
        "fields": [("Site", '<a href="https://coop.example">coop.example</a>')],
    }
    values.update(overrides)
    return ActorProfile(**values)  # type: ignore[arg-type]


# --- actor documents ----------------------------------------------------------------


def test_actor_document_has_what_mastodon_reads() -> None:
    doc = actor_document(profile())
    context = doc["@context"]
    assert context[0] == AS_CONTEXT
    assert SECURITY_CONTEXT in context
    assert SECURITY_CONTEXT == "https://w3id.org/security/v1"
    terms = next(item for item in context if isinstance(item, dict))
    for term in ("manuallyApprovesFollowers", "discoverable", "indexable", "PropertyValue"):
        assert term in terms

    assert doc["id"] == ACTOR_ID
    assert doc["type"] == "Organization"
    assert doc["preferredUsername"] == "collectif"
    assert doc["name"] == "Le Collectif"
    assert doc["inbox"] == f"{ACTOR_ID}/inbox"
    assert doc["outbox"] == f"{ACTOR_ID}/outbox"
    assert doc["followers"] == f"{ACTOR_ID}/followers"
    assert doc["following"] == f"{ACTOR_ID}/following"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["url"] == f"{BASE}/@collectif"
    assert doc["webfinger"] == "collectif@coop.example"

    key = doc["publicKey"]
    assert key["id"] == f"{ACTOR_ID}#main-key"
    assert key["owner"] == ACTOR_ID
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")

    (multikey,) = doc["assertionMethod"]
    assert multikey["type"] == "Multikey"
    assert multikey["id"] == f"{ACTOR_ID}#ed25519-key"
    assert multikey["controller"] == ACTOR_ID
    assert multikey["publicKeyMultibase"].startswith("z6Mk")

    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True
    assert doc["indexable"] is True
    assert doc["published"] == "2026-03-02T00:00:00Z"
    assert doc["attachment"] == [
        {
            "type": "PropertyValue",
            "name": "Site",
            "value": '<a href="https://coop.example">coop.example</a>',
        }
    ]
    assert doc["icon"] == {"type": "Image", "url": "https://coop.example/logo.png"}
    assert "image" not in doc
    assert to_json_bytes(doc)  # serialisable as it is


def test_actor_document_parses_back() -> None:
    parsed = parse_actor(actor_document(profile(manually_approves_followers=True)))
    assert parsed.id == ACTOR_ID
    assert parsed.type == "Organization"
    assert parsed.preferred_username == "collectif"
    assert parsed.name == "Le Collectif"
    assert parsed.inbox == f"{ACTOR_ID}/inbox"
    assert parsed.outbox == f"{ACTOR_ID}/outbox"
    assert parsed.shared_inbox == f"{BASE}/inbox"
    assert parsed.followers == f"{ACTOR_ID}/followers"
    assert parsed.following == f"{ACTOR_ID}/following"
    assert parsed.url == f"{BASE}/@collectif"
    assert parsed.icon_url == "https://coop.example/logo.png"
    assert parsed.manually_approves_followers is True
    assert parsed.discoverable is True
    assert parsed.webfinger == "collectif@coop.example"

    (key,) = parsed.keys
    assert (key.id, key.owner) == (f"{ACTOR_ID}#main-key", ACTOR_ID)
    public = keypairs.public_from_pem(key.pem)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == RSA_KEY.public_key().public_numbers()

    (multikey,) = parsed.multikeys
    assert (multikey.id, multikey.controller) == (f"{ACTOR_ID}#ed25519-key", ACTOR_ID)
    ed = keypairs.public_from_multibase(multikey.multibase)
    assert isinstance(ed, ed25519.Ed25519PublicKey)
    assert raw(ed) == raw(ED_KEY.public_key())


def test_application_actor_urls() -> None:
    urls = ActorUrls("https://coop.example", "coop.example", application=True)
    assert urls.id == "https://coop.example/actor"
    assert urls.key_id == "https://coop.example/actor#main-key"
    assert urls.inbox == "https://coop.example/actor/inbox"
    assert urls.shared_inbox == "https://coop.example/inbox"
    assert urls.profile == urls.id
    doc = actor_document(profile(urls=urls, actor_type="Application", fields=[]))
    assert parse_actor(doc).type == "Application"
    assert doc["attachment"] == []


# --- text to HTML -------------------------------------------------------------------------


class Tags(HTMLParser):
    """Collects start tags with their attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def parse_html(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def test_text_to_html_escapes_markup() -> None:
    html = text_to_html("<script>alert('x')</script> & co")
    assert html == "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co</p>"
    assert [tag for tag, _ in parse_html(html).tags] == ["p"]


def test_text_to_html_linkifies_urls() -> None:
    html = text_to_html("Agenda : https://coop.example/agenda?mois=3&an=2026 à voir")
    parsed = parse_html(html)
    assert [tag for tag, _ in parsed.tags] == ["p", "a"]
    attrs = parsed.tags[1][1]
    assert attrs["href"] == "https://coop.example/agenda?mois=3&an=2026"
    assert attrs["rel"] == "nofollow noopener"
    assert parsed.text == "Agenda : https://coop.example/agenda?mois=3&an=2026 à voir"


def test_text_to_html_link_cannot_break_out_of_its_attribute() -> None:
    html = text_to_html('https://x.example/"onmouseover="alert(1) http://y.example/<b>')
    for tag, attrs in parse_html(html).tags:
        assert tag in {"p", "a"}
        assert set(attrs) <= {"href", "rel"}
    assert "<b>" not in html


def test_text_to_html_paragraphs_and_line_breaks() -> None:
    assert text_to_html("un\ndeux\n\n\ntrois\n") == "<p>un<br>deux</p><p>trois</p>"
    assert text_to_html("  \n\n ") == ""


# --- sanitising remote HTML -------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>bonjour",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>bonjour",
    "<img src=x onerror=alert(1)>bonjour",
    '<a href="javascript:alert(1)">bonjour</a>',
    '<a href="JaVaScRiPt:alert(1)">bonjour</a>',
    '<a href="&#106;avascript&#58;alert(1)">bonjour</a>',
    '<a href=" javascript:alert(1)">bonjour</a>',
    '<a href="vbscript:msgbox(1)">bonjour</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">bonjour</a>',
    '<p onclick="alert(1)">bonjour</p>',
    '<span class="h-card" onmouseover="alert(1)" style="position:fixed">bonjour</span>',
    '<iframe src="https://evil.example/"></iframe>bonjour',
    "<svg onload=alert(1)><script>alert(1)</script></svg>bonjour",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>bonjour',
    "<style>p{background:url(javascript:alert(1))}</style>bonjour",
    '<form action="https://evil.example/"><input name="password"></form>bonjour',
    '<object data="https://evil.example/x.swf"></object><embed src="x">bonjour',
    "<!-- <script>alert(1)</script> -->bonjour",
    "<scr<script>ipt>alert(1)</script>bonjour",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">bonjour',
    '<base href="javascript:/">bonjour',
    '<a href="https://ok.example/" target="_blank" onfocus="alert(1)">bonjour</a>',
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_sanitize_html_removes_hostile_markup(hostile: str) -> None:
    clean = sanitize_html(hostile)
    lowered = clean.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert "vbscript:" not in lowered
    parsed = parse_html(clean)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS
        for name, value in attrs.items():
            assert not name.startswith("on")
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) or (tag, name) == ("a", "rel")
            if name == "href":
                assert value is not None
                assert value.startswith(("http://", "https://", "mailto:"))
    assert "bonjour" in parsed.text


def test_sanitize_html_keeps_harmless_markup() -> None:
    html = (
        '<p>Salut <span class="h-card"><a href="https://b.example/@bob">@bob</a></span>'
        '<br><strong>gras</strong> <em>it</em></p><ol start="3"><li>x</li></ol>'
    )
    parsed = parse_html(sanitize_html(html))
    tags = dict(parsed.tags)
    assert tags["a"]["href"] == "https://b.example/@bob"
    assert tags["a"]["rel"] == "nofollow noopener noreferrer ugc"
    assert tags["span"] == {"class": "h-card"}
    assert tags["ol"] == {"start": "3"}
    assert {"p", "br", "strong", "em", "li"} <= set(tags)
    assert parsed.text == "Salut @bobgras itx"


# --- keys -----------------------------------------------------------------------------------


def raw(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_multibase_round_trip_ed25519() -> None:
    public = ED_KEY.public_key()
    text = keypairs.public_to_multibase(public)
    assert text.startswith("z6Mk")
    back = keypairs.public_from_multibase(text)
    assert isinstance(back, ed25519.Ed25519PublicKey)
    assert raw(back) == raw(public)


def test_multibase_round_trip_rsa() -> None:
    public = RSA_KEY.public_key()
    text = keypairs.public_to_multibase(public)
    assert text.startswith("z")
    back = keypairs.public_from_multibase(text)
    assert isinstance(back, rsa.RSAPublicKey)
    assert back.public_numbers() == public.public_numbers()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "u7QE",  # base64url multibase: not supported
        "z0OIl",  # not base58
        "z" + "1" * 10,  # zeros: no known codec
        "z6Mk",  # truncated Ed25519
    ],
)
def test_bad_multibase_is_refused(text: str) -> None:
    with pytest.raises(keypairs.KeyFormatError):
        keypairs.public_from_multibase(text)


def test_base58_keeps_leading_zero_bytes() -> None:
    data = b"\0\0\x01\x02\xff"
    encoded = keypairs.b58encode(data)
    assert encoded.startswith("11")
    assert keypairs.b58decode(encoded) == data


@pytest.mark.parametrize(
    "mangle",
    [
        lambda pem: pem.replace("\n", " "),
        lambda pem: pem.strip(),
        lambda pem: pem.replace("\n", "\r\n"),
        lambda pem: "  " + pem.replace("\n", "") + "\n\n",
    ],
    ids=["spaces", "no-final-newline", "crlf", "one-line"],
)
def test_public_from_pem_tolerates_layout(mangle: object) -> None:
    assert callable(mangle)
    rsa_pem = keypairs.public_to_pem(RSA_KEY.public_key())
    rsa_back = keypairs.public_from_pem(mangle(rsa_pem))
    assert isinstance(rsa_back, rsa.RSAPublicKey)
    assert rsa_back.public_numbers() == RSA_KEY.public_key().public_numbers()
    ed_back = keypairs.public_from_pem(mangle(keypairs.public_to_pem(ED_KEY.public_key())))
    assert isinstance(ed_back, ed25519.Ed25519PublicKey)
    assert raw(ed_back) == raw(ED_KEY.public_key())


def test_public_from_pem_reads_pkcs1_rsa() -> None:
    pkcs1 = (
        RSA_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode("ascii")
    )
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    back = keypairs.public_from_pem(pkcs1.replace("\n", " "))
    assert isinstance(back, rsa.RSAPublicKey)
    assert back.public_numbers() == RSA_KEY.public_key().public_numbers()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        "-----BEGIN PUBLIC KEY-----\nüü\n-----END PUBLIC KEY-----",
    ],
)
def test_public_from_pem_refuses_garbage(text: str) -> None:
    with pytest.raises(keypairs.KeyFormatError):
        keypairs.public_from_pem(text)


def test_private_pem_round_trip() -> None:
    for key in (RSA_KEY, ED_KEY):
        back = keypairs.private_from_pem(keypairs.private_to_pem(key))
        assert type(back.public_key()) is type(key.public_key())
        assert keypairs.public_to_pem(back.public_key()) == keypairs.public_to_pem(key.public_key())


# --- addresses and URLs we may contact -------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.10.20.30",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "172.31.255.255",
        "169.254.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "100.64.0.1",
        "192.0.2.1",
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "2001:db8::1",
        "coop.example",
        "",
        "[::1]",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert is_public_address(address) is False


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_accepted(address: str) -> None:
    assert is_public_address(address) is True


def test_is_ip_literal() -> None:
    assert is_ip_literal("127.0.0.1")
    assert is_ip_literal("[::1]")
    assert is_ip_literal("::1")
    assert not is_ip_literal("coop.example")
    assert not is_ip_literal("localhost")


# tests/conftest.py wraps check_url with a loopback-only guard for every test; these
# tests are about the real check (a pure function: no request is made), taken here
# at import, before any fixture runs.
CHECK_URL = FederationClient.__dict__["check_url"]
assert CHECK_URL.__qualname__ == "FederationClient.check_url"


def check_url(tmp_path: Path, url: str, *, dev: bool) -> None:
    settings = Settings(data_dir=tmp_path, server=ServerSettings(dev=dev))
    CHECK_URL(FederationClient(settings, SystemClock()), url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://coop.example/inbox", "plain http"),
        ("https://127.0.0.1/inbox", "private or loopback"),
        ("https://127.0.0.1:8443/inbox", "private or loopback"),
        ("https://[::1]/inbox", "private or loopback"),
        ("https://[::ffff:127.0.0.1]/inbox", "private or loopback"),
        ("https://10.1.2.3/inbox", "private or loopback"),
        ("https://169.254.169.254/latest/meta-data/", "private or loopback"),
        ("https://0.0.0.0/", "private or loopback"),
        ("https://localhost/inbox", "private or loopback"),
        ("https://LOCALHOST:8443/inbox", "private or loopback"),
        ("https://api.localhost/inbox", "private or loopback"),
        ("https://user:secret@coop.example/inbox", "credentials"),
        ("https://user@coop.example/inbox", "credentials"),
        ("ftp://coop.example/inbox", "not an http(s) URL"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("https:///inbox", "not an http(s) URL"),
        ("coop.example/inbox", "not an http(s) URL"),
    ],
)
def test_check_url_refuses_outside_dev(tmp_path: Path, url: str, words: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(tmp_path, url, dev=False)
    assert words in caught.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "https://coop.example/inbox",
        "https://coop.example:8443/users/a?page=1",
        "https://8.8.8.8/inbox",
        "https://[2001:4860:4860::8888]/inbox",
    ],
)
def test_check_url_allows_public_https(tmp_path: Path, url: str) -> None:
    check_url(tmp_path, url, dev=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/inbox",
        "http://127.0.0.5:9000/users/a/inbox",
        "http://[::1]:8000/inbox",
        "http://localhost:8000/inbox",
        "https://10.0.0.1/inbox",
        "http://coop.example/inbox",
    ],
)
def test_check_url_allows_loopback_http_in_dev(tmp_path: Path, url: str) -> None:
    check_url(tmp_path, url, dev=True)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://user:pw@127.0.0.1:8000/", "credentials"),
        ("ftp://127.0.0.1/", "not an http(s) URL"),
    ],
)
def test_check_url_dev_still_refuses(tmp_path: Path, url: str, words: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(tmp_path, url, dev=True)
    assert words in caught.value.reason


# --- handles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice@coop.example", Handle("alice", "coop.example")),
        ("alice@coop.example", Handle("alice", "coop.example")),
        ("acct:alice@coop.example", Handle("alice", "coop.example")),
        ("ACCT:alice@Coop.Example", Handle("alice", "coop.example")),
        ("  @alice@coop.example\n", Handle("alice", "coop.example")),
        ("@alice@127.0.0.1:8000", Handle("alice", "127.0.0.1:8000")),
        ("Alice.B-c@coop.example", Handle("Alice.B-c", "coop.example")),
    ],
)
def test_parse_handle_forms(text: str, expected: Handle) -> None:
    handle = parse_handle(text)
    assert handle == expected
    assert str(handle) == f"{expected.username}@{expected.domain}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "alice",
        "@alice",
        "alice@",
        "@alice@",
        "@@coop.example",
        "a@b@c.example",
        "al ice@coop.example",
        "alice@coop.example/users",
        "https://coop.example/users/alice",
        "acct:",
    ],
)
def test_parse_handle_refuses(text: str) -> None:
    assert parse_handle(text) is None


def test_text_to_html_leaves_trailing_punctuation_out_of_links() -> None:
    html = text_to_html("Voir https://coop.example/agenda. Ou (https://coop.example/a), merci")
    hrefs = [attrs["href"] for tag, attrs in parse_html(html).tags if tag == "a"]
    assert hrefs == ["https://coop.example/agenda", "https://coop.example/a"]
