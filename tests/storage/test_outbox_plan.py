"""The outbox claim at scale (issue 17 item 3): with 100,000 notices queued under one
`not_before` for Telegram and 100,000 e-mails waiting for an SMTP server, a claim reads one
range of the partial index ix_outbox_claim — no sequential scan, no sort, however long the
backlog — and gives the oldest rows of the lowest lane. bench/bench_outbox.py --plan prints the
claim's time on the same data."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, text
from sqlalchemy.dialects import sqlite

from storage.db import make_engine, make_sessionmaker
from storage.models import OutboxMessage
from storage.repos import outbox as rows

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


async def fill(session, channel: str, count: int, *, lane: int = 1, status: str = "pending",
               not_before: datetime = NOW - timedelta(minutes=5)) -> None:
    for start in range(0, count, 5000):
        await session.execute(insert(OutboxMessage), [
            {"notice": f"{channel}-{status}-{i}", "kind": "appeal.status", "lane": lane, "channel": channel,
             "address": str(100000 + i), "text": "Статус обращения изменён", "buttons": [], "status": status,
             "not_before": not_before, "attempts": 0} for i in range(start, min(start + 5000, count))])


async def explain(session, stmt) -> str:
    """The database's plan of `stmt`, as text (PostgreSQL: JSON; SQLite: the plan's lines)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":  # through the driver: EXPLAIN of the statement as sent
        compiled = stmt.compile(dialect=conn.dialect)
        args = [compiled.params[name] for name in compiled.positiontup]
        raw = (await conn.get_raw_connection()).driver_connection
        plan = await raw.fetchval(f"EXPLAIN (FORMAT JSON) {compiled}", *args)
        return plan if isinstance(plan, str) else json.dumps(plan)
    compiled = stmt.compile(dialect=sqlite.dialect(paramstyle="named"))
    params = {k: v.isoformat(" ") if isinstance(v, datetime) else v for k, v in compiled.params.items()}
    return " | ".join(r[-1] for r in await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"), params))


@pytest.fixture
async def backlog(db_url):
    engine = make_engine(db_url)
    db = make_sessionmaker(engine)
    big = 100_000 if engine.dialect.name == "postgresql" else 20_000
    async with db() as session, session.begin():
        await fill(session, "telegram", big)
        await fill(session, "telegram", 2_000, status="sent")
        await fill(session, "email", big)  # no SMTP server: never claimed, never scanned
        await fill(session, "telegram", 50, lane=0)  # answers go first
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    try:
        yield db, engine.dialect.name
    finally:
        await engine.dispose()


async def test_claim_reads_one_index_range_and_keeps_lane_order(backlog):
    db, dialect = backlog
    async with db() as session, session.begin():
        plan = await explain(session, rows.claim_statement("telegram", NOW, 100))
        if dialect == "postgresql":
            assert "ix_outbox_claim" in plan and "Seq Scan" not in plan and '"Sort"' not in plan, plan
        else:
            assert "ix_outbox_claim" in plan and "TEMP B-TREE" not in plan, plan
        got = await rows.claim(session, channel="telegram", now=NOW, lease=timedelta(minutes=5), worker="w1",
                               batch=100)
    assert len(got) == 100
    assert [r.lane for r in got] == [0] * 50 + [1] * 50  # the answers first, then the oldest of the rest
    assert all(r.channel == "telegram" and r.status == "pending" for r in got)


async def test_two_claimers_never_share_a_row(backlog):
    db, _ = backlog
    async with db() as one, one.begin():
        first = await rows.claim(one, channel="telegram", now=NOW, lease=timedelta(minutes=5), worker="w1",
                                 batch=200)
    async with db() as two, two.begin():
        second = await rows.claim(two, channel="telegram", now=NOW, lease=timedelta(minutes=5), worker="w2",
                                  batch=200)
    assert len(first) == len(second) == 200
    assert not {r.id for r in first} & {r.id for r in second}


async def test_a_chat_in_one_senders_hands_is_left_to_it(db_url):
    """One chat's notices go out from one sender at a time, so they keep their order and the
    chat's interval even with several senders (issue 17 item 2)."""
    engine = make_engine(db_url)
    db = make_sessionmaker(engine)
    try:
        async with db() as session, session.begin():
            await session.execute(insert(OutboxMessage), [
                {"notice": f"n{i}", "kind": "appeal.status", "lane": 1, "channel": "telegram", "address": address,
                 "text": f"Уведомление {i}", "buttons": [], "status": "pending",
                 "not_before": NOW - timedelta(minutes=1), "attempts": 0}
                for i, address in enumerate(["111", "111", "111", "222"])])
        lease = timedelta(minutes=5)
        async with db() as session, session.begin():
            first = await rows.claim(session, channel="telegram", now=NOW, lease=lease, worker="w1", batch=1)
        async with db() as session, session.begin():
            second = await rows.claim(session, channel="telegram", now=NOW, lease=lease, worker="w2", batch=10)
        async with db() as session, session.begin():
            more = await rows.claim(session, channel="telegram", now=NOW, lease=lease, worker="w1", batch=10)
        assert [r.text for r in first] == ["Уведомление 0"]
        assert [r.address for r in second] == ["222"]  # chat 111 is in w1's hands
        assert [r.text for r in more] == ["Уведомление 1", "Уведомление 2"]
    finally:
        await engine.dispose()
