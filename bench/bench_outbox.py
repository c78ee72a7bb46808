"""Outbox benchmark: status notices through the durable outbox to the strict fake Telegram
server, with the fake enforcing Telegram's limits by answering 429 (30 messages/s overall,
about 1/s per chat). Several notices go to each chat, so the per-chat limit is exercised too.

    .venv/bin/python -m bench.bench_outbox                   # 1,500 notices to 150 chats, SQLite, ~1 min
    .venv/bin/python -m bench.bench_outbox --db postgres     # the same on PostgreSQL (own database, dropped)
    .venv/bin/python -m bench.bench_outbox --db both --count 10000 --chats 2000
    .venv/bin/python -m bench.bench_outbox --quick           # 30 notices to 10 chats: a smoke run
    .venv/bin/python -m bench.bench_outbox --db postgres --senders 3            # three senders, each pacing alone
    .venv/bin/python -m bench.bench_outbox --db postgres --senders 3 --redis redis://127.0.0.1:6379/15
    .venv/bin/python -m bench.bench_outbox --claim           # claim time with 100,000 rows queued (PostgreSQL)

Senders run the pipeline of the runner (OutboxSender.run_forever); several senders stand for
several worker processes (own leases, own pacers, or pacers shared through Redis).

Reports delivered, duplicates, lost, 429s received, chats whose notices arrived out of order,
the shortest gap between two messages to one chat, and the achieved rate as a fraction of
30/s. Targets: >= 0.95 of 30/s, zero 429s, zero lost, order kept per chat.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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
from core import channels  # noqa: E402
from services.sender import OutboxSender  # noqa: E402
from services.shared_pacing import close_pacers, make_pacers  # noqa: E402
import channels as _registered  # noqa: E402,F401  (registers the channels)
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


async def run(url: str, label: str, count: int, chats: int, senders: int = 1, redis_url: str | None = None) -> None:
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
    limits = {"telegram": channels.get("telegram").limit}
    group = [OutboxSender(sessions, {"telegram": TelegramDeliverer(bot)}, worker=f"sender-{i}",
                          pacers=make_pacers(limits, redis_url)) for i in range(senders)]
    if redis_url:  # a fresh budget for this run
        await group[0].pacers["telegram"].redis.delete("assistant:pace:telegram:all")
    stop = asyncio.Event()
    started = time.perf_counter()
    running = [asyncio.create_task(one.run_forever(stop, idle=0.2)) for one in group]
    while True:
        async with sessions() as s:
            left = await s.scalar(select(func.count()).where(OutboxMessage.status == "pending"))
        if not left:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*running)
    for one in group:
        await close_pacers(one.pacers)
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
    pacing = "pacing shared through Redis" if redis_url else "each pacing alone"
    print(f"\noutbox -> fake Telegram (limits enforced), {count} notices to {chats} chats "
          f"({count / chats:g} per chat), {label}, {senders} sender(s), {pacing}")
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


async def claim_timing(url: str, queued: int = 100_000, rounds: int = 50) -> None:
    """The claim of 100 rows with `queued` Telegram rows and as many e-mails waiting: the
    median of `rounds` claims (each rolled back), and the plan's own execution time."""
    from datetime import timedelta
    from sqlalchemy import insert
    from storage.repos import outbox as rows

    db = make_engine(url)
    await migrate.upgrade(db)
    sessions = make_sessionmaker(db)
    now = datetime.now(timezone.utc)
    async with sessions() as s, s.begin():
        for channel in ("telegram", "email"):
            for start in range(0, queued, 5000):
                await s.execute(insert(OutboxMessage), [
                    {"notice": f"{channel}-{i}", "kind": "appeal.status", "lane": 1, "channel": channel,
                     "address": str(100000 + i), "text": "Статус обращения изменён", "buttons": [],
                     "status": "pending", "not_before": now, "attempts": 0}
                    for i in range(start, min(start + 5000, queued))])
    async with db.connect() as conn:
        await conn.exec_driver_sql("ANALYZE outbox")
        await conn.commit()
    times = []
    for _ in range(rounds):
        async with sessions() as s:
            async with s.begin():
                t = time.perf_counter()
                got = await rows.claim(s, channel="telegram", now=now, lease=timedelta(minutes=5), worker="bench",
                                       batch=100)
                times.append((time.perf_counter() - t) * 1000)
                await s.rollback()
    empty = []
    for _ in range(rounds):
        async with sessions() as s, s.begin():
            t = time.perf_counter()
            await rows.claim(s, channel="max", now=now, lease=timedelta(minutes=5), worker="bench", batch=100)
            empty.append((time.perf_counter() - t) * 1000)
    plans = []
    if db.dialect.name == "postgresql":
        for _ in range(rounds):
            async with sessions() as s, s.begin():
                conn = await s.connection()
                compiled = rows.claim_statement("telegram", now, 100).compile(dialect=conn.dialect)
                raw = (await conn.get_raw_connection()).driver_connection
                plan = await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}",
                                          *[compiled.params[n] for n in compiled.positiontup])
                plan = json.loads(plan) if isinstance(plan, str) else plan
                plans.append(plan[0]["Execution Time"])
                await s.rollback()
    print(f"\noutbox claim, {queued:,} Telegram rows and {queued:,} e-mails queued, {db.dialect.name}, "
          f"{rounds} rounds")
    print(f"{'claim of 100 rows':<36}median {statistics.median(times):.2f} ms "
          f"(min {min(times):.2f}, max {max(times):.2f}; {len(got)} rows; target < 2 ms)")
    if plans:
        print(f"{'the claim query (EXPLAIN ANALYZE)':<36}median {statistics.median(plans):.2f} ms "
              f"(min {min(plans):.2f}, max {max(plans):.2f}; the rest is the update of the 100 rows)")
    print(f"{'empty claim (another channel)':<36}median {statistics.median(empty):.2f} ms "
          f"(min {min(empty):.2f}, max {max(empty):.2f})")
    await db.dispose()


async def main(count: int, chats: int, dbs: list[str], senders: int, redis_url: str | None, claim: bool) -> None:
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} ({os.cpu_count()} CPUs)")
    for kind in dbs:
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
                if claim:
                    await claim_timing(f"sqlite+aiosqlite:///{tmp}/bench.db")
                else:
                    await run(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite", count, chats, senders, redis_url)
        else:
            name, url = await load.pg_create()
            try:
                if claim:
                    await claim_timing(url)
                else:
                    await run(url, "PostgreSQL", count, chats, senders, redis_url)
            finally:
                await load.pg_drop(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--chats", type=int, default=150)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument("--senders", type=int, default=1, help="senders side by side (worker processes)")
    parser.add_argument("--redis", default=None, help="share the senders' pacing through this Redis URL")
    parser.add_argument("--claim", action="store_true", help="time the claim with 100,000 rows queued")
    parser.add_argument("--quick", action="store_true", help="30 notices to 10 chats: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.count, args.chats = 30, 10
    db = args.db or ("postgres" if args.claim else "sqlite")
    asyncio.run(main(args.count, args.chats, ["sqlite", "postgres"] if db == "both" else [db],
                     args.senders, args.redis, args.claim))
