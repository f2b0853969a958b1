# mypy: ignore-errors
# (This program runs in activityrelay's own venv, .cache/interop/relay/venv, made by
# `scripts/interop-setup relay`: the project's type checker cannot see relay or aputils.)
"""activityrelay 0.3.5 on plain http for the inbox benchmark, with one subscriber.

    .cache/interop/relay/venv/bin/python bench/relay_server.py --host IP --port N \
        --data-dir DIR --subscriber ACTOR_ID --subscriber-inbox URL

Configured as tests/interop/relay/relay_peer.py does (SQLite database and cache, one
delivery worker), without TLS, logging warnings only, and with the benchmark's sender
already subscribed (the row `activityrelay` writes when it accepts a follow), so that
its `Create`s are relayed rather than refused. The relay runs as `activityrelay run`
does otherwise, access log included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import aputils
from relay.config import Config
from relay.state import State


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--subscriber", required=True)
    parser.add_argument("--subscriber-inbox", required=True)
    args = parser.parse_args()

    path = Path(args.data_dir) / "relay.yaml"
    config = Config(str(path))
    config.listen = args.host
    config.port = args.port
    config.domain = f"{args.host}:{args.port}"
    config.workers = 1
    config.db_type = "sqlite"
    config.sq_path = str(path.parent / "relay.sqlite3")
    config.ca_type = "database"
    config.save()

    state = State(str(path), register_global=True)
    with state.database.session() as conn:
        if state.signer is None:
            conn.put_config("private-key", aputils.Signer.new("n/a").export())
        conn.put_config("log-level", "WARNING")
        conn.put_inbox(
            domain=urlsplit(args.subscriber).netloc,
            inbox=args.subscriber_inbox,
            actor=args.subscriber,
            software="mastodon",
        )
        privkey = conn.get_config("private-key")
    state.signer = aputils.Signer(privkey, state.config.keyid)

    async def run() -> None:
        loop = asyncio.get_running_loop()

        def wait_for_eof() -> None:
            while os.read(0, 1024):
                pass
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(state.stop)

        threading.Thread(target=wait_for_eof, daemon=True).start()
        await state.handle_start()

    asyncio.run(run())


if __name__ == "__main__":
    main()
