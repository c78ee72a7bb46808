"""Several worker processes on one PostgreSQL (issue 17 item 1): any worker may receive any
webhook update, and one chat's updates still go one at a time, in the order they arrived.

Two Apps with their own database engines and webhook servers stand for two worker processes
behind a reverse proxy; the per-chat lock they share is PostgreSQL's (storage/locks.py)."""
from __future__ import annotations

import asyncio
import time

from bot.app import build_app
from tests.channels.telegram.test_telegram_harness import (  # noqa: F401  (fixtures)
    CHAT, SECRET, TgChat, fake, start_webhook, telegram_settings,
)
from tests.channels.telegram.test_telegram_reliability import to_text_step
from tests.journey import ROOF_TEXT


async def worker(pg_url, tmp_path, fake, clock, name, **extra):
    app = await build_app(telegram_settings(
        pg_url, tmp_path / name, fake, TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg",
        TELEGRAM_WEBHOOK_SECRET=SECRET, **extra), clock=clock)
    return app, await start_webhook(app)


async def test_one_chat_in_order_across_two_workers(fake, pg_url, tmp_path, clock):
    """A photo reaches worker A and is slow to fetch; the text the citizen sent right after it
    reaches worker B. B waits for A: the photo is acknowledged first, then the text."""
    (app_a, hook_a), (app_b, hook_b) = [await worker(pg_url, tmp_path, fake, clock, n) for n in "ab"]
    try:
        chat = TgChat(fake, hook_a.channel, webhook=hook_a)
        await to_text_step(chat)
        before = len(fake.sent_messages(CHAT))
        fake.delay_next("getFile", 1.0)
        photo = asyncio.create_task(fake.post_update_to(hook_a.url, fake.photo_update(CHAT, b"\xff\xd8\xff slow"),
                                                        secret_token=SECRET))
        deadline = time.monotonic() + 5
        while not any(c.method == "getFile" for c in fake.requests):  # A is handling the photo
            assert time.monotonic() < deadline, "worker A never fetched the photo"
            await asyncio.sleep(0.01)
        text = await fake.post_update_to(hook_b.url, fake.message_update(CHAT, ROOF_TEXT), secret_token=SECRET)
        assert (await photo, text) == (200, 200)
        [first, second] = (await fake.wait_for_messages(before + 2, chat_id=CHAT))[before:]
        assert "Файл «photo_" in first.text and "Всего файлов: 1" in first.text
        assert "Текст сохранён" in second.text
        deadline = time.monotonic() + 3  # both finished (on PostgreSQL with the chat lock's unlock)
        while await app_a.unfinished("telegram"):
            assert time.monotonic() < deadline, "an update was answered but never finished"
            await asyncio.sleep(0.02)
    finally:
        for app, hook in ((app_a, hook_a), (app_b, hook_b)):
            await hook.runner.cleanup()
            await hook.channel.stop()
            await app.close()


async def test_an_update_sent_to_two_workers_is_answered_once(fake, pg_url, tmp_path, clock):
    """Telegram redelivers an update whose 200 it did not see, and the proxy sends the repeat to
    the other worker while the first is still handling it: one reply."""
    (app_a, hook_a), (app_b, hook_b) = [await worker(pg_url, tmp_path, fake, clock, n) for n in "ab"]
    try:
        update = {**fake.message_update(CHAT, "/start"), "update_id": 4242}
        fake.delay_next("sendMessage", 0.5)
        statuses = await asyncio.gather(*(fake.post_update_to(h.url, update, secret_token=SECRET)
                                          for h in (hook_a, hook_b)))
        assert statuses == [200, 200]
        await fake.wait_for_messages(1, chat_id=CHAT)
        await asyncio.sleep(0.5)  # time for a second reply to show, if one were coming
        assert len(fake.sent_messages(CHAT)) == 1
    finally:
        for app, hook in ((app_a, hook_a), (app_b, hook_b)):
            await hook.runner.cleanup()
            await hook.channel.stop()
            await app.close()


async def test_a_press_on_another_workers_message_edits_it_in_place(fake, pg_url, redis_url, tmp_path, clock):
    """Which message is the bot's latest is shared through Redis (REDIS_URL): a press that
    reaches worker B on the menu worker A showed edits that message, as with one process,
    instead of piling up new messages (and Telegram's per-chat limit)."""
    workers = [await worker(pg_url, tmp_path, fake, clock, n, REDIS_URL=redis_url) for n in "ab"]
    (_, hook_a), (_, hook_b) = workers
    try:
        await TgChat(fake, hook_a.channel, webhook=hook_a).command("start")
        [menu] = fake.sent_messages(CHAT)
        on_b = TgChat(fake, hook_b.channel, webhook=hook_b)
        await on_b.press("Подать обращение")
        assert len(fake.sent_messages(CHAT)) == 1 and menu.edits == 1  # the menu became the next step
    finally:
        for app, hook in workers:
            await hook.runner.cleanup()
            await hook.channel.stop()
            await app.close()
