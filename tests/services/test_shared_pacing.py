"""Send budgets shared between worker processes through Redis (issue 17 item 2): two outbox
senders (two processes' worth) on one database deliver notices to the strict fake Telegram,
which answers 429 over ~30 messages a second or ~1 a second per chat. Pacing alone, each
sender keeps the limit and together they break it; sharing the budget, they keep it."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timezone

from channels.telegram import TelegramDeliverer
from core import channels
from services import outbox
from services.pacing import Pacer
from services.sender import OutboxSender
from services.shared_pacing import SharedPacer, close_pacers, make_pacers
from storage.db import make_engine, make_sessionmaker
from tests.channels.telegram.test_telegram_harness import fake  # noqa: F401  (fixture)
from tests.channels.telegram.test_telegram_outbox import make_bot

async def deliver_with_two_senders(db_url, fake, pacers_for) -> None:
    """40 notices: 30 chats with one each, and 10 more to chat 1 (its per-chat interval)."""
    engine = make_engine(db_url)
    db = make_sessionmaker(engine)
    chats = [800000 + i for i in range(30)]
    for chat in chats:
        fake.add_chat(chat)
    async with db() as session, session.begin():
        for i, chat in enumerate(chats + [chats[0]] * 10):
            await outbox.enqueue(session, citizen_id=None, kind="status", targets=[("telegram", str(chat))],
                                 text=f"Уведомление {i}", not_before=datetime.now(timezone.utc))
    bot = make_bot(fake.base_url, fake.token)
    senders = [OutboxSender(db, {"telegram": TelegramDeliverer(bot)}, worker=f"w{i}", batch=20,
                            pacers=pacers_for()) for i in range(2)]
    stop = asyncio.Event()
    running = [asyncio.create_task(s.run_forever(stop, idle=0.1)) for s in senders]
    try:
        await fake.wait_for_messages(40, timeout=30)
    finally:
        stop.set()
        await asyncio.gather(*running)
        for s in senders:
            await close_pacers(s.pacers)
        await bot.session.close()
        await engine.dispose()


async def test_two_senders_sharing_the_budget_get_no_429(db_url, redis_url, fake):
    fake.enforce_limits = True
    prefix = f"test:{uuid.uuid4().hex}"
    limits = {"telegram": channels.get("telegram").limit}

    def shared():
        pacers = make_pacers(limits, redis_url)
        for p in pacers.values():
            p.key = f"{prefix}:telegram"
        return pacers

    await deliver_with_two_senders(db_url, fake, shared)
    assert fake.limit_hits == 0
    texts = [m.text for m in fake.sent_messages(800000)]
    assert texts == [f"Уведомление {i}" for i in [0, *range(30, 40)]]  # one chat's order kept


async def test_two_senders_pacing_alone_break_the_limit(db_url, fake):
    """The same load without Redis: each sender keeps 30/s, together they go over it."""
    fake.enforce_limits = True
    limits = {"telegram": channels.get("telegram").limit}
    await deliver_with_two_senders(db_url, fake, lambda: {ch: Pacer(lim) for ch, lim in limits.items()})
    assert fake.limit_hits > 0


async def test_redis_down_means_pacing_alone_not_stopping(caplog):
    """With Redis unreachable the sender still sends, at its own pace, and says so once."""
    import redis.asyncio as aioredis

    client = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    pacer = SharedPacer(channels.get("telegram").limit, client, "telegram")
    with caplog.at_level(logging.WARNING, logger="services.shared_pacing"):
        for chat in ("1", "2", "3"):
            await asyncio.wait_for(pacer.wait(chat), 5)
    await client.aclose()
    assert [r.getMessage() for r in caplog.records].count(
        "shared pacing: Redis failed (ConnectionError); pacing in this process only") == 1
