"""A Mastodon-shaped fediverse server for tests, written from interop.md's facts.

It serves WebFinger and `Person` actors (Mastodon's context and key layout), records
every POST to its inboxes after verifying the signature with the sender's published
key, can answer with scripted statuses, and signs the activities it sends us.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from federation import http_signatures, keypairs, proofs
from tests.support.net import free_port, loopback_ip

MASTODON_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
    },
]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    activity: dict[str, Any]
    verified: bool
    reason: str = ""


@dataclass
class Peer:
    ip: str
    port: int
    key: Any = field(default_factory=keypairs.generate_rsa)
    ed_key: Any = field(default_factory=keypairs.generate_ed25519)
    users: set[str] = field(default_factory=set)
    shared_inbox: bool = True
    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    delay: float = 0.0
    runner: web.AppRunner | None = None
    _keys: dict[str, keypairs.PublicKey] = field(default_factory=dict)
    _session: aiohttp.ClientSession | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        return f"http://{self.ip}:{self.port}"

    @property
    def host(self) -> str:
        return f"{self.ip}:{self.port}"

    def actor_id(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def inbox(self, name: str) -> str:
        return f"{self.actor_id(name)}/inbox"

    def actor_document(self, name: str) -> dict[str, Any]:
        actor_id = self.actor_id(name)
        doc: dict[str, Any] = {
            "@context": MASTODON_CONTEXT,
            "id": actor_id,
            "type": "Person",
            "preferredUsername": name,
            "name": name.title(),
            "inbox": self.inbox(name),
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "following": f"{actor_id}/following",
            "url": f"{self.base}/@{name}",
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": keypairs.public_to_pem(self.key.public_key()),
            },
        }
        doc["assertionMethod"] = [
            {
                "id": f"{actor_id}#ed25519-key",
                "type": "Multikey",
                "controller": actor_id,
                "publicKeyMultibase": keypairs.public_to_multibase(self.ed_key.public_key()),
            }
        ]
        if self.shared_inbox:
            doc["endpoints"] = {"sharedInbox": f"{self.base}/inbox"}
        return doc

    # -- server side ------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.ip, self.port).start()

    async def stop(self) -> None:
        """Stop serving (a test may stop a peer early: it is then down; idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _webfinger(self, request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        name = resource.removeprefix("acct:").split("@")[0]
        if name not in self.users:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(
            {
                "subject": f"acct:{name}@{self.host}",
                "links": [
                    {
                        "rel": "self",
                        "type": "application/activity+json",
                        "href": self.actor_id(name),
                    },
                ],
            },
            content_type="application/jrd+json",
        )

    async def _actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.users:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(
            self.actor_document(name), content_type="application/activity+json"
        )

    async def _sender_key(self, key_id: str) -> keypairs.PublicKey:
        if key_id not in self._keys:
            async with self.session.get(
                key_id.split("#")[0], headers={"Accept": "application/activity+json"}
            ) as response:
                doc = await response.json(content_type=None)
            self._keys[key_id] = keypairs.public_from_pem(doc["publicKey"]["publicKeyPem"])
        return self._keys[key_id]

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = {k.lower(): v for k, v in request.headers.items()}
        view = http_signatures.HttpRequest(
            request.method, f"http://{request.host}{request.raw_path}", headers, body
        )
        verified, reason = False, ""
        try:
            parsed = http_signatures.parse_signature(view)
            http_signatures.check_request(view, parsed, datetime.now(UTC))
            http_signatures.verify_signature(parsed, await self._sender_key(parsed.key_id))
            verified = True
        except http_signatures.SignatureError as err:
            reason = err.reason
        script = self.scripts.get(request.path)
        status = script.pop(0) if script else 202
        if status < 300:
            self.received.append(
                Received(request.path, headers, body, json.loads(body), verified, reason)
            )
            self.arrived.set()
        return web.json_response({}, status=status)

    # -- client side ------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def new_id(self, name: str) -> str:
        return f"{self.actor_id(name)}#activities/{uuid.uuid4()}"

    def signed_headers(
        self, name: str, url: str, body: bytes, scheme: str = "cavage"
    ) -> dict[str, str]:
        key_id = f"{self.actor_id(name)}#main-key"
        base = {"Content-Type": "application/activity+json"}
        now = datetime.now(UTC)
        if scheme == "rfc9421":
            added = http_signatures.sign_rfc9421("POST", url, base, body, key_id, self.key, now)
        else:
            added = http_signatures.sign_cavage("POST", url, base, body, key_id, self.key, now)
        return {**base, **added}

    async def post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, Any]]:
        async with self.session.post(url, data=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    def with_proof(self, name: str, activity: dict[str, Any]) -> dict[str, Any]:
        """The activity with a FEP-8b32 eddsa-jcs-2022 proof by `name`'s Ed25519 key."""
        method = f"{self.actor_id(name)}#ed25519-key"
        return proofs.create_proof(activity, self.ed_key, method, datetime.now(UTC))

    async def send(
        self, name: str, url: str, activity: dict[str, Any], scheme: str = "cavage"
    ) -> tuple[int, dict[str, Any]]:
        body = json.dumps(activity).encode()
        return await self.post(url, body, self.signed_headers(name, url, body, scheme))

    def inbox_of(self, activity_type: str) -> list[Received]:
        return [r for r in self.received if r.activity.get("type") == activity_type]


async def start_peer(users: list[str], *, shared_inbox: bool = True) -> Peer:
    ip = loopback_ip()
    peer = Peer(ip, free_port(ip), users=set(users), shared_inbox=shared_inbox)
    await peer.start()
    return peer
