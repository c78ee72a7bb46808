"""`python -m bot run` wiring: both messengers, the outbox sender and the jobs in one process,
stopped cleanly (the run mode of bot/runner.py against the fake Telegram and VK)."""
from __future__ import annotations

import asyncio

from bot.app import build_app
from bot.runner import run_channels
from services import outbox
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.vk_api import FakeVK
from tests.channels.vk.test_vk_channel import wait_until


async def test_run_mode_serves_both_messengers_and_delivers_the_outbox(tmp_path, monkeypatch, clock):
    monkeypatch.chdir(tmp_path)
    tg, vk = FakeTelegram(), FakeVK()
    await tg.start()
    await vk.start()
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/run.db", tmp_path,
                             TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url,
                             VK_GROUP_TOKEN=vk.token, VK_GROUP_ID=vk.group_id, VK_API_URL=vk.api_url)
    app = await build_app(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_channels(app, stop))
    try:
        await wait_until(lambda: vk.lp_requests and any(c.method == "getUpdates" for c in tg.requests),
                         what="both channels polling")
        [commands] = tg.commands.values()
        assert [c["command"] for c in commands] == ["start", "menu", "help", "status"]
        tg.queue_update(tg.message_update(42, "/start"))
        vk.push_message(77, "/start")
        await wait_until(lambda: tg.sent_messages(42) and vk.sent_messages(77), what="replies")
        assert "Что вы хотите сделать?" in tg.sent_messages(42)[-1].text
        assert "Что вы хотите сделать?" in vk.sent_messages(77)[-1]["text"]
        async with app.sessionmaker() as s, s.begin():  # a notice for each, due now
            await outbox.enqueue(s, citizen_id=None, kind="status", targets=[("telegram", "42"), ("vk", "77")],
                                 text="Обращение ЖН-2026-000001 взято в работу.")
        await wait_until(lambda: any("взято в работу" in (m.text or "") for m in tg.sent_messages(42))
                         and any("взято в работу" in m["text"] for m in vk.sent_messages(77)),
                         timeout=15, what="the outbox delivered by the runner's sender")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await app.close()
        await tg.stop()
        await vk.stop()


async def test_stopping_lets_a_running_job_finish(app):
    """A sender mid-batch at shutdown finishes and records what it sent, never cancelled halfway."""
    from bot.scheduler import make_scheduler

    started, finished = asyncio.Event(), asyncio.Event()

    async def slow_batch():
        started.set()
        await asyncio.sleep(0.2)
        finished.set()

    scheduler = make_scheduler(app, [(slow_batch, 60)])
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.stop()
    assert finished.is_set() and not scheduler.running
