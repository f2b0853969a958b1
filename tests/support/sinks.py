"""Misbehaving (and one healthy) HTTP servers on loopback, for fault and SSRF tests.

One kind per server; a server may listen on many 127.x addresses at once, so one
process stands for many remote hosts. Run as a program for the fault test:

    python -m tests.support.sinks KIND PORT ADDRESS [ADDRESS …]

It prints "ready" once listening. Kinds, for POST (deliveries) and GET (fetches):

- healthy: POST → 202, remembered; GET /_received → the paths received, once each;
  GET anything else → a small actor-shaped JSON document;
- hang: never answers;
- reset: resets the connection (RST) as soon as the request is read;
- slow: one byte every 0.2 s: for POST the status line and headers themselves (a
  202 that would take 9 s to arrive), for GET a 200 body of 1 000 bytes;
- error: 500 with an HTML body;
- redirect: 307 (POST) or 302 (GET) to the same URL, for ever;
- huge: 50 MB body (503 for POST, 200 JSON for GET), streamed without a length;
- garbage: POST → 502 with HTML; GET → 200 "application/activity+json" that is not JSON.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys

from aiohttp import web

KINDS = ("healthy", "hang", "reset", "slow", "error", "redirect", "huge", "garbage")


def _reset(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.close()


async def _stream(
    request: web.Request, status: int, total: int, step: int, pause: float
) -> web.StreamResponse:
    response = web.StreamResponse(status=status)
    response.content_type = "application/activity+json"
    if step == 1:
        response.content_length = total
    await response.prepare(request)
    sent = 0
    while sent < total:
        await response.write(b"x" * step)
        sent += step
        if pause:
            await asyncio.sleep(pause)
    return response


async def _dribble(request: web.Request, raw: bytes) -> web.Response:
    """Write a whole answer by hand, one byte every 0.2 s, then drop the connection."""
    transport = request.transport
    if transport is not None:
        for byte in raw:
            transport.write(bytes([byte]))
            await asyncio.sleep(0.2)
        transport.close()
    return web.Response()


def make_app(kind: str) -> web.Application:
    if kind not in KINDS:
        raise ValueError(f"unknown sink kind {kind!r}")
    app = web.Application(client_max_size=4 * 1024 * 1024)
    received: set[str] = set()

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        post = request.method == "POST"
        if kind == "healthy":
            if post:
                received.add(f"{request.host}{request.path}")
                return web.json_response({}, status=202)
            if request.path == "/_received":
                return web.json_response(sorted(received))
            url = f"http://{request.host}{request.path}"
            document = {"id": url, "type": "Person", "inbox": f"{url}/inbox"}
            return web.json_response(document, content_type="application/activity+json")
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "reset":
            _reset(request)
            return web.Response(status=500)
        if kind == "slow" and post:
            return await _dribble(request, b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        if kind == "slow":
            return await _stream(request, 200, 1000, 1, 0.2)
        if kind == "error":
            return web.Response(status=500, text="<html>oops</html>", content_type="text/html")
        if kind == "redirect":
            raise (web.HTTPTemporaryRedirect if post else web.HTTPFound)(request.path)
        if kind == "huge":
            return await _stream(request, 503 if post else 200, 50 * 1024 * 1024, 65536, 0)
        # garbage
        if post:
            return web.Response(
                status=502, text="<html>Bad gateway</html>", content_type="text/html"
            )
        return web.Response(text="<html>not json", content_type="application/activity+json")

    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def serve(kind: str, port: int, addresses: list[str]) -> web.AppRunner:
    runner = web.AppRunner(make_app(kind), access_log=None, handler_cancellation=True)
    await runner.setup()
    for address in addresses:
        await web.TCPSite(runner, address, port, backlog=1024).start()
    return runner


async def _main(kind: str, port: int, addresses: list[str]) -> None:
    await serve(kind, port, addresses)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
