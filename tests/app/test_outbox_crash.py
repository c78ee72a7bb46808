"""Issue 10, item 2: outbox outcomes are recorded right after each send, so a `kill -9` of the
sender during a batch of Telegram notices repeats at most the messages in flight at that moment
(Telegram has no idempotency key; VK drops even those by random_id). A real `python -m bot run`
(ROLE=sender) sends 240 notices to 80 chats through the fake Telegram, which enforces its flood
limits and answers each send after 0.15 s (a real round trip); it is killed three times mid-batch.
A dead process's claims expire after the lease (five minutes); the test lets that time pass by
clearing the leases before each restart.

Bounds: never more than the sender's concurrency per kill (its sends in flight), and in sum
about what is awaiting Telegram's answer at a kill (30/s x 0.15 s = 4.5) per kill; outcomes
committed in groups gave 7 a kill (issue 10). Measured: 0 or 1 a kill."""
from __future__ import annotations

import asyncio
import signal
import statistics
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import update

import channels  # noqa: F401  (registers the channels)
from services import outbox
from services.sender import OutboxSender
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.models import OutboxMessage
from tests.app.crash_harness import BotProcess, until
from tests.fakes.telegram_api import FakeTelegram

CHATS = [810000 + i for i in range(80)]
PER_CHAT = 3
TOTAL = len(CHATS) * PER_CHAT
KILLS_AT = (50, 110, 170)  # messages received by the fake when the sender is killed
CONCURRENCY = OutboxSender.__init__.__kwdefaults__["concurrency"]  # the sender's sends in flight


def text_of(i: int) -> str:
    return f"Обращение ЖН-2026-{i:06d}: взято в работу."


async def enqueue_all(sessions) -> None:
    now = datetime.now(timezone.utc)
    async with sessions() as s, s.begin():
        for i in range(TOTAL):
            chat = CHATS[i // PER_CHAT]
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", str(chat))],
                                 text=text_of(i), not_before=now)


async def lease_runs_out(sessions) -> None:
    """What five minutes after the crash look like: the dead sender's claims are free again."""
    async with sessions() as s, s.begin():
        await s.execute(update(OutboxMessage).where(OutboxMessage.status == outbox.PENDING)
                        .values(claimed_until=None, claimed_by=None))


def per_kill(sent: list[str], kills: list[int]) -> list[int]:
    """Duplicates charged to each kill: texts whose first copy was received before that kill
    (and after the one before) and which came again."""
    first: dict[str, int] = {}
    for n, text in enumerate(sent):
        first.setdefault(text, n)
    again = [first[t] for t, count in Counter(sent).items() for _ in range(count - 1)]
    bounds = [0, *kills]
    return [sum(lo <= n < hi for n in again) for lo, hi in zip(bounds, bounds[1:])]


async def test_a_kill_during_a_batch_repeats_at_most_the_sends_in_flight(tmp_path):
    tg = FakeTelegram(enforce_limits=True)
    await tg.start()
    for chat in CHATS:
        tg.add_chat(chat)
    tg.delay_next("sendMessage", 0.15, count=10 * TOTAL)
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    db = make_engine(url)
    await migrate.upgrade(db)
    sessions = make_sessionmaker(db)
    await enqueue_all(sessions)
    env = {"DATABASE_URL": url, "ROLE": "sender", "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url}

    def texts() -> list[str]:
        return [m.text for m in tg.sent_messages()]

    kills: list[int] = []
    try:
        for at in KILLS_AT:
            bot = BotProcess(tmp_path, env)
            await bot.start()
            await until(lambda: len(texts()) >= at, 90, f"{at} notices", bot)
            await bot.kill(signal.SIGKILL)
            await asyncio.sleep(0.5)  # sends the fake had received finish (Telegram delivers them)
            kills.append(len(texts()))
            await lease_runs_out(sessions)
        bot = BotProcess(tmp_path, env)
        await bot.start()
        await until(lambda: len(set(texts())) >= TOTAL, 90, "every notice", bot)
        await bot.kill(signal.SIGTERM)
    finally:
        await tg.stop()
        await db.dispose()
    sent = texts()
    lost = TOTAL - len(set(sent) & {text_of(i) for i in range(TOTAL)})
    twice = per_kill(sent, kills)
    print(f"\noutbox, Telegram, {TOTAL} notices, kill -9 at {kills}: {lost} lost, duplicates per kill {twice} "
          f"(median {statistics.median(twice)}), {len(sent) - len(set(sent))} in all; 429s {tg.limit_hits}")
    assert lost == 0
    assert len(sent) - len(set(sent)) == sum(twice)  # every repeat follows a kill
    assert max(twice) <= CONCURRENCY
    assert sum(twice) <= 5 * len(KILLS_AT)
