"""TelegramChannel: the bot, its dispatcher, the run modes and the outbox deliverer."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiohttp import web

from core.heap import freeze_startup_heap
from core.ports import Host, serve_until
from channels.telegram.handlers import ALLOWED_UPDATES, Conversation
from channels.telegram.logs import protect
from channels.telegram.render import PayloadCodec
from channels.telegram.sender import TelegramDeliverer, call
from channels.telegram.session import JsonSession
from channels.telegram.webhook import WebhookConfigError, build_webhook_app, check_webhook_settings

log = logging.getLogger(__name__)

COMMANDS = [
    ("start", "Начать сначала"),
    ("menu", "Главное меню"),
    ("help", "Справка и контакты службы"),
    ("status", "Статус обращения по номеру"),
]


def make_bot(token: str, api_url: str) -> Bot:
    return Bot(token, session=JsonSession(api=TelegramAPIServer.from_base(api_url)))


class TelegramChannel:
    """Runs the citizens' bot. `run()` picks the mode: webhook when TELEGRAM_WEBHOOK_URL is set,
    else long polling. `deliverer` sends outbox messages with the same bot."""

    def __init__(self, host: Host, settings=None, *, bot: Bot | None = None, polling_timeout: int = 25,
                 concurrency: int = 64) -> None:
        settings = settings or host.channel_settings("telegram")
        token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
        if bot is None and not token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
        protect(token or bot.token, secret)  # before the first request can log anything
        self.host, self.settings = host, settings
        self.bot = bot or make_bot(token, settings.telegram_api_url)
        self.polling_timeout = polling_timeout
        self.codec = PayloadCodec()
        self.dispatcher = Dispatcher(disable_fsm=True)
        self.conversation = Conversation(host, self.bot, self.codec, concurrency=concurrency)
        self.conversation.install(self.dispatcher)
        self.deliverer = TelegramDeliverer(self.bot, self.codec)
        self._stopped = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._watcher: asyncio.Task | None = None
        self.dispatcher.startup.register(self._on_startup)

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.telegram_webhook_url else "polling"

    async def serve(self, stop: asyncio.Event) -> None:
        """The adapter's run (core.ports.Adapter): the mode the settings ask for, until `stop`.
        A webhook without its secret or URL is refused at once, before any request."""
        if self.mode == "webhook":
            s = self.settings
            check_webhook_settings(bool(s.telegram_webhook_secret), bool(s.telegram_webhook_url))
        await self.setup_commands()
        log.info("telegram: %s", "webhook" if self.mode == "webhook" else "long polling")
        await serve_until(self.run(), self.stop, stop)

    async def run(self) -> None:
        """Until cancelled or stop(): the mode the settings ask for."""
        if self.mode == "webhook":
            await self.run_webhook()
        else:
            await self.run_polling()

    # ------------------------------------------------------------------ long polling
    async def run_polling(self) -> None:
        """Long polling until stop() or cancellation; queued updates are finished first."""
        self._idle.clear()
        try:
            if self._stopped.is_set():
                return
            # getUpdates does not work while a webhook is set (for example after webhook mode)
            if not await self._until_done(lambda: self.bot.delete_webhook(drop_pending_updates=False)):
                return
            freeze_startup_heap()
            await self.conversation.replay(self.dispatcher)
            # aiogram leaves its polling task running when start_polling itself is cancelled,
            # so it runs in its own task and is always ended through stop_polling().
            inner = asyncio.create_task(self.dispatcher.start_polling(
                self.bot, polling_timeout=self.polling_timeout, handle_as_tasks=False,
                allowed_updates=ALLOWED_UPDATES, handle_signals=False, close_bot_session=False,
            ))
            try:
                await asyncio.shield(inner)
            except asyncio.CancelledError:
                self._stopped.set()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(inner, 10)
                raise
        finally:
            if self._watcher is not None:
                self._watcher.cancel()
                self._watcher = None
            await self.conversation.drain()
            self._idle.set()

    async def _until_done(self, make) -> bool:
        """Retry a start-up call while Telegram is unreachable (backing off up to 30 s), so a
        network outage at start does not stop the bot; a wrong token still fails at once.
        False when stop() came first."""
        delay = 1.0
        while not self._stopped.is_set():
            try:
                await call(make)
                return True
            except (TelegramUnauthorizedError, TelegramBadRequest):
                raise
            except TelegramAPIError as e:
                log.warning("telegram: %s (%s), trying again in %.0f s", type(e).__name__, e.message, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), delay)
            delay = min(delay * 2, 30.0)
        return False

    async def _stop_polling_when_asked(self) -> None:
        await self._stopped.wait()
        with contextlib.suppress(RuntimeError):  # polling already over
            await self.dispatcher.stop_polling()

    async def _on_startup(self) -> None:
        """Called by start_polling once it holds its lock: from now on stop_polling() works."""
        self._watcher = asyncio.create_task(self._stop_polling_when_asked())

    # ------------------------------------------------------------------ webhook
    async def webhook_app(self) -> web.Application:
        """The aiohttp application serving TELEGRAM_WEBHOOK_PATH; sets the webhook with the
        secret. Refuses (WebhookConfigError) without TELEGRAM_WEBHOOK_SECRET or _URL."""
        s = self.settings
        secret = s.telegram_webhook_secret.get_secret_value() if s.telegram_webhook_secret else None
        app = build_webhook_app(self.dispatcher, self.bot, path=s.telegram_webhook_path, secret=secret)
        if not s.telegram_webhook_url:
            raise WebhookConfigError("TELEGRAM_WEBHOOK_URL is required in webhook mode")
        await call(lambda: self.bot.set_webhook(s.telegram_webhook_url, secret_token=secret,
                                                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False,
                                                max_connections=s.telegram_webhook_max_connections))
        log.info("telegram: webhook set, serving %s on %s:%s", s.telegram_webhook_path,
                 s.telegram_webhook_host, s.telegram_webhook_port)
        return app

    async def run_webhook(self) -> None:
        """Serve the webhook on TELEGRAM_WEBHOOK_HOST:PORT until stop() or cancellation."""
        self._idle.clear()
        runner: web.AppRunner | None = None
        try:
            app = await self.webhook_app()
            freeze_startup_heap()
            await self.conversation.replay(self.dispatcher)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, self.settings.telegram_webhook_host, self.settings.telegram_webhook_port).start()
            await self._stopped.wait()
        finally:
            if runner is not None:
                await runner.cleanup()
            await self.conversation.drain()
            self._idle.set()

    # ------------------------------------------------------------------ control
    async def stop(self) -> None:
        """Stop taking updates, finish the queued ones, close the HTTP session."""
        self._stopped.set()
        await self._idle.wait()
        await self.conversation.drain()
        await self.bot.session.close()

    async def setup_commands(self) -> bool:
        """The command menu in Telegram clients (setMyCommands). A failure is logged, not
        raised: the bot works without the menu. True when set."""
        commands = [BotCommand(command=c, description=d) for c, d in COMMANDS]
        try:
            await call(lambda: self.bot.set_my_commands(commands, scope=BotCommandScopeDefault()))
        except TelegramAPIError as e:
            log.warning("telegram: the command menu was not set: %s", e.message)
            return False
        return True
