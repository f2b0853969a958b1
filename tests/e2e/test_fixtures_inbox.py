"""Every activity published by other fediverse software, through our inbox worker.

Authentication is proven elsewhere (these payloads' signatures were made by servers we
cannot reach); here each authenticated payload must end in a clear state with a reason,
never crash the worker, and never send traffic off loopback.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from federation.inbox.processor import InboxProcessor
from federation.inbox.states import InboxState
from federation.store.models import InboxItem
from federation.vocab.normalize import ProtocolError, classify
from tests.conftest import InstanceFactory
from tests.support.fixtures import fediverse_fixtures

FIXTURES = fediverse_fixtures()
if not FIXTURES.is_dir():
    pytest.skip(f"shared fixtures not found at {FIXTURES}", allow_module_level=True)


def activity_fixtures() -> list[str]:
    names = []
    for path in sorted(FIXTURES.glob("*.json")):
        try:
            kind = classify(json.loads(path.read_text(encoding="utf-8")))
        except ProtocolError:
            continue
        if kind.startswith("activity:"):
            names.append(path.name)
    return names


# What each payload does to a server that has never seen its senders: nothing it
# refers to is ours, so each is ignored with a reason; Updates of actors try to
# refresh the actor from its origin (refused off loopback here) and are retried.
EXPECTED: dict[str, str] = {
    "update-person_mastodon.json": InboxState.RECEIVED,
}


@pytest.mark.parametrize("name", activity_fixtures())
async def test_fixture_activity_is_handled(name: str, instances: InstanceFactory) -> None:
    a = await instances("collectif", start=False)
    payload = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    now = a.rt.clock.now()
    async with a.rt.sessions.begin() as session:
        session.add(
            InboxItem(
                activity_uri=payload["id"],
                activity_type=str(payload["type"]),
                actor_uri=json.dumps(payload.get("actor"))[:200],
                recipient_id=None,
                payload=payload,
                state=InboxState.RECEIVED.value,
                attempts=0,
                next_attempt_at=now,
                received_at=now,
            )
        )
    assert await InboxProcessor(a.rt).run_once() == 1
    async with a.rt.sessions() as session:
        item = (await session.execute(select(InboxItem))).scalar_one()
    assert item.state == EXPECTED.get(name, InboxState.IGNORED), item.last_error
    assert item.last_error
    assert "internal error" not in item.last_error
