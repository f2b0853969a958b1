"""The reference servers: bare aiohttp handlers doing only the essential work.

    python -m bench.bare --host IP --port N --db FILE [--json FILE]

- `POST /inbox`: read the body, the same signature checks as Déclics (`parse_signature`,
  `check_request` with digest and date, `verify_signature` with the sender's key, fetched
  once and kept in a dict), parse the JSON, one INSERT into SQLite (WAL,
  synchronous=NORMAL, as Déclics configures it) and commit; 202.
- `GET /json`: the document of `--json` (a JSON file read at start) through
  `web.json_response`, each time serialised again.

What it leaves out is what a real server needs: blocks, origin checks, proofs,
idempotence on the activity id, errors with reasons, several organisations.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
from aiohttp import web

from federation import http_signatures, keypairs

SKEW = timedelta(hours=1)


def make_app(db_path: Path, document: Any) -> web.Application:
    keys: dict[str, keypairs.PublicKey] = {}
    app = web.Application()
    state: dict[str, Any] = {}

    async def lifetime(app: web.Application) -> Any:
        db = await aiosqlite.connect(db_path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
            "activity_uri TEXT NOT NULL, actor_uri TEXT NOT NULL, payload TEXT NOT NULL, "
            "received_at TEXT NOT NULL)"
        )
        await db.commit()
        state["db"] = db
        state["client"] = aiohttp.ClientSession()
        yield
        await state["client"].close()
        await db.close()

    app.cleanup_ctx.append(lifetime)

    async def key_of(key_id: str) -> keypairs.PublicKey:
        if key_id not in keys:
            url = key_id.split("#")[0]
            headers = {"Accept": "application/activity+json"}
            async with state["client"].get(url, headers=headers) as response:
                doc = await response.json(content_type=None)
            keys[key_id] = keypairs.public_from_pem(doc["publicKey"]["publicKeyPem"])
        return keys[key_id]

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        view = http_signatures.HttpRequest(
            request.method, f"http://{request.host}{request.raw_path}", headers, body
        )
        try:
            parsed = http_signatures.parse_signature(view)
            http_signatures.check_request(view, parsed, datetime.now(UTC), SKEW)
            http_signatures.verify_signature(parsed, await key_of(parsed.key_id))
        except http_signatures.SignatureError as err:
            return web.json_response({"error": err.reason}, status=401)
        activity = json.loads(body)
        db = state["db"]
        await db.execute(
            "INSERT INTO items (activity_uri, actor_uri, payload, received_at) VALUES (?,?,?,?)",
            (activity["id"], activity["actor"], body.decode(), datetime.now(UTC).isoformat()),
        )
        await db.commit()
        return web.json_response({"status": "accepted"}, status=202)

    async def json_document(request: web.Request) -> web.Response:
        return web.json_response(document, content_type="application/activity+json")

    app.add_routes([web.post("/inbox", inbox), web.get("/json", json_document)])
    return app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    document = json.loads(args.json.read_text("utf-8")) if args.json else {}
    web.run_app(
        make_app(args.db, document), host=args.host, port=args.port, access_log=None, print=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
