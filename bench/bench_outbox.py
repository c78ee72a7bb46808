"""Outbox benchmark: status notices through the durable outbox to the strict fake Telegram
server, with the fake enforcing Telegram's limits by answering 429 (30 messages/s overall,
about 1/s per chat).

    .venv/bin/python -m bench.bench_outbox              # 10,000 notices, about 6 minutes
    .venv/bin/python -m bench.bench_outbox --count 1000 # a quicker look

Reports delivered, duplicates, 429s received, lost, and the achieved rate as a fraction of
30/s. Targets from the issue: >= 0.95 of 30/s, zero 429s, zero lost.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from services.sender import OutboxSender  # noqa: E402
from services import outbox  # noqa: E402
from channels.telegram import TelegramDeliverer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

TELEGRAM_LIMIT = 30.0


async def main(count: int, chats: int) -> None:
    fake = FakeTelegram(enforce_limits=True)
    await fake.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    db = make_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
    await migrate.upgrade(db)
    sessions = make_sessionmaker(db)
    chat_ids = [700000 + i for i in range(chats)]
    for chat_id in chat_ids:
        fake.add_chat(chat_id)
    now = datetime.now(timezone.utc)
    async with sessions() as s, s.begin():
        for i in range(count):
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", str(chat_ids[i % chats]))],
                                 text=f"Обращение ЖН-2026-{i:06d}: взято в работу.", not_before=now)
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    sender = OutboxSender(sessions, {"telegram": TelegramDeliverer(bot)})
    started = time.perf_counter()
    while True:
        async with sessions() as s:
            left = await s.scalar(select(func.count()).where(OutboxMessage.status == "pending"))
        if not left:
            break
        if not await sender.run_once():
            await asyncio.sleep(0.2)  # only retries waiting for their time
    elapsed = time.perf_counter() - started
    await bot.session.close()

    texts = Counter((m.chat_id, m.text) for m in fake.sent_messages())
    delivered = len(texts)
    duplicates = sum(n - 1 for n in texts.values())
    async with sessions() as s:
        statuses = dict((await s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    rate = delivered / elapsed
    print(f"outbox -> fake Telegram (limits enforced), {count} notices to {chats} chats, SQLite")
    print(f"{'delivered':<28}{delivered}")
    print(f"{'duplicates':<28}{duplicates}")
    print(f"{'lost':<28}{count - delivered}")
    print(f"{'429s received':<28}{fake.limit_hits}")
    print(f"{'outbox rows by status':<28}{statuses}")
    print(f"{'elapsed':<28}{elapsed:.1f} s")
    print(f"{'achieved rate':<28}{rate:.2f} msg/s = {rate / TELEGRAM_LIMIT:.3f} of 30/s (target >= 0.95)")
    await fake.stop()
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.chats))
