"""Run modes: the configured messenger channels (polling or webhook/callback), the outbox
sender and the periodic jobs, until SIGTERM or Ctrl+C."""
from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

from aiohttp import web

from bot.app import App, freeze_startup_heap
from bot.scheduler import make_scheduler
from services.sender import OutboxSender
from services.housekeeping import forget_old
from channels.email import EmailDeliverer

log = logging.getLogger(__name__)
SENDER_INTERVAL = 1.0
RATINGS_INTERVAL = 60.0
HOUSEKEEPING_INTERVAL = 3600.0


async def serve(app_web: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app_web, access_log=None)  # access logs could carry tokens
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def periodic_jobs(app: App, sender: OutboxSender) -> list:
    async def housekeeping() -> int:
        return await forget_old(app.sessionmaker)

    jobs = [(sender.run_once, SENDER_INTERVAL), (housekeeping, HOUSEKEEPING_INTERVAL)]
    with suppress(ImportError):
        from services.visits import rating_job

        jobs.append((rating_job(app), RATINGS_INTERVAL))
    return jobs


async def run_channels(app: App, stop: asyncio.Event | None = None) -> None:
    settings = app.settings
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    deliverers: dict = {}
    if settings.smtp_host:
        deliverers["email"] = EmailDeliverer(settings)
    else:  # e-mail notices wait in the outbox until SMTP is configured
        log.warning("SMTP_HOST is not set: e-mail notices are kept in the outbox, not sent")
    channels, tasks, servers = [], [], []
    if settings.telegram_bot_token:
        from channels.telegram import TelegramChannel

        tg = TelegramChannel(app)
        channels.append(tg)
        deliverers["telegram"] = tg.deliverer
        await tg.setup_commands()
        if settings.telegram_webhook_url:
            servers.append(await serve(await tg.webhook_app(), settings.telegram_webhook_host,
                                       settings.telegram_webhook_port))
            log.info("telegram: webhook on port %s", settings.telegram_webhook_port)
        else:
            tasks.append(asyncio.create_task(tg.run_polling(), name="telegram-polling"))
            log.info("telegram: long polling")
    if settings.vk_group_token:
        from channels.vk import VKChannel

        vk = VKChannel(app)
        channels.append(vk)
        deliverers["vk"] = vk.deliverer
        if settings.vk_callback_secret or settings.vk_confirmation_code:
            servers.append(await serve(vk.callback_app(), settings.vk_callback_host, settings.vk_callback_port))
            log.info("vk: Callback API on port %s", settings.vk_callback_port)
        else:
            tasks.append(asyncio.create_task(vk.run_polling(), name="vk-polling"))
            log.info("vk: Bots Long Poll")

    sender = OutboxSender(app.sessionmaker, deliverers, gate=app.db_gate)
    scheduler = make_scheduler(app, periodic_jobs(app, sender))
    scheduler.start()
    freeze_startup_heap()
    try:
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception():
                log.error("channel stopped: %r", task.exception())
    finally:
        await scheduler.stop()
        for server in servers:  # no new webhook requests; the ones in flight finish
            await server.cleanup()
        for channel in channels:
            with suppress(Exception):
                await channel.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
