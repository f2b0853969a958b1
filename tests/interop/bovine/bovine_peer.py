# mypy: ignore-errors
# (This program runs in bovine's own venv, .cache/interop/bovine/venv: the project's
# type checker cannot see quart or bovine.)
"""A bovine-herd 0.5.19 server with one actor, for the Déclics interop tests.

    .cache/interop/bovine/venv/bin/python bovine_peer.py --host 127.0.0.x --port N \
        --actor bob --data-dir DIR

bovine-herd itself is used unchanged: `BovineHerd(app)` serves the actor, its inbox,
WebFinger and NodeInfo, asks for HTTP signatures on every GET of an actor (authorized
fetch), and processes activities with bovine_process. What we add is what a bovine
*client* (bovine-tool, a bot) would otherwise do, driven over HTTP by the test:

    GET  /control/log      what the server received, its outgoing requests, its warnings,
                           the actor's followers and following
    POST /control/follow   {"target": actor URL}: send a Follow through the outbox
    POST /control/note     {"content": html}: send a public Create(Note) to the followers

and an answer to every Follow of the actor: an Accept sent through the outbox, as a
client that accepts everyone would send (bovine-herd does not accept follows itself).

Run it in its data directory: bovine keeps a JSON-LD cache in the working directory.
The server works offline: JSON-LD contexts that bovine does not know are not fetched
from the network (the tests stay on loopback); each such context is reported in the log.
The program exits when its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import logging
import os
import sys
import threading
import traceback

import aiohttp
import bovine.jsonld
from bovine.activitystreams import ActivityFactory, ObjectFactory
from bovine.types import Visibility
from bovine_herd import BovineHerd
from bovine_process import handle_outbox_item, process_inbox_item, process_outbox_item
from bovine_process.types import ProcessingItem
from bovine_store import BovineAdminStore
from bovine_store.store.collection import collection_all
from hypercorn.asyncio import serve
from hypercorn.config import Config
from pyld import jsonld
from quart import Quart, request

log = logging.getLogger("bovine_peer")

state: dict = {
    "actor": None,
    "received": [],
    "requests": [],
    "errors": [],
    "offline_contexts": [],
    "tasks": set(),
}


def offline_loader(url, options, **kwargs):
    """bovine's own document loader for the contexts it ships, never the network."""
    known = bovine.jsonld.jsonld_cache.retrieve(url)
    if known is not None:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": {"@context": known},
        }
    if url in (bovine.jsonld.bovine_context_name, "https://www.w3.org/ns/activitystreams") or (
        url.startswith("http://joinmastodon.org/ns")
    ):
        return bovine.jsonld.wrapper(url, options, **kwargs)
    if url not in state["offline_contexts"]:
        state["offline_contexts"].append(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": []},
    }


class Recorder(logging.Handler):
    """Warnings and errors of bovine and its server, for the test's failure messages."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info))[-2000:]
        state["errors"].append(
            {"logger": record.name, "level": record.levelname, "message": message[:4000]}
        )


def traced_session() -> aiohttp.ClientSession:
    """bovine's HTTP client session, recording every request it makes."""
    trace = aiohttp.TraceConfig()

    async def on_end(session, context, params) -> None:
        headers = {k.lower(): v for k, v in params.headers.items()}
        state["requests"].append(
            {
                "method": params.method,
                "url": str(params.url),
                "status": params.response.status,
                "signed": "signature" in headers,
                "digest": headers.get("digest"),
            }
        )

    async def on_error(session, context, params) -> None:
        state["requests"].append(
            {
                "method": params.method,
                "url": str(params.url),
                "status": None,
                "error": repr(params.exception),
            }
        )

    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_error)
    return aiohttp.ClientSession(trace_configs=[trace])


def id_of(value):
    return value.get("id") if isinstance(value, dict) else value


async def send_through_outbox(actor, activity: dict) -> dict:
    """What a POST to the actor's outbox does: ids, storage, side effects, delivery."""
    item = await handle_outbox_item(ProcessingItem(actor.actor_id, activity), actor)
    await process_outbox_item(item, actor)
    return item.data


def actor_information(actor) -> dict:
    return actor.actor_object.build(visibility=Visibility.OWNER)


def build_app(base_url: str, name: str, db_path: str) -> Quart:
    app = Quart("bovine_peer")

    @app.before_serving
    async def open_session() -> None:
        # Before BovineHerd's own start-up, which keeps a session it finds.
        app.config["session"] = traced_session()

    async def on_inbox(item: ProcessingItem, actor) -> None:
        async def run() -> None:
            raw = copy.deepcopy(item.data)
            try:
                await process_inbox_item(item, actor)
                state["received"].append(raw)
                if raw.get("type") == "Follow" and id_of(raw.get("object")) == actor.actor_id:
                    accept = ActivityFactory(actor_information(actor)).accept(raw).build()
                    await send_through_outbox(actor, accept)
            except Exception:
                log.exception("processing %s failed", raw.get("id"))

        task = asyncio.get_running_loop().create_task(run())
        state["tasks"].add(task)
        task.add_done_callback(state["tasks"].discard)

    BovineHerd(app, start_background_task_inbox=on_inbox, db_url=f"sqlite://{db_path}")

    @app.before_serving
    async def create_actor() -> None:
        admin = BovineAdminStore(domain=base_url)
        bovine_name = await admin.register(name)
        await admin.set_properties_for_actor(
            bovine_name, {"type": "Person", "name": f"{name.title()} (bovine)"}
        )
        state["actor"] = await app.config["bovine_store"].actor_for_name(bovine_name)

    @app.get("/control/log")
    async def control_log():
        actor = state["actor"]
        if actor is None:
            return {"error": "starting"}, 503
        info = actor_information(actor)
        return {
            "actor": actor.actor_id,
            "inbox": info["inbox"],
            "received": state["received"],
            "requests": state["requests"],
            "errors": state["errors"],
            "offline_contexts": state["offline_contexts"],
            "followers": await collection_all(actor.actor_id, info["followers"]),
            "following": await collection_all(actor.actor_id, info["following"]),
        }

    @app.post("/control/follow")
    async def control_follow():
        actor = state["actor"]
        target = (await request.get_json())["target"]
        follow = ActivityFactory(actor_information(actor)).follow(target).build()
        sent = await send_through_outbox(actor, follow)
        return {"id": sent["id"]}

    @app.post("/control/note")
    async def control_note():
        actor = state["actor"]
        content = (await request.get_json())["content"]
        info = actor_information(actor)
        note = ObjectFactory(actor_information=info).note(content=content).as_public().build()
        create = ActivityFactory(info).create(note).build()
        sent = await send_through_outbox(actor, create)
        return {"id": sent["id"], "object": id_of(sent["object"])}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--actor", default="bob")
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    recorder = Recorder(level=logging.WARNING)
    logging.getLogger().addHandler(recorder)
    jsonld.set_document_loader(offline_loader)

    app = build_app(
        f"http://{args.host}:{args.port}", args.actor, os.path.join(args.data_dir, "bovine.sqlite3")
    )
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = "-"

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def wait_for_eof() -> None:
            # os.read, not sys.stdin: a thread blocked in sys.stdin holds its lock, and a
            # forked child (multiprocessing closes stdin at start) would wait for it forever.
            while os.read(0, 1024):
                pass
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=wait_for_eof, daemon=True).start()
        await serve(app, config, shutdown_trigger=stop.wait)

    asyncio.run(run())


if __name__ == "__main__":
    main()
