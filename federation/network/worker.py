"""CrawlWorker: runs beside the delivery and inbox workers, never in a request.

Ten seconds after it starts, and every ten seconds while idle, it joins the open
round if there is one (another process may have started it, or this one before a
restart), else starts a round when `[directory] refresh_hours` have passed since the
last one began.
"""

from __future__ import annotations

import asyncio
import logging

from federation.network.crawler import Crawler
from federation.runtime import Runtime

log = logging.getLogger(__name__)
# How often an idle worker looks whether a round is due or was opened elsewhere.
IDLE_SECONDS = 10.0


class CrawlWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.crawler = Crawler(runtime)

    async def run_forever(self) -> None:
        # Let the process start (and short-lived test servers stop) before crawling.
        await asyncio.sleep(IDLE_SECONDS)
        while True:
            try:
                worked = await self.crawler.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("crawl step failed; trying again later")
                worked = False
            if not worked:
                await asyncio.sleep(IDLE_SECONDS)
