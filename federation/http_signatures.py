"""HTTP signatures: draft-cavage-12 (Mastodon style) and RFC 9421 message signatures.

This is the only module that signs or verifies HTTP requests. It is pure: it never
touches the network or the database, and works on a plain `HttpRequest` value that
the web layer builds from what it received.

Verification is split in three steps so the caller can do the cheap ones before
fetching a key: `parse_signature` (syntax, signing base), `check_request` (coverage,
time window, body digest) and `verify_signature` (cryptography, needs the key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.keypairs import PrivateKey, PublicKey

__all__ = [
    "HttpRequest",
    "ParsedSignature",
    "SignatureError",
    "check_request",
    "content_digest_header",
    "digest_header",
    "parse_signature",
    "request_host",
    "sign_cavage",
    "sign_rfc9421",
    "verify_signature",
]

# Mastodon accepts only these two for cavage; "ed25519" is what some servers declare
# for Ed25519 keys (draft-cavage-10 era), harmless to parse.
_CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019", "ed25519"})
_RFC9421_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 9530 / RFC 3230 digest names -> hashlib names.
_DIGEST_HASHES = {"sha-256": "sha256", "sha-512": "sha512"}
# Derived components we can compute for a request (no @query-param, no @status).
_DERIVED = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
    }
)


class SignatureError(Exception):
    """Verification or parsing failed; .reason is a short sentence for the 401 body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HttpRequest:
    """A request as the receiver (or sender) sees it; header look-ups ignore case."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class ParsedSignature:
    """A syntactically valid signature and the exact bytes it claims to sign."""

    scheme: Literal["cavage", "rfc9421"]
    key_id: str
    algorithm: str | None
    components: tuple[str, ...]
    signature: bytes
    signing_base: bytes
    created: datetime
    expires: datetime | None
    # Cavage only: the signing string with a query-less (request-target). Misskey and
    # Mastodon <= 4.3 sign the path alone, so a verifier must try both forms.
    fallback_base: bytes | None = field(default=None, compare=False)


# --------------------------------------------------------------------------- helpers


def request_host(url: str) -> str:
    """Host of `url` as sent in a Host header: lower-case, port only if non-default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"not an absolute URL: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def digest_header(body: bytes) -> str:
    """Value of a draft-cavage `Digest` header for `body`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """Value of an RFC 9530 `Content-Digest` header for `body`."""
    encoded = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    return f"sha-256=:{encoded}:"


def _http_date(now: datetime) -> str:
    return format_datetime(_aware(now).astimezone(UTC), usegmt=True)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _field_value(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise SignatureError(f"covered header {name!r} is missing")
    if "\n" in value or "\r" in value:
        # A raw line break would let a value forge extra lines in the signing base.
        raise SignatureError(f"header {name!r} contains a line break")
    return value.strip(" \t")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise SignatureError(f"{what} is not valid base64") from err


def _timestamp(value: int | float, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise SignatureError(f"{what} is out of range") from err


def _parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as err:
        raise SignatureError("Date header is not a valid HTTP date") from err
    if parsed.tzinfo is None:  # "-0000" means UTC with unknown origin
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _encode_base(lines: list[str]) -> bytes:
    try:
        return "\n".join(lines).encode("utf-8")
    except UnicodeEncodeError as err:
        raise SignatureError("signed values are not valid text") from err


@dataclass(frozen=True)
class _Target:
    """Pieces of the request URL that signatures cover."""

    scheme: str
    authority: str
    path: str
    query: str | None  # None when the URL has no "?" at all

    @classmethod
    def of(cls, url: str) -> _Target:
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"not an absolute URL: {url!r}")
        has_query = "?" in url.split("#", 1)[0]
        return cls(
            scheme=parts.scheme.lower(),
            authority=request_host(url),
            path=parts.path or "/",
            query=parts.query if has_query else None,
        )

    @property
    def request_target(self) -> str:
        return self.path if self.query is None else f"{self.path}?{self.query}"

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.authority}{self.request_target}"


# ------------------------------------------------------------- RFC 8941 (subset)


class _Token(str):
    """An sf-token: serialised bare, unlike an sf-string."""

    __slots__ = ()


_BareItem = int | str | bytes  # bool is an int; _Token is a str
_Params = dict[str, _BareItem]


@dataclass(frozen=True)
class _Item:
    value: _BareItem
    params: _Params


@dataclass(frozen=True)
class _InnerList:
    items: tuple[_Item, ...]
    params: _Params


class _SFError(ValueError):
    """Structured-field syntax error (turned into a SignatureError by callers)."""


_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_INT_RE = re.compile(r"-?[0-9]{1,15}")
_BYTES_RE = re.compile(r":([A-Za-z0-9+/=]*):")


class _SFParser:
    """Parser for RFC 8941 dictionaries; decimals and RFC 9651 extensions rejected."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def _match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise _SFError(f"expected {what} at offset {self.pos}")
        self.pos = match.end()
        return match

    def dictionary(self) -> dict[str, _Item | _InnerList]:
        self._skip(" ")
        members: dict[str, _Item | _InnerList] = {}
        while self.pos < len(self.text):
            key = self._match(_KEY_RE, "a key").group()
            if key in members:
                raise _SFError(f"duplicate key {key!r}")
            if self._peek() == "=":
                self.pos += 1
                members[key] = self._item_or_inner_list()
            else:
                members[key] = _Item(True, self._params())
            self._skip(" \t")
            if self.pos == len(self.text):
                break
            if self._peek() != ",":
                raise _SFError(f"expected ',' at offset {self.pos}")
            self.pos += 1
            self._skip(" \t")
            if self.pos == len(self.text):
                raise _SFError("trailing comma")
        return members

    def _item_or_inner_list(self) -> _Item | _InnerList:
        if self._peek() != "(":
            return _Item(self._bare_item(), self._params())
        self.pos += 1
        items: list[_Item] = []
        while True:
            self._skip(" ")
            if self._peek() == ")":
                self.pos += 1
                return _InnerList(tuple(items), self._params())
            items.append(_Item(self._bare_item(), self._params()))
            if self._peek() not in (" ", ")"):
                raise _SFError(f"bad inner list at offset {self.pos}")

    def _params(self) -> _Params:
        params: _Params = {}
        while self._peek() == ";":
            self.pos += 1
            self._skip(" ")
            key = self._match(_KEY_RE, "a parameter name").group()
            if key in params:
                raise _SFError(f"duplicate parameter {key!r}")
            value: _BareItem = True
            if self._peek() == "=":
                self.pos += 1
                value = self._bare_item()
            params[key] = value
        return params

    def _bare_item(self) -> _BareItem:
        char = self._peek()
        if char == "-" or char.isdigit():
            number = int(self._match(_INT_RE, "an integer").group())
            if self._peek() == ".":
                raise _SFError("decimals are not supported")
            return number
        if char == '"':
            return self._string()
        if char == ":":
            raw = self._match(_BYTES_RE, "a byte sequence").group(1)
            try:
                return base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as err:
                raise _SFError("bad base64 in byte sequence") from err
        if char == "?":
            flag = self.text[self.pos : self.pos + 2]
            if flag not in ("?0", "?1"):
                raise _SFError(f"bad boolean at offset {self.pos}")
            self.pos += 2
            return flag == "?1"
        return _Token(self._match(_TOKEN_RE, "an item").group())

    def _string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self._peek()
                if escaped not in ('"', "\\") or not escaped:
                    raise _SFError("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise _SFError("non-printable character in string")
            else:
                out.append(char)
        raise _SFError("unterminated string")


def _parse_sf_dictionary(text: str) -> dict[str, _Item | _InnerList]:
    return _SFParser(text.strip(" \t")).dictionary()


def _ser_bare(value: _BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, _Token):
        return str(value)
    if not all(" " <= char <= "~" for char in value):
        raise ValueError(f"cannot serialise {value!r} as a structured-field string")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ser_params(params: _Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_ser_bare(value)}"
        for key, value in params.items()
    )


def _ser_inner_list(inner: _InnerList) -> str:
    items = " ".join(_ser_bare(i.value) + _ser_params(i.params) for i in inner.items)
    return f"({items}){_ser_params(inner.params)}"


# ------------------------------------------------------------------ draft-cavage

_AUTH_PARAM_RE = re.compile(
    r"""\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*
    (?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+\-.^_`|~0-9A-Za-z]+))\s*""",
    re.VERBOSE,
)


def _parse_auth_params(raw: str) -> dict[str, str]:
    """Auth-params of a cavage Signature value; names are lower-cased."""
    text = raw.strip()
    # Authorization: Signature ..., and old node-http-signature wrongly sent that
    # prefix inside the Signature header too.
    if text[:10].lower() == "signature ":
        text = text[10:]
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _AUTH_PARAM_RE.match(text, pos)
        if match is None:
            raise SignatureError("unparseable signature header")
        name = match.group(1).lower()
        if name in params:
            raise SignatureError(f"duplicate signature parameter {name!r}")
        quoted = match.group(2)
        if quoted is None:
            params[name] = match.group(3)
        else:
            params[name] = re.sub(r"\\(.)", r"\1", quoted) if "\\" in quoted else quoted
        pos = match.end()
        if pos < len(text):
            if text[pos] != ",":
                raise SignatureError("unparseable signature header")
            pos += 1
    return params


def _cavage_line(
    name: str, request: HttpRequest, headers: Mapping[str, str], params: dict[str, str]
) -> str:
    if name == "(request-target)":
        target = _Target.of(request.url).request_target
        return f"(request-target): {request.method.lower()} {target}"
    if name in ("(created)", "(expires)"):
        value = params.get(name[1:-1])
        if value is None:
            raise SignatureError(f"{name} is covered but its parameter is missing")
        return f"{name}: {value}"
    return f"{name}: {_field_value(headers, name)}"


def _cavage_created(
    components: tuple[str, ...], params: dict[str, str], headers: Mapping[str, str]
) -> datetime:
    if "(created)" in components:
        if not re.fullmatch(r"[0-9]{1,15}", params["created"]):
            raise SignatureError("created parameter is not an integer")
        return _timestamp(int(params["created"]), "created parameter")
    date = headers.get("date")
    if date is None:
        raise SignatureError("signature has no Date header nor (created)")
    return _parse_http_date(date)


def _cavage_expires(components: tuple[str, ...], params: dict[str, str]) -> datetime | None:
    if "(expires)" not in components:
        return None
    if not re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,9})?", params["expires"]):
        raise SignatureError("expires parameter is not a number")
    return _timestamp(float(params["expires"]), "expires parameter")


def _parse_cavage(request: HttpRequest, headers: dict[str, str], raw: str) -> ParsedSignature:
    params = _parse_auth_params(raw)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureError("signature has no keyId")
    if "signature" not in params:
        raise SignatureError("signature has no signature parameter")
    signature = _b64decode(params["signature"], "signature")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in _CAVAGE_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    default = "(created)" if algorithm == "hs2019" else "date"
    components = tuple(params.get("headers", default).lower().split())
    if not components:
        raise SignatureError("signature covers no headers")
    if len(set(components)) != len(components):
        raise SignatureError("signature lists a header twice")
    if algorithm != "hs2019" and {"(created)", "(expires)"} & set(components):
        raise SignatureError("(created) and (expires) require algorithm hs2019")

    lines = [_cavage_line(name, request, headers, params) for name in components]
    return ParsedSignature(
        scheme="cavage",
        key_id=key_id,
        algorithm=algorithm,
        components=components,
        signature=signature,
        signing_base=_encode_base(lines),
        created=_cavage_created(components, params, headers),
        expires=_cavage_expires(components, params),
        fallback_base=_pathonly_base(request, components, lines),
    )


def _pathonly_base(
    request: HttpRequest, components: tuple[str, ...], lines: list[str]
) -> bytes | None:
    target = _Target.of(request.url)
    if "(request-target)" not in components or target.query is None:
        return None
    index = components.index("(request-target)")
    alternative = list(lines)
    alternative[index] = f"(request-target): {request.method.lower()} {target.path}"
    return _encode_base(alternative)


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: rsa.RSAPrivateKey,
    now: datetime,
    digest: str | None = None,
) -> dict[str, str]:
    """Sign a request draft-cavage style, as Mastodon does.

    Returns the headers to add to (or replace on) the request: Host, Date, Digest
    (when `body` is not None) and Signature. The covered set is fixed to
    `(request-target) host date [digest]`, which every known verifier accepts;
    `headers` (the request's other headers) is therefore not covered. `digest` is
    `digest_header(body)` when the caller has it already (a fan-out sends one body
    many times).
    """
    if '"' in key_id or "\\" in key_id:
        raise ValueError("keyId must not contain quotes or backslashes")
    added = {"Host": request_host(url), "Date": _http_date(now)}
    covered = ["(request-target)", "host", "date"]
    if body is not None:
        added["Digest"] = digest or digest_header(body)
        covered.append("digest")
    merged = _lowered(headers) | _lowered(added)
    request = HttpRequest(method, url, merged, body or b"")
    lines = [_cavage_line(name, request, merged, {}) for name in covered]
    raw = private_key.sign(_encode_base(lines), padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return added


# ---------------------------------------------------------------------- RFC 9421


def _derived_value(name: str, request: HttpRequest) -> str:
    target = _Target.of(request.url)
    values = {
        "@method": request.method.upper(),
        "@target-uri": target.uri,
        "@authority": target.authority,
        "@scheme": target.scheme,
        "@request-target": target.request_target,
        "@path": target.path,
        "@query": "?" + (target.query or ""),
    }
    return values[name]


def _component_name(item: _Item) -> str:
    value = item.value
    if not isinstance(value, str) or isinstance(value, _Token):
        raise SignatureError("covered components must be quoted strings")
    if item.params:
        raise SignatureError(f"unsupported parameters on component {value!r}")
    if value != value.lower():
        raise SignatureError(f"component {value!r} is not lower-case")
    if value.startswith("@") and value not in _DERIVED:
        raise SignatureError(f"unsupported derived component {value!r}")
    if value == "@signature-params":
        raise SignatureError("@signature-params cannot be covered")
    return value


def _rfc9421_base(
    request: HttpRequest, headers: Mapping[str, str], inner: _InnerList
) -> tuple[tuple[str, ...], bytes]:
    components = tuple(_component_name(item) for item in inner.items)
    if len(set(components)) != len(components):
        raise SignatureError("signature covers a component twice")
    lines = [
        f'"{name}": '
        + (_derived_value(name, request) if name.startswith("@") else _field_value(headers, name))
        for name in components
    ]
    lines.append(f'"@signature-params": {_ser_inner_list(inner)}')
    return components, _encode_base(lines)


def _select_rfc9421(headers: Mapping[str, str]) -> tuple[str, _InnerList, bytes]:
    """First Signature-Input member, with its Signature bytes."""
    try:
        inputs = _parse_sf_dictionary(headers["signature-input"])
    except _SFError as err:
        raise SignatureError(f"malformed Signature-Input header: {err}") from err
    if not inputs:
        raise SignatureError("Signature-Input header is empty")
    label, inner = next(iter(inputs.items()))
    if not isinstance(inner, _InnerList):
        raise SignatureError(f"Signature-Input member {label!r} is not an inner list")
    if "signature" not in headers:
        raise SignatureError("Signature-Input without a Signature header")
    try:
        signatures = _parse_sf_dictionary(headers["signature"])
    except _SFError as err:
        raise SignatureError(f"malformed Signature header: {err}") from err
    member = signatures.get(label)
    if not isinstance(member, _Item) or not isinstance(member.value, bytes):
        raise SignatureError(f"Signature header has no byte sequence for {label!r}")
    return label, inner, member.value


def _param(params: _Params, name: str, kind: type[int] | type[str]) -> _BareItem | None:
    value = params.get(name)
    if value is None:
        return None
    wrong_int = kind is int and (not isinstance(value, int) or isinstance(value, bool))
    wrong_str = kind is str and (not isinstance(value, str) or isinstance(value, _Token))
    if wrong_int or wrong_str:
        raise SignatureError(f"signature parameter {name!r} has the wrong type")
    return value


def _parse_rfc9421(request: HttpRequest, headers: dict[str, str]) -> ParsedSignature:
    _label, inner, signature = _select_rfc9421(headers)
    for name, kind in (("nonce", str), ("tag", str)):
        _param(inner.params, name, kind)
    created = _param(inner.params, "created", int)
    key_id = _param(inner.params, "keyid", str)
    expires = _param(inner.params, "expires", int)
    alg = _param(inner.params, "alg", str)
    if not isinstance(created, int):
        raise SignatureError("signature has no created parameter")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("signature has no keyid parameter")
    if alg is not None and alg not in _RFC9421_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {alg!r}")
    components, base = _rfc9421_base(request, headers, inner)
    return ParsedSignature(
        scheme="rfc9421",
        key_id=key_id,
        algorithm=alg if isinstance(alg, str) else None,
        components=components,
        signature=signature,
        signing_base=base,
        created=_timestamp(created, "created parameter"),
        expires=_timestamp(expires, "expires parameter") if isinstance(expires, int) else None,
    )


def _rfc9421_alg(private_key: PrivateKey) -> str:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "rsa-v1_5-sha256"
    return "ed25519"


def _sign_bytes(private_key: PrivateKey, data: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return private_key.sign(data)


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    now: datetime,
    label: str = "sig1",
    content_digest: str | None = None,
) -> dict[str, str]:
    """Sign a request with RFC 9421, as Mastodon 4.7 and Fedify do.

    Covers `@method @target-uri` plus `content-digest` when `body` is not None;
    parameters are created, keyid and alg. Returns the headers to add: Content-Digest
    (with a body), Signature-Input and Signature. `headers` is not covered.
    `content_digest` is `content_digest_header(body)` when the caller has it already.
    """
    if not _KEY_RE.fullmatch(label):
        raise ValueError(f"invalid signature label {label!r}")
    added: dict[str, str] = {}
    names = ["@method", "@target-uri"]
    if body is not None:
        added["Content-Digest"] = content_digest or content_digest_header(body)
        names.append("content-digest")
    params: _Params = {
        "created": int(_aware(now).timestamp()),
        "keyid": key_id,
        "alg": _rfc9421_alg(private_key),
    }
    inner = _InnerList(tuple(_Item(name, {}) for name in names), params)
    merged = _lowered(headers) | _lowered(added)
    _, base = _rfc9421_base(HttpRequest(method, url, merged, body or b""), merged, inner)
    raw = _sign_bytes(private_key, base)
    added["Signature-Input"] = f"{label}={_ser_inner_list(inner)}"
    added["Signature"] = f"{label}=:{base64.b64encode(raw).decode('ascii')}:"
    return added


# ------------------------------------------------------------------ entry points


def parse_signature(request: HttpRequest) -> ParsedSignature:
    """Parse the request's signature and rebuild the bytes it claims to sign.

    RFC 9421 is used when a Signature-Input header is present, else draft-cavage
    (Signature header, or `Authorization: Signature ...`). Raises SignatureError
    ("no signature") for unsigned requests and for any syntax problem.
    """
    headers = _lowered(request.headers)
    if "signature-input" in headers:
        return _parse_rfc9421(request, headers)
    raw = headers.get("signature")
    if raw is None:
        authorization = headers.get("authorization", "")
        if authorization[:10].lower() == "signature ":
            raw = authorization
    if raw is None:
        raise SignatureError("no signature")
    return _parse_cavage(request, headers, raw)


def _check_strength(request: HttpRequest, parsed: ParsedSignature) -> None:
    covered = set(parsed.components)
    method = request.method.upper()
    has_body = bool(request.body) or method == "POST"
    if parsed.scheme == "cavage":
        if not covered & {"date", "(created)"}:
            raise SignatureError("signature must cover date or (created)")
        if "(request-target)" not in covered:
            raise SignatureError("signature must cover (request-target)")
        if method in ("GET", "HEAD") and "host" not in covered:
            raise SignatureError("GET signature must cover host")
        if has_body and "digest" not in covered:
            raise SignatureError("signature must cover digest")
        return
    if "@method" not in covered:
        raise SignatureError("signature must cover @method")
    if not covered & {"@target-uri", "@path", "@request-target"}:
        raise SignatureError("signature must cover @target-uri")
    if method in ("GET", "HEAD") and not covered & {
        "@authority",
        "@target-uri",
        "host",
    }:
        raise SignatureError("GET signature must cover @authority or @target-uri")
    if has_body and "content-digest" not in covered:
        raise SignatureError("signature must cover content-digest")


def _check_time(parsed: ParsedSignature, now: datetime, max_skew: timedelta) -> None:
    now = _aware(now)
    if parsed.created > now + max_skew:
        raise SignatureError("signature date is too far in the future")
    if parsed.created < now - max_skew:
        raise SignatureError("signature date is too old")
    if parsed.expires is not None and parsed.expires + max_skew < now:
        raise SignatureError("signature has expired")


def _check_digest(value: str, body: bytes) -> None:
    entries: dict[str, str] = {}
    for part in value.split(","):
        name, _, encoded = part.strip().partition("=")
        entries[name.lower()] = encoded.strip()
    if "sha-256" not in entries:
        raise SignatureError("digest missing sha-256")
    for name, hasher in _DIGEST_HASHES.items():
        if name in entries:
            expected = hashlib.new(hasher, body).digest()
            claimed = _b64decode(entries[name], "digest")
            if len(claimed) != len(expected):
                raise SignatureError("digest has the wrong length")
            if not hmac.compare_digest(claimed, expected):
                raise SignatureError("digest does not match body")


def _check_content_digest(value: str, body: bytes) -> None:
    try:
        entries = _parse_sf_dictionary(value)
    except _SFError as err:
        raise SignatureError(f"malformed Content-Digest header: {err}") from err
    known = [name for name in _DIGEST_HASHES if name in entries]
    if not known:
        raise SignatureError("content-digest missing sha-256")
    for name in known:
        member = entries[name]
        if not isinstance(member, _Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"content-digest {name} is not a byte sequence")
        expected = hashlib.new(_DIGEST_HASHES[name], body).digest()
        if not hmac.compare_digest(member.value, expected):
            raise SignatureError("content-digest does not match body")


def _check_body(request: HttpRequest, parsed: ParsedSignature) -> None:
    headers = _lowered(request.headers)
    own = "digest" if parsed.scheme == "cavage" else "content-digest"
    if request.body and own not in headers:
        raise SignatureError(f"request has a body but no {own} header")
    if "digest" in headers and (parsed.scheme == "cavage" or "digest" in parsed.components):
        _check_digest(headers["digest"], request.body)
    if "content-digest" in headers and (
        parsed.scheme == "rfc9421" or "content-digest" in parsed.components
    ):
        _check_content_digest(headers["content-digest"], request.body)


def check_request(
    request: HttpRequest,
    parsed: ParsedSignature,
    now: datetime,
    max_skew: timedelta = timedelta(hours=1),
) -> None:
    """Cheap checks to run before fetching any key: coverage, time window, body digest.

    Raises SignatureError with a distinct reason for each failure.
    """
    _check_strength(request, parsed)
    _check_time(parsed, now, max_skew)
    _check_body(request, parsed)


_Verifier = Callable[[bytes, bytes], None]


def _verifiers(parsed: ParsedSignature, public_key: PublicKey) -> list[_Verifier]:
    alg = parsed.algorithm
    if isinstance(public_key, rsa.RSAPublicKey):
        rsa_key = public_key

        def pkcs1(signature: bytes, data: bytes) -> None:
            rsa_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())

        def pss(signature: bytes, data: bytes) -> None:
            pss_padding = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
            rsa_key.verify(signature, data, pss_padding, hashes.SHA512())

        # Cavage verification is RSASSA-PKCS1-v1_5/SHA-256 whatever is declared
        # (as in Mastodon); an RFC 9421 signature without alg may use either scheme.
        if alg in ("rsa-sha256", "hs2019", "rsa-v1_5-sha256"):
            return [pkcs1]
        if alg == "rsa-pss-sha512":
            return [pss]
        if alg is None:
            return [pkcs1, pss]
        raise SignatureError(f"algorithm {alg} does not match the signer's RSA key")
    ed_key: ed25519.Ed25519PublicKey = public_key
    if alg in (None, "ed25519", "hs2019"):
        return [ed_key.verify]
    raise SignatureError(f"algorithm {alg} does not match the signer's Ed25519 key")


def verify_signature(parsed: ParsedSignature, public_key: PublicKey) -> None:
    """Check the signature bytes against the signing base with the signer's key.

    Raises SignatureError("signature does not verify") on a bad signature, or when
    the declared algorithm contradicts the key type.
    """
    bases = [parsed.signing_base]
    if parsed.fallback_base is not None:
        bases.append(parsed.fallback_base)
    for verify in _verifiers(parsed, public_key):
        for base in bases:
            try:
                verify(parsed.signature, base)
            except InvalidSignature:
                continue
            return
    raise SignatureError("signature does not verify")
