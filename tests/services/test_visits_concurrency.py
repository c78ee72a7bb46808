"""No slot is ever booked twice (R-6.1–R-6.2), and the rating request goes once (R-6.8), under
real concurrency on PostgreSQL: separate sessions, separate connections, one database."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import dialogs.visits  # noqa: F401  registers the visit steps (the engine imports it once wired)
from bot.app import build_app
from services import visits as V
from storage.models import Citizen, OutboxMessage, Visit
from tests.conftest import Chat, _pg_available, create_pg_database, drop_pg_database, make_settings
from tests.engine.test_visits import THU_10, add_slots, open_booking, visitor

N = 50


@pytest.fixture
async def pg_app(tmp_path, clock):
    reason = await _pg_available()
    if reason:
        pytest.skip(reason)
    name, url = await create_pg_database()
    application = await build_app(make_settings(url, tmp_path), clock=clock)
    try:
        yield application
    finally:
        await application.close()
        await drop_pg_database(name)


async def test_fifty_citizens_press_book_on_one_slot_at_once_R_6_2(pg_app):
    """R-6.2: 50 engine calls book the same time at once: exactly one wins; the others are told
    it was just taken and shown the times still free."""
    app = pg_app
    await add_slots(app, first=date(2026, 3, 5), last=date(2026, 3, 5))
    chats = [Chat(app, user_id=str(5000 + i)) for i in range(N)]
    for chat in chats:
        await open_booking(chat)
        await chat.press("Содержание дома")
        await chat.press("Чт 05.03")
        await chat.press("10:00")
        await visitor(chat)
    texts = await asyncio.gather(*(chat.press("Не напоминать") for chat in chats))
    won = [t for t in texts if "Вы записаны" in t]
    lost = [c for c, t in zip(chats, texts) if "только что заняли" in t]
    assert len(won) == 1 and len(lost) == N - 1
    assert all("10:00" not in c.labels and "10:30" in c.labels for c in lost)
    async with app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Visit)) == 1


async def test_fifty_sessions_book_one_slot_through_the_service_R_6_2(pg_app):
    """R-6.2: the same through the service, 50 transactions on 50 sessions: one visit, 49 TAKEN."""
    app = pg_app
    await add_slots(app, first=date(2026, 3, 5), last=date(2026, 3, 5))
    async with app.sessionmaker() as s, s.begin():
        people = [Citizen() for _ in range(N)]
        s.add_all(people)
    now, tz = app.engine.deps.clock(), app.engine.deps.calendar.tz

    async def attempt(citizen_id: int) -> str:
        try:
            async with app.sessionmaker() as s, s.begin():
                citizen = await s.get(Citizen, citizen_id)
                await V.book(s, citizen, V.Choice("other", THU_10, "telegram"), now=now, profile=app.profile, tz=tz)
            return "won"
        except V.BookingError as e:
            return e.reason

    outcomes = await asyncio.gather(*(attempt(p.id) for p in people))
    assert outcomes.count("won") == 1 and outcomes.count(V.BookingError.TAKEN) == N - 1
    async with app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Visit).where(Visit.slot_id.isnot(None))) == 1


async def test_two_processes_asking_ratings_at_once_queue_one_request_per_visit_R_6_8(pg_app):
    """R-6.8: several bot processes run the rating job; each visit is asked exactly once."""
    app = pg_app
    await add_slots(app, first=date(2026, 3, 5), last=date(2026, 3, 5))
    chats = [Chat(app, user_id=str(6000 + i)) for i in range(10)]
    times = ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00"]
    for chat, time in zip(chats, times):
        await open_booking(chat)
        await chat.press("Содержание дома")
        await chat.press("Чт 05.03")
        await chat.press(time)
        await visitor(chat)
        await chat.press("Не напоминать")
    later = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
    counts = await asyncio.gather(*(V.ask_ratings(app.sessionmaker, later, profile=app.profile, tz=app.engine.deps.calendar.tz) for _ in range(4)))
    assert sum(counts) == 10
    async with app.sessionmaker() as s:
        kinds = (await s.scalars(select(OutboxMessage.citizen_id).where(OutboxMessage.kind == V.RATING_KIND))).all()
    assert len(kinds) == len(set(kinds)) == 10
    assert await V.ask_ratings(app.sessionmaker, later + timedelta(minutes=5), profile=app.profile, tz=app.engine.deps.calendar.tz) == 0
