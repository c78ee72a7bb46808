"""Outbox benchmark: status notices through the durable outbox to the strict fake Telegram
server, with the fake enforcing Telegram's limits by answering 429 (30 messages/s overall,
about 1/s per chat). Several notices go to each chat, so the per-chat limit is exercised too.

    .venv/bin/python -m bench.bench_outbox                   # 1,500 notices to 150 chats, SQLite, ~1 min
    .venv/bin/python -m bench.bench_outbox --db postgres     # the same on PostgreSQL (own database, dropped)
    .venv/bin/python -m bench.bench_outbox --db both --count 10000 --chats 2000
    .venv/bin/python -m bench.bench_outbox --quick           # 30 notices to 10 chats: a smoke run

Reports delivered, duplicates, lost, 429s received, chats whose notices arrived out of order,
the shortest gap between two messages to one chat, and the achieved rate as a fraction of
30/s. Targets: >= 0.95 of 30/s, zero 429s, zero lost, order kept per chat.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench import load  # noqa: E402
from services.sender import OutboxSender  # noqa: E402
from services import outbox  # noqa: E402
from channels.telegram import TelegramDeliverer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

TELEGRAM_LIMIT = 30.0


class StampedFake(FakeTelegram):
    """Notes when each message reached the fake, for the per-chat gaps."""

    def __init__(self) -> None:
        super().__init__(enforce_limits=True)
        self.times: dict[int, list[float]] = defaultdict(list)

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        message = super()._api_sendMessage(params, files)
        self.times[message["chat"]["id"]].append(time.monotonic())
        return message


async def run(url: str, label: str, count: int, chats: int) -> None:
    fake = StampedFake()
    await fake.start()
    db = make_engine(url)
    await migrate.upgrade(db)
    sessions = make_sessionmaker(db)
    chat_ids = [700000 + i for i in range(chats)]
    for chat_id in chat_ids:
        fake.add_chat(chat_id)
    now = datetime.now(timezone.utc)
    async with sessions() as s, s.begin():
        per_chat = -(-count // chats)
        for i in range(count):  # a chat's notices one after another, numbered: the per-chat limit holds them back
            chat = chat_ids[i // per_chat]
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", str(chat))],
                                 text=f"Обращение ЖН-2026-{i:06d}: взято в работу. Уведомление {i % per_chat + 1}.",
                                 not_before=now)
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

    sent = fake.sent_messages()
    texts = Counter((m.chat_id, m.text) for m in sent)
    delivered = len(texts)
    duplicates = sum(n - 1 for n in texts.values())
    per_chat: dict[int, list[int]] = defaultdict(list)
    for m in sent:
        per_chat[m.chat_id].append(int(m.text.rsplit(" ", 1)[1].rstrip(".")))
    disordered = sum(1 for seq in per_chat.values() if seq != sorted(seq))
    gaps = [b - a for times in fake.times.values() for a, b in zip(times, times[1:])]
    async with sessions() as s:
        statuses = dict((await s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    rate = delivered / elapsed
    print(f"\noutbox -> fake Telegram (limits enforced), {count} notices to {chats} chats "
          f"({count / chats:g} per chat), {label}")
    print(f"{'delivered':<32}{delivered}")
    print(f"{'duplicates':<32}{duplicates}")
    print(f"{'lost':<32}{count - delivered}")
    print(f"{'429s received':<32}{fake.limit_hits}")
    print(f"{'chats out of order':<32}{disordered}")
    print(f"{'shortest gap within a chat':<32}{min(gaps):.2f} s" if gaps else f"{'shortest gap within a chat':<32}n/a")
    print(f"{'outbox rows by status':<32}{statuses}")
    print(f"{'elapsed':<32}{elapsed:.1f} s")
    print(f"{'achieved rate':<32}{rate:.2f} msg/s = {rate / TELEGRAM_LIMIT:.3f} of 30/s (target >= 0.95)")
    await fake.stop()
    await db.dispose()


async def main(count: int, chats: int, dbs: list[str]) -> None:
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} ({os.cpu_count()} CPUs)")
    for kind in dbs:
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
                await run(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite", count, chats)
        else:
            name, url = await load.pg_create()
            try:
                await run(url, "PostgreSQL", count, chats)
            finally:
                await load.pg_drop(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--chats", type=int, default=150)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="30 notices to 10 chats: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.count, args.chats = 30, 10
    asyncio.run(main(args.count, args.chats, ["sqlite", "postgres"] if args.db == "both" else [args.db]))
