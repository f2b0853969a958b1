"""The delivery queue and host health against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation import keypairs
from federation.actors import local
from federation.delivery import hosts, ledger, queue
from federation.delivery.states import DeliveryState
from federation.store.models import Delivery, LocalActor, OutboxActivity, RemoteHost
from tests.store.conftest import Db

S = DeliveryState
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LEASE = timedelta(minutes=2)
PARK_AFTER = timedelta(hours=72)
_uris = itertools.count(1)
_RSA_KEY: list[rsa.RSAPrivateKey] = []


@pytest.fixture(autouse=True)
def one_rsa_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Organisations here need keys but not distinct ones: generate RSA once."""
    if not _RSA_KEY:
        _RSA_KEY.append(keypairs.generate_rsa())
    monkeypatch.setattr(keypairs, "generate_rsa", lambda: _RSA_KEY[0])


async def make_org(session: AsyncSession, username: str = "collectif") -> LocalActor:
    return await local.create_organisation(
        session,
        base_url="https://coop.example",
        username=username,
        name="Le Collectif",
        summary="",
        manually_approves_followers=False,
        now=T0,
    )


async def make_activity(session: AsyncSession, actor: LocalActor) -> int:
    row = OutboxActivity(
        local_actor_id=actor.id,
        uri=f"https://coop.example/activities/{next(_uris)}",
        activity_type="Create",
        object_uri=None,
        public=True,
        body="{}",
        created_at=T0,
    )
    session.add(row)
    await session.flush()
    return row.id


async def setup_activity(db: Db, inboxes: Sequence[str] = (), now: datetime = T0) -> int:
    """An organisation with one activity, planned to `inboxes`."""
    async with db.sessions.begin() as session:
        actor = await make_org(session)
        activity_id = await make_activity(session, actor)
        await queue.plan(session, activity_id, inboxes, now)
    return activity_id


async def add_activity(db: Db, inboxes: Sequence[str], now: datetime) -> int:
    async with db.sessions.begin() as session:
        actor = await local.find(session, "coop.example", "collectif")
        assert actor is not None
        activity_id = await make_activity(session, actor)
        await queue.plan(session, activity_id, inboxes, now)
    return activity_id


async def deliveries(db: Db) -> dict[str, Delivery]:
    """Every delivery row, by inbox URL (activity ids are shown where needed)."""
    async with db.sessions() as session:
        rows = (await session.execute(select(Delivery).order_by(Delivery.id))).scalars()
        return {row.inbox_url: row for row in rows}


async def all_rows(db: Db) -> list[Delivery]:
    async with db.sessions() as session:
        return list((await session.execute(select(Delivery).order_by(Delivery.id))).scalars())


async def claim(
    db: Db, owner: str, now: datetime, limit: int = 100, lease: timedelta = LEASE
) -> list[queue.Claimed]:
    async with db.sessions.begin() as session:
        return await queue.claim_due(session, owner, now, limit, lease)


async def set_state(db: Db, ids: Iterable[int], state: DeliveryState) -> None:
    async with db.sessions.begin() as session:
        await session.execute(
            update(Delivery).where(Delivery.id.in_(list(ids))).values(state=state.value)
        )


def inboxes(count: int, host: str = "a.example") -> list[str]:
    return [f"https://{host}/users/u{i}/inbox" for i in range(count)]


# --- plan -------------------------------------------------------------------------


async def test_plan_dedupes_inboxes_and_replanning_is_a_no_op(db: Db) -> None:
    urls = [
        "https://a.example/inbox",
        "https://B.Example/users/bob/inbox",
        "https://a.example/inbox",
    ]
    async with db.sessions.begin() as session:
        actor = await make_org(session)
        activity_id = await make_activity(session, actor)
        other_id = await make_activity(session, actor)
        assert await queue.plan(session, activity_id, urls, T0) == 2
        assert await queue.plan(session, activity_id, [], T0) == 0

    rows = await all_rows(db)
    assert [(r.inbox_url, r.host) for r in rows] == [
        ("https://a.example/inbox", "a.example"),
        ("https://B.Example/users/bob/inbox", "b.example"),
    ]
    for row in rows:
        assert (row.activity_id, row.state, row.attempts) == (activity_id, "pending", 0)
        assert row.next_attempt_at == T0
        assert row.created_at == T0
        assert row.lease_owner is None

    # One row is delivered; planning the same pairs again (later) changes nothing,
    # adds only the new inbox, and another activity gets its own rows.
    (first, *_) = await claim(db, "w1", T0, limit=1)
    async with db.sessions.begin() as session:
        await queue.record(
            session, first, "w1", S.DELIVERED, now=T0, status=202, error=None, next_attempt_at=None
        )
    later = T0 + timedelta(hours=1)
    async with db.sessions.begin() as session:
        await queue.plan(session, activity_id, [*urls, "https://c.example/inbox"], later)
        await queue.plan(session, other_id, ["https://a.example/inbox"], later)

    rows = await all_rows(db)
    assert len(rows) == 4
    by_key = {(r.activity_id, r.inbox_url): r for r in rows}
    delivered = by_key[(activity_id, "https://a.example/inbox")]
    assert (delivered.state, delivered.attempts, delivered.delivered_at) == ("delivered", 1, T0)
    untouched = by_key[(activity_id, "https://B.Example/users/bob/inbox")]
    assert (untouched.state, untouched.next_attempt_at) == ("pending", T0)
    assert by_key[(activity_id, "https://c.example/inbox")].next_attempt_at == later
    assert by_key[(other_id, "https://a.example/inbox")].state == "pending"


async def test_give_back_returns_only_our_untried_rows(db: Db) -> None:
    await setup_activity(db, inboxes(3))
    ours = await claim(db, "w1", T0, limit=2)
    theirs = await claim(db, "w2", T0, limit=1)
    async with db.sessions.begin() as session:
        given = await queue.give_back(session, [c.id for c in [*ours, *theirs]], "w1")
        assert await queue.give_back(session, [], "w1") == 0
    assert given == 2
    rows = {r.id: r for r in await all_rows(db)}
    for item in ours:
        assert (rows[item.id].state, rows[item.id].lease_owner) == ("pending", None)
        assert rows[item.id].attempts == 0
    assert (rows[theirs[0].id].state, rows[theirs[0].id].lease_owner) == ("sending", "w2")


async def test_plan_takes_the_hosts_in_turn(db: Db) -> None:
    urls = [*inboxes(3, "a.example"), *inboxes(1, "b.example"), *inboxes(2, "c.example")]
    async with db.sessions.begin() as session:
        actor = await make_org(session)
        activity_id = await make_activity(session, actor)
        assert await queue.plan(session, activity_id, urls, T0) == 6

    # Claimed in id order: one of each host, then again, so that no host gets its
    # deliveries back to back (each reuses the connection the last one left open).
    assert [r.host for r in await all_rows(db)] == [
        "a.example",
        "b.example",
        "c.example",
        "a.example",
        "c.example",
        "a.example",
    ]
    assert sorted(r.inbox_url for r in await all_rows(db)) == sorted(urls)


# --- claim -------------------------------------------------------------------------


async def test_claim_due_takes_only_due_pending_rows_and_sets_a_lease(db: Db) -> None:
    due_activity = await setup_activity(db, inboxes(3))
    await add_activity(db, ["https://later.example/inbox"], T0 + timedelta(minutes=10))
    await add_activity(db, ["https://failed.example/inbox"], T0)
    rows = await deliveries(db)
    await set_state(db, [rows["https://failed.example/inbox"].id], S.FAILED)

    now = T0 + timedelta(minutes=1)
    claimed = await claim(db, "worker-1", now)
    assert sorted(c.inbox_url for c in claimed) == inboxes(3)
    for item in claimed:
        assert item.activity_id == due_activity
        assert item.host == "a.example"
        assert item.attempts == 0
        assert item.created_at == T0

    rows = await deliveries(db)
    for url in inboxes(3):
        assert rows[url].state == "sending"
        assert rows[url].lease_owner == "worker-1"
        assert rows[url].lease_expires_at == now + LEASE
    assert rows["https://later.example/inbox"].state == "pending"
    assert rows["https://later.example/inbox"].lease_owner is None
    assert rows["https://failed.example/inbox"].state == "failed"

    # Nothing else is due now; the later row is, ten minutes on.
    assert await claim(db, "worker-2", now) == []
    later = await claim(db, "worker-2", T0 + timedelta(minutes=10))
    assert [c.inbox_url for c in later] == ["https://later.example/inbox"]


async def test_claim_due_respects_limit_and_oldest_first(db: Db) -> None:
    await setup_activity(db, ["https://a.example/late"], now=T0 + timedelta(seconds=30))
    await add_activity(db, ["https://a.example/early"], T0)
    await add_activity(db, ["https://a.example/middle"], T0 + timedelta(seconds=10))
    now = T0 + timedelta(minutes=1)
    assert [c.inbox_url for c in await claim(db, "w", now, limit=2)] == [
        "https://a.example/early",
        "https://a.example/middle",
    ]
    assert [c.inbox_url for c in await claim(db, "w", now, limit=2)] == ["https://a.example/late"]


async def test_concurrent_claimers_never_get_the_same_row(db: Db) -> None:
    await setup_activity(db, inboxes(200))
    now = T0 + timedelta(seconds=1)
    start = asyncio.Barrier(4)

    async def claimer(owner: str) -> list[int]:
        got: list[int] = []
        await start.wait()
        while True:
            batch = await claim(db, owner, now, limit=7)
            if not batch:
                return got
            got.extend(item.id for item in batch)

    owners = [f"worker-{n}" for n in range(4)]
    results = await asyncio.gather(*(claimer(owner) for owner in owners))
    claimed = [row_id for got in results for row_id in got]
    assert len(claimed) == 200
    assert len(set(claimed)) == 200
    rows = {row.id: row for row in await all_rows(db)}
    assert set(rows) == set(claimed)
    for owner, got in zip(owners, results, strict=True):
        for row_id in got:
            assert rows[row_id].state == "sending"
            assert rows[row_id].lease_owner == owner


@pytest.mark.postgres
@pytest.mark.parametrize("db_settings", ["postgres"], indirect=True)
async def test_claim_skips_rows_locked_by_an_uncommitted_claim(db: Db) -> None:
    """Deterministic SKIP LOCKED check: without it the second claimer would block and
    then take the same rows once the first commits."""
    await setup_activity(db, inboxes(10))
    now = T0 + timedelta(seconds=1)
    async with db.sessions.begin() as first:
        held = await queue.claim_due(first, "first", now, 4, LEASE)
        assert len(held) == 4
        second = await asyncio.wait_for(claim(db, "second", now, limit=4), timeout=10)
        assert len(second) == 4
        assert not {c.id for c in held} & {c.id for c in second}
    rest = await claim(db, "third", now)
    assert len(rest) == 2
    owners = sorted(row.lease_owner or "" for row in await all_rows(db))
    assert owners == ["first"] * 4 + ["second"] * 4 + ["third"] * 2


# --- record, lease renewal and reclaim ---------------------------------------------


async def test_record_moves_states_and_counts_attempts(db: Db) -> None:
    await setup_activity(db, ["https://a.example/inbox"])
    (item,) = await claim(db, "w1", T0)
    retry_at = T0 + timedelta(minutes=5)
    async with db.sessions.begin() as session:
        await queue.record(
            session,
            item,
            "w1",
            S.PENDING,
            now=T0 + timedelta(seconds=3),
            status=503,
            error="x" * 600,
            next_attempt_at=retry_at,
        )
    (row,) = await all_rows(db)
    assert row.state == "pending"
    assert row.attempts == 1
    assert row.last_status == 503
    assert row.last_error == "x" * 500
    assert row.last_attempt_at == T0 + timedelta(seconds=3)
    assert row.next_attempt_at == retry_at
    assert (row.lease_owner, row.lease_expires_at, row.delivered_at) == (None, None, None)

    assert await claim(db, "w2", retry_at - timedelta(seconds=1)) == []
    (again,) = await claim(db, "w2", retry_at)
    assert again.attempts == 1

    # A stale worker's record is ignored: the row is not its own any more.
    async with db.sessions.begin() as session:
        await queue.record(
            session,
            item,
            "w1",
            S.FAILED,
            now=retry_at,
            status=400,
            error="no",
            next_attempt_at=None,
        )
    (row,) = await all_rows(db)
    assert (row.state, row.lease_owner, row.attempts) == ("sending", "w2", 1)

    done_at = retry_at + timedelta(seconds=2)
    async with db.sessions.begin() as session:
        await queue.record(
            session,
            again,
            "w2",
            S.DELIVERED,
            now=done_at,
            status=202,
            error="",
            next_attempt_at=None,
        )
    (row,) = await all_rows(db)
    assert row.state == "delivered"
    assert row.attempts == 2
    assert row.last_status == 202
    assert row.last_error is None
    assert row.delivered_at == done_at
    assert row.next_attempt_at == retry_at  # left as it was
    assert row.lease_owner is None


@pytest.mark.parametrize(
    ("state", "status", "error"),
    [
        (S.FAILED, 404, "a.example has no such inbox (HTTP 404)"),
        (S.GONE, 410, "the account on a.example is gone (HTTP 410)"),
        (S.DEAD, None, "gave up: connection refused"),
    ],
)
async def test_record_terminal_states(
    db: Db, state: DeliveryState, status: int | None, error: str
) -> None:
    await setup_activity(db, ["https://a.example/inbox"])
    (item,) = await claim(db, "w1", T0)
    async with db.sessions.begin() as session:
        await queue.record(
            session, item, "w1", state, now=T0, status=status, error=error, next_attempt_at=None
        )
    (row,) = await all_rows(db)
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        state.value,
        1,
        status,
        error,
    )
    assert row.delivered_at is None
    assert await claim(db, "w2", T0 + timedelta(days=30)) == []


async def test_record_without_counting_an_attempt(db: Db) -> None:
    await setup_activity(db, ["https://a.example/inbox"])
    (item,) = await claim(db, "w1", T0)
    async with db.sessions.begin() as session:
        await queue.record(
            session,
            item,
            "w1",
            S.PARKED,
            now=T0,
            status=None,
            error="host parked after failing for days",
            next_attempt_at=None,
            count_attempt=False,
        )
    (row,) = await all_rows(db)
    assert (row.state, row.attempts, row.last_attempt_at, row.last_error) == (
        "parked",
        0,
        None,
        None,
    )
    assert row.lease_owner is None


async def test_defer_gives_the_row_back_untried_with_its_reason(db: Db) -> None:
    await setup_activity(db, ["https://a.example/inbox"])
    (item,) = await claim(db, "w1", T0)
    later = T0 + timedelta(minutes=1)
    async with db.sessions.begin() as session:
        # Only the lease owner may give it back.
        await queue.defer(session, item, "w2", until=later, reason="someone else")
        await queue.defer(session, item, "w1", until=later, reason="breaker open " + "x" * 600)
    (row,) = await all_rows(db)
    assert (row.state, row.attempts, row.last_attempt_at, row.lease_owner) == (
        "pending",
        0,
        None,
        None,
    )
    assert row.next_attempt_at == later
    assert row.last_error is not None and row.last_error.startswith("breaker open")
    assert len(row.last_error) == 500
    assert await claim(db, "w1", T0) == []  # not due before the breaker closes
    assert len(await claim(db, "w1", later)) == 1


async def test_reclaim_expired_returns_only_expired_leases(db: Db) -> None:
    await setup_activity(db, inboxes(2, "dead-worker.example"))
    stale = await claim(db, "crashed", T0, lease=timedelta(minutes=1))
    await add_activity(db, ["https://live.example/inbox"], T0)
    fresh_at = T0 + timedelta(minutes=2)
    (fresh,) = await claim(db, "alive", fresh_at, lease=timedelta(minutes=2))

    async with db.sessions.begin() as session:
        # At expiry exactly the lease still holds.
        assert await queue.reclaim_expired(session, T0 + timedelta(minutes=1)) == 0
    async with db.sessions.begin() as session:
        assert await queue.reclaim_expired(session, T0 + timedelta(minutes=3)) == 2

    rows = await deliveries(db)
    for url in inboxes(2, "dead-worker.example"):
        assert (rows[url].state, rows[url].lease_owner, rows[url].lease_expires_at) == (
            "pending",
            None,
            None,
        )
        assert rows[url].attempts == 0
    live = rows["https://live.example/inbox"]
    assert (live.state, live.lease_owner) == ("sending", "alive")
    assert live.lease_expires_at == fresh_at + timedelta(minutes=2)

    # The crashed worker comes back: its late record must not touch the row.
    async with db.sessions.begin() as session:
        await queue.record(
            session,
            stale[0],
            "crashed",
            S.DELIVERED,
            now=T0,
            status=202,
            error=None,
            next_attempt_at=None,
        )
    assert (await deliveries(db))[stale[0].inbox_url].state == "pending"
    # Reclaimed rows are due again.
    again = await claim(db, "other", T0 + timedelta(minutes=3))
    assert {c.id for c in again} == {c.id for c in stale}
    assert fresh.id not in {c.id for c in again}


async def test_renew_lease_only_for_the_owner(db: Db) -> None:
    await setup_activity(db, ["https://a.example/inbox"])
    (item,) = await claim(db, "w1", T0)
    until = T0 + timedelta(minutes=10)
    async with db.sessions.begin() as session:
        assert await queue.renew_lease(session, item.id, "w2", until) is False
        assert await queue.renew_lease(session, item.id, "w1", until) is True
    (row,) = await all_rows(db)
    assert row.lease_expires_at == until

    # Lease lost (reclaimed), then claimed by someone else: no renewal for w1.
    async with db.sessions.begin() as session:
        assert await queue.reclaim_expired(session, until + timedelta(seconds=1)) == 1
    async with db.sessions.begin() as session:
        assert await queue.renew_lease(session, item.id, "w1", until) is False
    (taken,) = await claim(db, "w2", until + timedelta(seconds=1))
    assert taken.id == item.id
    async with db.sessions.begin() as session:
        assert await queue.renew_lease(session, item.id, "w1", until) is False
        assert await queue.renew_lease(session, item.id, "w2", until) is True


# --- park, retry, counts -------------------------------------------------------------


async def test_park_and_unpark_host(db: Db) -> None:
    await setup_activity(db, [*inboxes(3, "down.example"), "https://up.example/inbox"])
    (sending,) = await claim(db, "w1", T0, limit=1)
    assert sending.host == "down.example"

    async with db.sessions.begin() as session:
        assert await queue.park_host(session, "down.example") == 2
    rows = await deliveries(db)
    assert sorted(r.state for r in rows.values() if r.host == "down.example") == [
        "parked",
        "parked",
        "sending",
    ]
    assert rows["https://up.example/inbox"].state == "pending"
    assert [c.host for c in await claim(db, "w2", T0 + timedelta(hours=1))] == ["up.example"]

    revived = T0 + timedelta(days=4)
    async with db.sessions.begin() as session:
        assert await queue.unpark_host(session, "down.example", revived) == 2
        assert await queue.unpark_host(session, "down.example", revived) == 0
    rows = await deliveries(db)
    unparked = [r for r in rows.values() if r.host == "down.example" and r.id != sending.id]
    assert [(r.state, r.next_attempt_at) for r in unparked] == [("pending", revived)] * 2
    assert rows[sending.inbox_url].state == "sending"


async def test_retry_requeues_failed_dead_and_gone(db: Db) -> None:
    urls = [f"https://{s}.example/inbox" for s in ("failed", "dead", "gone", "done", "waiting")]
    await setup_activity(db, urls)
    rows = await deliveries(db)
    await set_state(db, [rows[urls[0]].id], S.FAILED)
    await set_state(db, [rows[urls[1]].id], S.DEAD)
    await set_state(db, [rows[urls[2]].id], S.GONE)
    await set_state(db, [rows[urls[3]].id], S.DELIVERED)

    now = T0 + timedelta(days=5)
    async with db.sessions.begin() as session:
        assert await queue.retry(session, now, [rows[urls[1]].id, rows[urls[3]].id]) == 1
    after = await deliveries(db)
    assert (after[urls[1]].state, after[urls[1]].next_attempt_at) == ("pending", now)
    assert after[urls[0]].state == "failed"

    async with db.sessions.begin() as session:
        assert await queue.retry(session, now) == 2
    after = await deliveries(db)
    assert {url: row.state for url, row in after.items()} == {
        urls[0]: "pending",
        urls[1]: "pending",
        urls[2]: "pending",
        urls[3]: "delivered",
        urls[4]: "pending",
    }
    assert after[urls[0]].next_attempt_at == now
    assert after[urls[4]].next_attempt_at == T0


async def test_counts_by_state_and_next_due(db: Db) -> None:
    async with db.sessions() as session:
        assert await queue.counts_by_state(session) == {}
        assert await queue.next_due_at(session) is None
    await setup_activity(db, inboxes(6), now=T0)
    await add_activity(db, ["https://b.example/inbox"], T0 - timedelta(minutes=1))
    rows = list((await deliveries(db)).values())
    await claim(db, "w", T0 - timedelta(minutes=1))  # takes the b.example row only
    await set_state(db, [rows[0].id, rows[1].id], S.FAILED)
    await set_state(db, [rows[2].id], S.PARKED)
    async with db.sessions() as session:
        assert await queue.counts_by_state(session) == {
            "pending": 3,
            "failed": 2,
            "parked": 1,
            "sending": 1,
        }
        assert await queue.next_due_at(session) == T0


# --- ledger ---------------------------------------------------------------------------


async def test_ledger_entries_and_retry_are_per_organisation(db: Db) -> None:
    async with db.sessions.begin() as session:
        ours = await make_org(session, "ours")
        theirs = await make_org(session, "theirs")
        our_activity = await make_activity(session, ours)
        their_activity = await make_activity(session, theirs)
        await queue.plan(session, our_activity, ["https://a.example/inbox"], T0)
        await queue.plan(session, their_activity, ["https://a.example/inbox"], T0)
    await set_state(db, [row.id for row in await all_rows(db)], S.FAILED)

    async with db.sessions.begin() as session:
        (entry,) = await ledger.entries(session, ours.id, state=None, limit=10)
        assert (entry.activity_type, entry.inbox_url, entry.state) == (
            "Create",
            "https://a.example/inbox",
            "failed",
        )
        assert await ledger.entries(session, ours.id, state="pending", limit=10) == []
        assert await ledger.retry_failed(session, ours.id, T0) == 1
    async with db.sessions() as session:
        assert await queue.counts_by_state(session) == {"pending": 1, "failed": 1}
        (entry,) = await ledger.entries(session, ours.id, state="pending", limit=10)
    assert ledger.explain(entry, T0) == "waiting for its first try"
    assert "https://a.example/inbox — waiting for its first try" in ledger.format_table([entry], T0)
    assert ledger.format_table([], T0) == "(no deliveries)"


# --- host health ------------------------------------------------------------------------


async def host_row(db: Db, host: str) -> RemoteHost | None:
    async with db.sessions() as session:
        return await session.get(RemoteHost, host)


async def test_failing_host_is_parked_after_park_after_and_revived_by_success(db: Db) -> None:
    await setup_activity(db, [*inboxes(2, "down.example"), "https://up.example/inbox"])

    async def fail(at: datetime) -> bool:
        async with db.sessions.begin() as session:
            return await hosts.record_failure(session, "down.example", at, PARK_AFTER)

    assert await fail(T0) is False
    row = await host_row(db, "down.example")
    assert row is not None
    assert (row.failing_since, row.last_failure_at, row.parked_at) == (T0, T0, None)
    assert await fail(T0 + timedelta(hours=71)) is False
    async with db.sessions() as session:
        assert await hosts.is_parked(session, "down.example") is False
    assert {r.state for r in (await deliveries(db)).values()} == {"pending"}

    parked_at = T0 + PARK_AFTER
    assert await fail(parked_at) is True
    assert await fail(parked_at + timedelta(hours=1)) is False  # already parked
    async with db.sessions() as session:
        assert await hosts.is_parked(session, "down.example") is True
        assert await hosts.is_parked(session, "up.example") is False
    rows = await deliveries(db)
    assert {url: r.state for url, r in rows.items()} == {
        **dict.fromkeys(inboxes(2, "down.example"), "parked"),
        "https://up.example/inbox": "pending",
    }
    row = await host_row(db, "down.example")
    assert row is not None
    assert (row.failing_since, row.parked_at) == (T0, parked_at)
    assert row.last_failure_at == parked_at + timedelta(hours=1)

    back = T0 + timedelta(days=5)
    async with db.sessions.begin() as session:
        await hosts.record_success(session, "down.example", back)
    async with db.sessions() as session:
        assert await hosts.is_parked(session, "down.example") is False
    row = await host_row(db, "down.example")
    assert row is not None
    assert (row.failing_since, row.parked_at, row.last_success_at) == (None, None, back)
    rows = await deliveries(db)
    for url in inboxes(2, "down.example"):
        assert (rows[url].state, rows[url].next_attempt_at) == ("pending", back)

    # A new bout of failures starts the count again.
    assert await fail(back + timedelta(hours=1)) is False
    assert await fail(back + timedelta(hours=2)) is False


async def test_record_successes_is_record_success_for_many_hosts(db: Db) -> None:
    await setup_activity(db, [*inboxes(2, "down.example"), "https://up.example/inbox"])
    async with db.sessions.begin() as session:
        await hosts.record_failure(session, "down.example", T0, PARK_AFTER)
        await hosts.record_failure(session, "down.example", T0 + PARK_AFTER, PARK_AFTER)
        await hosts.record_failure(session, "flaky.example", T0, PARK_AFTER)
    back = T0 + timedelta(days=5)
    async with db.sessions.begin() as session:
        await hosts.record_successes(
            session, {"down.example", "flaky.example", "new.example"}, back
        )
        await hosts.record_successes(session, set(), back)
    for name in ("down.example", "flaky.example", "new.example"):
        row = await host_row(db, name)
        assert row is not None
        assert (row.failing_since, row.parked_at, row.last_success_at) == (None, None, back)
    assert await host_row(db, "up.example") is None
    rows = await deliveries(db)
    for url in inboxes(2, "down.example"):
        assert (rows[url].state, rows[url].next_attempt_at) == ("pending", back)


async def test_revive_unparks_a_host_that_speaks_to_us(db: Db) -> None:
    await setup_activity(db, inboxes(2, "down.example"))
    async with db.sessions.begin() as session:
        assert await hosts.revive(session, "unknown.example", T0) is False
        await hosts.record_success(session, "healthy.example", T0)
    async with db.sessions.begin() as session:
        assert await hosts.revive(session, "healthy.example", T0) is False
        await hosts.record_failure(session, "down.example", T0, PARK_AFTER)
    async with db.sessions.begin() as session:
        assert await hosts.record_failure(session, "down.example", T0 + PARK_AFTER, PARK_AFTER)
    assert {r.state for r in (await deliveries(db)).values()} == {"parked"}

    revived_at = T0 + timedelta(days=4)
    async with db.sessions.begin() as session:
        assert await hosts.revive(session, "down.example", revived_at) is True
    rows = await deliveries(db)
    assert {(r.state, r.next_attempt_at) for r in rows.values()} == {("pending", revived_at)}
    row = await host_row(db, "down.example")
    assert row is not None
    assert (row.parked_at, row.failing_since) == (None, None)
    healthy = await host_row(db, "healthy.example")
    assert healthy is not None
    assert (healthy.last_success_at, healthy.failing_since) == (T0, None)


async def test_signature_schemes_are_remembered(db: Db) -> None:
    async with db.sessions.begin() as session:
        await hosts.remember_scheme(session, "new.example", "rfc9421")
        await hosts.record_success(session, "plain.example", T0)
    async with db.sessions.begin() as session:
        await hosts.remember_scheme(session, "plain.example", "cavage")
    async with db.sessions() as session:
        assert await hosts.signature_schemes(session) == {
            "new.example": "rfc9421",
            "plain.example": "cavage",
        }


async def test_concurrent_first_success_for_a_new_host(db: Db) -> None:
    """Two workers deliver to a host never seen before, at the same time."""

    async def worker() -> None:
        async with db.sessions.begin() as session:
            await hosts.record_success(session, "new.example", T0)

    # Both must commit: each also records its delivery in that transaction.
    await asyncio.gather(worker(), worker())
    row = await host_row(db, "new.example")
    assert row is not None
    assert row.last_success_at == T0
