"""The outbox sender: retries, fallbacks, crashes, several senders (R-2.1, R-2.2, R-3.8)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.sender import LEASE, OutboxSender
from services import outbox
from core.channels import Limit
from core.ports import RetryLater
from core.events import Reply
from storage.models import Identity, OutboxMessage
from tests.journey import submit_appeal
from tests.outbox_helpers import act, add_staff, outbox_rows, recorders

NO_LIMITS = {}


def sender(app, deliverers, **kw) -> OutboxSender:
    return OutboxSender(app.sessionmaker, deliverers, limits=NO_LIMITS, clock=app.engine.deps.clock, **kw)


async def answered(chat, app, **journey):
    await submit_appeal(chat, **journey)
    staff = await add_staff(app)
    await act(app, "take", staff)
    await act(app, "answer", staff, note="Крышу починят до 1 апреля.")


async def test_answer_reaches_mandatory_and_additional_channel_R_3_8(chat, app):
    d = recorders("telegram", "email")
    await answered(chat, app)
    assert await sender(app, d).drain() > 0
    assert any("Крышу починят" in t for t in d["email"].texts("ivanova@example.ru"))
    assert any("Крышу починят" in t for t in d["telegram"].texts("1001"))
    assert all(r.status == "sent" for r in await outbox_rows(app))


async def test_temporary_failures_retry_with_backoff_and_honour_retry_after(app, clock):
    d = recorders("telegram")
    async with app.sessionmaker() as s, s.begin():
        await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", "7")], text="Статус",
                             not_before=clock.now)
    d["telegram"].fail = [RetryLater("429 Too Many Requests", 17), TimeoutError("read timeout"),
                          RetryLater("502 Bad Gateway")]
    s = sender(app, d)

    async def row():
        return (await outbox_rows(app))[0]

    await s.drain()
    assert (await row()).not_before == clock.now + timedelta(seconds=17) and "429" in (await row()).last_error
    clock.now += timedelta(seconds=16)
    assert await s.drain() == 0  # retry_after is honoured
    clock.now += timedelta(seconds=1)
    await s.drain()
    r = await row()
    assert r.attempts == 2 and "TimeoutError" in r.last_error
    assert r.not_before == clock.now + timedelta(seconds=10)  # backoff: 5 s, 10 s, 20 s …
    clock.now += timedelta(seconds=10)
    await s.drain()
    assert (await row()).status == "pending" and d["telegram"].sent == []
    clock.now += timedelta(seconds=20)
    await s.drain()
    assert (await row()).status == "sent" and d["telegram"].texts() == ["Статус"]


async def test_a_notice_waiting_for_a_429_retry_keeps_its_chat_in_order(app, clock):
    """Telegram's 429 on the first of three notices to one chat: the other two wait behind it,
    so the citizen reads them in the order they were written (issue 17 item 2)."""
    d = recorders("telegram")
    async with app.sessionmaker() as s, s.begin():
        for n in (1, 2, 3):
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", "7")],
                                 text=f"Статус {n}", not_before=clock.now)
    d["telegram"].fail = [RetryLater("429 Too Many Requests", 3)]
    s = OutboxSender(app.sessionmaker, d, limits={"telegram": Limit(per_second=100, per_address_interval=0.2)},
                     clock=app.engine.deps.clock)  # one chat's notices paced apart, as in Telegram
    await s.drain()
    assert d["telegram"].texts() == []  # the 1st waits for its retry, the 2nd and 3rd behind it
    clock.now += timedelta(seconds=3)
    await s.drain()
    assert d["telegram"].texts() == ["Статус 1", "Статус 2", "Статус 3"]


async def test_a_notice_failing_for_long_does_not_hold_its_chat(app, clock):
    """A notice whose retries are far apart (the backoff has grown past a minute) lets the
    chat's later notices go meanwhile: nothing waits behind it for hours."""
    d = recorders("telegram")
    async with app.sessionmaker() as s, s.begin():
        for n in (1, 2):
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", "7")],
                                 text=f"Статус {n}", not_before=clock.now)
        await s.execute(update(OutboxMessage).where(OutboxMessage.text == "Статус 1").values(attempts=5))
    d["telegram"].fail = [RetryLater("502 Bad Gateway", None)]  # no hint: the 6th backoff, 160 s
    await sender(app, d).drain()
    assert d["telegram"].texts() == ["Статус 2"]


async def test_blocked_messenger_falls_back_and_staff_see_the_failure_R_2_1(chat, app):
    """A notice to a blocked bot goes to the next reachable channel; the failure stays visible."""
    d = recorders("telegram", "vk", "email")
    await submit_appeal(chat, postal="414000, г. Астрахань, ул. Ленина, д. 5, кв. 12")
    d["telegram"].blocked.add("1001")
    staff = await add_staff(app)
    await act(app, "take", staff)
    await sender(app, d).drain()
    rows = await outbox_rows(app)
    dead = [r for r in rows if r.status == "dead"]
    assert [(r.channel, r.last_error) for r in dead] == [("telegram", "blocked by the user")]
    async with app.sessionmaker() as s:
        ident = (await s.execute(select(Identity).where(Identity.channel == "telegram"))).scalar_one()
    assert not ident.reachable and ident.unreachable_reason == "blocked by the user"
    # No e-mail and not final: nothing else to try yet; the final answer becomes a letter for staff.
    await act(app, "answer", staff, note="Ответ.")
    await sender(app, d).drain()
    letters = [r for r in await outbox_rows(app) if r.status == "task"]
    assert [(r.channel, r.address[:6]) for r in letters] == [("post", "414000")]


async def test_blocked_messenger_falls_back_to_email_for_the_same_notice(chat, app):
    d = recorders("telegram", "email")
    await submit_appeal(chat, email="a@example.ru", extra="Да, дублировать сюда")
    async with app.sessionmaker() as s, s.begin():  # the citizen asked for Telegram only
        await s.execute(update(OutboxMessage).values(status="sent"))
    d["telegram"].blocked.add("1001")
    staff = await add_staff(app)
    await act(app, "take", staff)
    await sender(app, d).drain()
    # the e-mail copy was due anyway (mandatory); the Telegram one is dead, nothing is doubled
    assert len(d["email"].texts("a@example.ru")) == 1


async def test_expired_rows_are_dropped_not_sent(app, clock):
    d = recorders("telegram")
    async with app.sessionmaker() as s, s.begin():
        await outbox.enqueue(s, citizen_id=None, kind="reminder", targets=[("telegram", "5")], text="Напоминание",
                             not_before=clock.now - timedelta(hours=3), expires_at=clock.now - timedelta(minutes=1))
        await outbox.enqueue(s, citizen_id=None, kind="reminder", targets=[("telegram", "6")], text="Напоминание",
                             not_before=clock.now - timedelta(hours=3), expires_at=clock.now + timedelta(minutes=30))
    await sender(app, d).drain()
    assert [(r.address, r.status) for r in await outbox_rows(app)] == [("5", "dropped"), ("6", "sent")]
    assert d["telegram"].texts() == ["Напоминание"]


async def test_sender_killed_mid_batch_loses_nothing(app, clock):
    """A process dies after claiming a batch; after the lease another sender delivers all of it."""
    async with app.sessionmaker() as s, s.begin():
        for i in range(20):
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("vk", str(i))], text=f"n{i}",
                                 not_before=clock.now)
    d = recorders("vk")
    dying = sender(app, d, batch=20)
    claimed = await dying.claim()
    assert len(claimed) == 20
    # it delivers a few and dies before marking them
    for row in claimed[:5]:
        await d["vk"].deliver(row.address, Reply(row.text), row.id)
    other = sender(app, d)
    assert await other.drain() == 0  # the claims still hold
    clock.now += LEASE + timedelta(seconds=1)
    await other.drain()
    rows = await outbox_rows(app)
    assert all(r.status == "sent" for r in rows)
    keys = [k for _, _, k in d["vk"].sent]
    assert set(keys) == {r.id for r in rows}
    # the five resent ones carry the same key, so VK's random_id de-duplication drops them
    assert len(keys) - len(set(keys)) == 5


@pytest.mark.parametrize("workers", [2])
async def test_two_senders_share_the_outbox_without_doubles(app, clock, workers):
    async with app.sessionmaker() as s, s.begin():
        for i in range(300):
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", str(i % 50))],
                                 text=f"n{i}", not_before=clock.now)
    d = recorders("telegram")
    d["telegram"].delay = 0.001
    senders = [sender(app, d, batch=25) for _ in range(workers)]
    await asyncio.gather(*(s.drain() for s in senders))
    keys = [k for _, _, k in d["telegram"].sent]
    assert len(keys) == 300 and len(set(keys)) == 300
    assert all(r.status == "sent" for r in await outbox_rows(app))


async def test_reminder_withdrawn_after_the_claim_is_not_sent(app, clock):
    """A visit cancelled between the sender's claim and the send never gets its reminder."""
    async with app.sessionmaker() as s, s.begin():
        notice = await outbox.enqueue(s, citizen_id=None, kind="reminder", targets=[("telegram", "5")],
                                      text="Напоминание", not_before=clock.now,
                                      expires_at=clock.now + timedelta(hours=2))
    d = recorders("telegram")
    snd = sender(app, d)
    [row] = await snd.claim()
    async with app.sessionmaker() as s, s.begin():
        await outbox.cancel(s, notice=notice)
    await snd._deliver(row)
    assert d["telegram"].sent == []
    assert [r.status for r in await outbox_rows(app)] == ["cancelled"]
