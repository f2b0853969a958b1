"""POSTs accepted at the same time are stored together (federation.inbox.batch): each
answered once its row is committed, an activity sent twice stored once."""

from __future__ import annotations

import asyncio

from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_inbox_refusals import follow_of
from tests.support.queries import inbox_items


async def test_concurrent_posts_are_stored_once_each_and_answered_after_commit(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    inbox = f"{a.actor_id}/inbox"
    distinct = [follow_of(peer, a.actor_id) for _ in range(40)]
    repeated = follow_of(peer, a.actor_id)
    sent = [*distinct, *[repeated] * 10]
    answers = await asyncio.gather(*(peer.send("alice", inbox, activity) for activity in sent))
    assert [status for status, _answer in answers] == [202] * len(sent)
    stored = await inbox_items(a, "Follow")
    ids = [row.activity_uri for row in stored]
    assert sorted(ids) == sorted({activity["id"] for activity in sent})
    # The same activity again, later: still one row.
    assert (await peer.send("alice", inbox, repeated))[0] == 202
    assert len(await inbox_items(a, "Follow")) == len(ids)
