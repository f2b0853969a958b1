"""Operations endpoints and structured logs, against real instances and a peer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest
from sqlalchemy import text

from federation.observability import logs
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import FAST, followed_by, post, wait_state
from tests.e2e.test_inbox_refusals import corrupted, unsigned
from tests.support.instance import Instance
from tests.support.wait import until

TOKEN = "s3cret-metrics-token-for-tests"


async def get(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return (
            response.status,
            await response.text(),
            {k.lower(): v for k, v in response.headers.items()},
        )


def samples(exposition: str) -> dict[str, float]:
    """`name{labels}` to value, for every sample line."""
    found: dict[str, float] = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


async def scrape(instance: Instance) -> dict[str, float]:
    status, body, headers = await get(
        f"{instance.base_url}/metrics", Authorization=f"Bearer {TOKEN}"
    )
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(body)


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The root logger writes JSON lines into a buffer, as `log_format = "json"` does."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure("json")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_healthz_and_readyz(instances: InstanceFactory) -> None:
    instance = await instances("collectif")
    status, body, _ = await get(f"{instance.base_url}/healthz")
    assert (status, json.loads(body)["status"]) == (200, "alive")
    status, body, _ = await get(f"{instance.base_url}/readyz")
    assert (status, json.loads(body)["status"]) == (200, "ready")

    # A schema behind the code (an upgrade without `declics migrate`): not ready.
    async with instance.rt.engine.begin() as conn:
        head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    status, body, _ = await get(f"{instance.base_url}/readyz")
    assert status == 503
    assert "declics migrate" in json.loads(body)["problems"][0]
    status, _, _ = await get(f"{instance.base_url}/healthz")
    assert status == 200
    async with instance.rt.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    status, _, _ = await get(f"{instance.base_url}/readyz")
    assert status == 200


async def test_metrics_need_the_token(instances: InstanceFactory) -> None:
    closed = await instances("ferme")
    status, _, _ = await get(f"{closed.base_url}/metrics")
    assert status == 404  # no token configured: no metrics at all

    instance = await instances("collectif", observability={"metrics_token": TOKEN})
    status, _, headers = await get(f"{instance.base_url}/metrics")
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    status, _, _ = await get(f"{instance.base_url}/metrics", Authorization="Bearer wrong")
    assert status == 401
    status, _, _ = await get(f"{instance.base_url}/metrics", Authorization=TOKEN)
    assert status == 401
    figures = await scrape(instance)
    assert figures['declics_deliveries{state="pending"}'] == 0
    assert figures["declics_delivery_queue_due"] == 0
    assert figures['declics_crawl_round_nodes{state="pending"}'] == 0


async def test_inbox_and_delivery_metrics(
    instances: InstanceFactory, peers: PeerFactory, json_logs: io.StringIO
) -> None:
    instance = await instances("collectif", observability={"metrics_token": TOKEN}, delivery=FAST)
    peer = await peers(["alice"])
    inbox = f"{instance.actor_id}/inbox"
    before = await scrape(instance)

    await followed_by(instance, peer)
    for build in (unsigned, corrupted):
        body, headers = build(peer, inbox, instance.actor_id)
        status, _ = await peer.post(inbox, body, {**headers, "X-Request-Id": "trace-from-proxy-1"})
        assert status == 401
    await post(instance)

    async def both_delivered() -> bool:
        return (await scrape(instance))['declics_deliveries{state="delivered"}'] == 2

    # The Accept of the follow and the Note.
    await until(both_delivered, what="two deliveries")
    after = await scrape(instance)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('declics_inbox_requests_total{outcome="accepted"}') == 1
    assert grew('declics_inbox_requests_total{outcome="unauthorized"}') == 2
    assert grew('declics_inbox_signature_failures_total{reason="unsigned"}') == 1
    assert grew('declics_inbox_signature_failures_total{reason="bad_signature"}') == 1
    assert after["declics_delivery_queue_due"] == 0
    assert grew('declics_delivery_attempts_total{state="delivered"}') == 2
    assert grew("declics_delivery_latency_seconds_count") == 2
    assert grew('declics_delivery_latency_seconds_bucket{le="+Inf"}') == 2
    assert after['declics_inbox_items{state="processed"}'] == 1

    records = lines(json_logs)
    refused = [r for r in records if r["message"].startswith("inbox: refused 401")]
    assert len(refused) == 2
    # The proxy's request id is kept, and the activity id is known once parsed.
    assert {r["request_id"] for r in refused} == {"trace-from-proxy-1"}
    # An unsigned request is refused before its activity is read; a forged one after.
    assert "activity_id" not in refused[0]
    assert refused[1]["activity_id"].startswith(peer.actor_id("alice"))
    accepted = [r for r in records if r["message"] == "inbox: accepted"]
    assert len(accepted) == 1
    assert len(accepted[0]["request_id"]) == 32  # ours, none was given
    assert "delivery_id" not in accepted[0]


async def test_delivery_logs_carry_delivery_and_activity_ids(
    instances: InstanceFactory, peers: PeerFactory, json_logs: io.StringIO
) -> None:
    instance = await instances("collectif", delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(instance, peer)
    peer.scripts["/inbox"].append(403)
    activity_uri = await post(instance)
    row = await wait_state(instance, f"{peer.base}/inbox", "failed")
    failed = [r for r in lines(json_logs) if r.get("delivery_id") == str(row.id)]
    assert failed, lines(json_logs)
    assert {r["activity_id"] for r in failed} == {activity_uri}
    assert "request_id" not in failed[0]


async def test_request_id_header(instances: InstanceFactory) -> None:
    instance = await instances("collectif")
    _, _, headers = await get(f"{instance.base_url}/healthz", **{"X-Request-Id": "abc"})
    assert len(headers["x-request-id"]) == 32  # too short to be an id: replaced
    _, _, headers = await get(f"{instance.base_url}/healthz", **{"X-Request-Id": "proxy-1234567"})
    assert headers["x-request-id"] == "proxy-1234567"


def test_text_format_carries_ids() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logging.Formatter(logs.TEXT_FORMAT))
    logger = logging.getLogger("tests.observability.text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with logs.bound(request_id="r1", activity_id="https://a.example/1"):
            logger.warning("hello")
        logger.warning("bye")
    finally:
        logger.removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert first.endswith("hello request_id=r1 activity_id=https://a.example/1")
    assert second.endswith("bye")


def test_unknown_log_format_is_refused() -> None:
    from federation.errors import CommandError

    with pytest.raises(CommandError, match="log_format"):
        logs.configure("xml")


async def test_access_log_line_carries_the_request_id(
    instances: InstanceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """`declics serve` logs each request with `logs.ACCESS_FORMAT`."""
    from aiohttp import web

    from federation.app import create_app
    from tests.support.net import free_port, loopback_ip

    instance = await instances("collectif", start=False)
    runner = web.AppRunner(
        create_app(instance.rt, run_workers=False),
        access_log=logging.getLogger("aiohttp.access"),
        access_log_format=logs.ACCESS_FORMAT,
    )
    await runner.setup()
    ip = loopback_ip()
    port = free_port(ip)
    await web.TCPSite(runner, ip, port).start()
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            await get(f"http://{ip}:{port}/healthz", **{"X-Request-Id": "proxy-given-42"})
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any('"GET /healthz' in line and "request_id=proxy-given-42" in line for line in lines)
