"""Serve an instance's web app without its workers (as beside `declics worker`).

    python -m bench.web_only --data-dir DIR --host IP

The benchmarks of the inbox and of GETs measure the web process alone with it; the
fan-out benchmark runs `declics serve` (web and workers in one process).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from aiohttp import web

from federation import heap
from federation.app import create_app
from federation.observability import logs
from federation.runtime import build_runtime
from federation.settings import load_settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", required=True)
    args = parser.parse_args()
    settings = load_settings(args.data_dir)
    logs.configure(settings.observability.log_format, logging.WARNING)

    async def settle(_app: web.Application) -> None:
        heap.settle()  # as `declics serve` does

    async def make() -> web.Application:
        app = create_app(build_runtime(settings), run_workers=False)
        app.on_startup.append(settle)
        return app

    web.run_app(
        make(),
        host=args.host,
        port=settings.server.port,
        access_log=None,
        print=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
