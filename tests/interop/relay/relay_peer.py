# mypy: ignore-errors
# (This program runs in activityrelay's own venv, .cache/interop/relay/venv: the project's
# type checker cannot see relay or aputils.)
"""activityrelay 0.3.5 (the LitePub relay many Mastodon servers use), configured for the
Déclics interop tests on loopback, and served over https:

    .cache/interop/relay/venv/bin/python relay_peer.py --host 127.0.0.x --port N \
        --data-dir DIR --cert cert.pem --key key.pem

activityrelay names itself `https://<domain>/actor` and fetches its subscribers' NodeInfo
at `https://<their domain>/.well-known/nodeinfo`, whatever their actor ids say: both ends
need https. This program writes its configuration file (`relay.yaml`: listen address,
port, domain `<host>:<port>`, SQLite database and cache, one delivery worker), stores a
new private key in its database as `activityrelay setup` does, and runs the relay exactly
as `activityrelay run` does, except that its aiohttp site listens with TLS (the test's
throwaway certificate). activityrelay has no private-address switch: it fetches and
delivers to any address. To trust the test's CA, run it with `SSL_CERT_FILE=ca.pem`.

The relay starts no processes other than its delivery worker. It stops on SIGTERM or
when its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import threading
from pathlib import Path

import aputils
import relay.state as relay_state
from aiohttp import web
from relay import logger as logging
from relay.config import Config
from relay.state import State


def configure(path: Path, host: str, port: int) -> None:
    config = Config(str(path))
    config.listen = host
    config.port = port
    config.domain = f"{host}:{port}"
    config.workers = 1
    config.db_type = "sqlite"
    config.sq_path = str(path.parent / "relay.sqlite3")
    config.ca_type = "database"
    config.save()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()

    path = Path(args.data_dir) / "relay.yaml"
    configure(path, args.host, args.port)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)

    class TLSSite(web.TCPSite):
        def __init__(self, *site_args, **kwargs) -> None:
            super().__init__(*site_args, ssl_context=tls, **kwargs)

    relay_state.TCPSite = TLSSite

    state = State(str(path), register_global=True)
    with state.database.session() as conn:
        if state.signer is None:  # what `activityrelay setup` stores
            conn.put_config("private-key", aputils.Signer.new("n/a").export())
        conn.put_config("log-level", "VERBOSE")
        privkey = conn.get_config("private-key")
    state.signer = aputils.Signer(privkey, state.config.keyid)
    logging.info("relay actor: %s", state.config.actor)

    async def run() -> None:
        loop = asyncio.get_running_loop()

        def wait_for_eof() -> None:
            # os.read, not sys.stdin: a thread blocked in sys.stdin holds its lock, and a
            # forked child (multiprocessing closes stdin at start) would wait for it forever.
            while os.read(0, 1024):
                pass
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(state.stop)

        threading.Thread(target=wait_for_eof, daemon=True).start()
        await state.handle_start()

    asyncio.run(run())


if __name__ == "__main__":
    main()
