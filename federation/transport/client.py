"""FederationClient: signed GETs and POSTs over one aiohttp session, with limits.

Every outbound request of the server goes through here: it refuses non-public
addresses (outside development mode), http URLs (outside development mode), follows a
bounded number of redirects (each checked again), caps the response size and time,
and signs at send time so the Date is always fresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal
from urllib.parse import urljoin, urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import __version__, http_signatures
from federation.clock import Clock
from federation.settings import Settings
from federation.transport.addresses import is_ip_literal, is_public_address, numeric_ipv4
from federation.transport.pool import BoundedIdleConnector
from federation.transport.resolver import SafeResolver
from federation.transport.signing import SigningThread
from federation.vocab import limits
from federation.vocab.normalize import ProtocolError

SignatureScheme = Literal["cavage", "rfc9421"]
USER_AGENT = f"Declics/{__version__} (+https://declics.coop)"
AP_ACCEPT = (
    "application/activity+json, application/ld+json; "
    'profile="https://www.w3.org/ns/activitystreams"'
)
AP_CONTENT_TYPES = ("application/activity+json", "application/ld+json")
JSON_CONTENT_TYPES = (*AP_CONTENT_TYPES, "application/jrd+json", "application/json")


class FetchError(Exception):
    """A fetch failed; `.reason` says why in plain words, `.status` the HTTP status."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    @property
    def gone(self) -> bool:
        return self.status == 410


@dataclass(frozen=True)
class Signer:
    """The keys a local actor signs with."""

    key_id: str  # RSA key, "#main-key"
    rsa_key: rsa.RSAPrivateKey
    ed25519_key_id: str
    ed25519_key: ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class PostResult:
    status: int
    body: str
    retry_after: str | None
    scheme: SignatureScheme


@dataclass(frozen=True)
class ConditionalResult:
    """A conditional GET: the document (None when not modified) and its validators."""

    document: dict[str, object] | None
    etag: str | None
    last_modified: str | None
    status: int  # 200, or 304 when the cached copy is still good


class FederationClient:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._signing = SigningThread()
        self._digests: dict[tuple[Callable[[bytes], str], bytes], str] = {}
        self._post_timeout = aiohttp.ClientTimeout(
            total=settings.delivery.timeout_seconds, connect=10
        )
        self._get_timeout = aiohttp.ClientTimeout(total=settings.fetch.timeout_seconds)

    @property
    def dev(self) -> bool:
        return self._settings.server.dev

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            delivery = self._settings.delivery
            connector = BoundedIdleConnector(
                resolver=SafeResolver(allow_private=self.dev),
                limit=max(delivery.concurrency, 8),
                limit_per_host=max(delivery.per_host_concurrency, 2),
                ttl_dns_cache=300,
                keepalive_timeout=30,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT},
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        self._signing.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def check_url(self, url: str) -> None:
        """Refuse URLs we must never contact; raise FetchError with the reason."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url[:200]}")
        if parts.scheme == "http" and not self.dev:
            raise FetchError("plain http is refused outside development mode")
        if parts.username or parts.password:
            raise FetchError("URLs with credentials are refused")
        host = parts.hostname.rstrip(".")
        numeric = numeric_ipv4(host)
        if not self.dev and (
            host == "localhost"
            or host.endswith(".localhost")
            or (is_ip_literal(host) and not is_public_address(host.strip("[]")))
            or (numeric is not None and not is_public_address(numeric))
        ):
            raise FetchError(f"{host} is a private or loopback address")

    def _sign(
        self,
        method: str,
        url: str,
        body: bytes | None,
        signer: Signer,
        scheme: SignatureScheme,
        headers: dict[str, str],
    ) -> dict[str, str]:
        """The headers with the signature's; blocking (run through `_signed`)."""
        now = self._clock.now()
        if scheme == "rfc9421":
            added = http_signatures.sign_rfc9421(
                method,
                url,
                headers,
                body,
                signer.key_id,
                signer.rsa_key,
                now,
                content_digest=self._digest(body, http_signatures.content_digest_header),
            )
        else:
            added = http_signatures.sign_cavage(
                method,
                url,
                headers,
                body,
                signer.key_id,
                signer.rsa_key,
                now,
                digest=self._digest(body, http_signatures.digest_header),
            )
        return {**headers, **added}

    def _digest(self, body: bytes | None, kind: Callable[[bytes], str]) -> str | None:
        """The digest header of a body we send, computed once for a whole fan-out
        (called from the signing thread only, so the dict needs no lock)."""
        if body is None:
            return None
        key = (kind, body)  # a body's hash is computed once and kept by `bytes`
        found = self._digests.get(key)
        if found is None:
            if len(self._digests) >= 16:
                self._digests.clear()
            found = self._digests[key] = kind(body)
        return found

    async def _signed(
        self,
        method: str,
        url: str,
        body: bytes | None,
        signer: Signer,
        scheme: SignatureScheme,
        headers: dict[str, str],
    ) -> dict[str, str]:
        """`_sign` in the signing thread: the event loop goes on meanwhile, and the
        signature (and its Date) is made right before the request leaves."""
        return await self._signing.run(
            partial(self._sign, method, url, body, signer, scheme, headers)
        )

    async def _read_limited(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._settings.fetch.max_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            raise FetchError(f"response too large ({declared} bytes)", response.status)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"response larger than {limit} bytes", response.status)
            chunks.append(chunk)
        return b"".join(chunks)

    async def get_json(
        self,
        url: str,
        *,
        signer: Signer | None,
        accept: str = AP_ACCEPT,
        content_types: tuple[str, ...] = AP_CONTENT_TYPES,
    ) -> dict[str, object]:
        """GET a JSON document (signed when a signer is given), following redirects."""
        result = await self.get_json_conditional(
            url, signer=signer, accept=accept, content_types=content_types
        )
        if result.document is None:  # only a conditional request can get a 304
            raise FetchError("no document in the answer", result.status)
        return result.document

    async def get_json_conditional(
        self,
        url: str,
        *,
        signer: Signer | None,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = AP_ACCEPT,
        content_types: tuple[str, ...] = AP_CONTENT_TYPES,
    ) -> ConditionalResult:
        """Like `get_json`, with the validators of a cached copy (RFC 9110 conditional GET).

        A 304 gives a result without a document: the cached copy is still good. The
        validators the server sent with a 200 come back for the next request.
        """
        session = self._get_session()
        timeout = self._get_timeout
        current = url
        for _hop in range(self._settings.fetch.max_redirects + 1):
            self.check_url(current)
            headers = {"Accept": accept}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            if signer is not None:
                headers = await self._signed("GET", current, None, signer, "cavage", headers)
            try:
                async with session.get(
                    current, headers=headers, allow_redirects=False, timeout=timeout
                ) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchError("redirect without Location", response.status)
                        current = urljoin(current, location)
                        continue
                    if response.status == 304 and (etag or last_modified):
                        return ConditionalResult(None, etag, last_modified, 304)
                    if response.status != 200:
                        raise FetchError(
                            f"{urlsplit(current).hostname} answered HTTP {response.status}",
                            response.status,
                        )
                    mime = response.headers.get("Content-Type", "").split(";")[0]
                    if mime.strip().lower() not in content_types:
                        raise FetchError(f"unexpected content type {mime!r}", 200)
                    raw = await self._read_limited(response)
                    validators = (
                        response.headers.get("ETag"),
                        response.headers.get("Last-Modified"),
                    )
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                raise FetchError(_describe_transport_error(err)) from err
            try:
                document = limits.loads(raw)
            except ProtocolError as err:
                raise FetchError(f"response is not usable JSON ({err.reason})", 200) from err
            if not isinstance(document, dict):
                raise FetchError("response is not a JSON object", 200)
            return ConditionalResult(document, *validators, 200)
        raise FetchError("too many redirects")

    async def post(
        self,
        url: str,
        body: bytes,
        signer: Signer,
        scheme: SignatureScheme = "cavage",
    ) -> PostResult:
        """POST an activity, signed at send time. Transport errors raise FetchError."""
        self.check_url(url)
        session = self._get_session()
        timeout = self._post_timeout
        headers = await self._signed(
            "POST",
            url,
            body,
            signer,
            scheme,
            {"Content-Type": "application/activity+json", "Accept": AP_ACCEPT},
        )
        try:
            async with session.post(
                url, data=body, headers=headers, allow_redirects=False, timeout=timeout
            ) as response:
                text = (await response.content.read(2000)).decode("utf-8", "replace")
                return PostResult(
                    response.status,
                    text,
                    response.headers.get("Retry-After"),
                    scheme,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise FetchError(_describe_transport_error(err)) from err


def _describe_transport_error(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate refused"
    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return "host name does not resolve"
    if isinstance(err, aiohttp.ClientConnectorError):
        cause = err.os_error
        if "private or reserved" in str(cause):
            return str(cause)
        return "connection refused or unreachable"
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "server closed the connection"
    if isinstance(err, aiohttp.ClientOSError | ConnectionError):
        return "connection reset by the server"
    return f"network error ({type(err).__name__})"


def header_map(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
