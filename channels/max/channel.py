"""MaxChannel: the MAX bot over the dialog engine, in long-polling or webhook mode."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web

from channels.max import updates
from channels.max.client import make_bot
from channels.max.handler import Stats, UpdateHandler
from channels.max.polling import Poller
from channels.max.render import PayloadCodec
from channels.max.sender import MaxDeliverer, Sender
from channels.max.webhook import check_settings, make_app
from core.ordering import KeyedQueues
from core.ports import Host, serve_until

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds the updates in hand get to finish at stop()
UPDATE_TYPES = ["message_created", "message_callback", "bot_started", "bot_stopped"]


class MaxChannel:
    """Entry points: `serve(stop)`, `run_polling()`, `webhook_app()`, `stop()`, `deliverer`."""

    def __init__(self, host: Host, settings=None, *, polling_timeout: int = 30, concurrency: int = 32) -> None:
        settings = settings or host.channel_settings("max")
        if settings.max_bot_token is None:
            raise ValueError("MAX_BOT_TOKEN is not set")
        self.host, self.settings = host, settings
        self.bot = make_bot(settings.max_bot_token.get_secret_value(), settings.max_api_url)
        self.sender = Sender(self.bot, PayloadCodec(), host=host)
        self.deliverer = MaxDeliverer(self.sender)
        self.stats = Stats()
        self.handler = UpdateHandler(host, self.sender, self.stats)
        self.queues = KeyedQueues(concurrency, "max-user")
        self.poller = Poller(self.bot, host, self.accept, self.keep, timeout=polling_timeout)
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._fetching: asyncio.Task | None = None
        self._closed = False

    def __repr__(self) -> str:  # never the token
        return f"<MaxChannel {self.settings.max_api_url}>"

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.max_webhook_url else "polling"

    def _secret(self) -> str | None:
        s = self.settings.max_webhook_secret
        return s.get_secret_value() if s else None

    # ------------------------------------------------------------------ updates in
    def accept(self, update: dict) -> asyncio.Future:
        """Queue one update behind the same person's earlier ones; done once handled."""
        user = updates.user_of(update)
        return self.queues.submit(user if user is not None else id(update), lambda: self.handler(update))

    async def keep(self, update: dict) -> None:
        """Store an update in the durable inbox before MAX hears it was taken (the marker, a
        200); while the database is unreachable, keep trying. Nothing to keep for an update
        the assistant does not handle."""
        ev = updates.parse(update)
        if ev is None:
            return
        delay = 0.5
        while True:
            try:
                await self.host.keep(updates.CHANNEL, ev.key, str(ev.user_id), json.dumps(update))
                return
            except Exception:
                log.exception("max: update %s not stored, trying again in %.1f s", ev.key, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def keep_and_accept(self, update: dict) -> asyncio.Future:
        """The webhook's path: kept first, then queued."""
        await self.keep(update)
        return self.accept(update)

    async def replay(self) -> int:
        """After a restart: the stored updates not finished, queued again in arrival order,
        before anything new. The number queued."""
        count = 0
        for key, _user, body in await self.host.unfinished(updates.CHANNEL):
            try:
                update = json.loads(body)
            except ValueError:
                log.error("max: stored update %s unreadable, dropped", key)
                await self.host.finish(updates.CHANNEL, key)
                continue
            self.accept(update)
            count += 1
        if count:
            log.info("max: %d stored updates handled again after a restart", count)
        return count

    # ------------------------------------------------------------------ run modes
    async def serve(self, stop: asyncio.Event) -> None:
        """The adapter's run (core.ports.Adapter). Webhook mode without its secret is refused
        at once, before any request to MAX."""
        if self.mode == "webhook":
            check_settings(self.settings.max_webhook_url, self._secret())
        log.info("max: %s", self.mode)
        run = self.run_webhook() if self.mode == "webhook" else self.run_polling()
        await serve_until(run, self.stop, stop)

    async def run_polling(self) -> None:
        """GET /updates until stop() or cancellation; the marker is kept by the host."""
        self._stop.clear()
        self._task = asyncio.current_task()
        try:
            await self.replay()
            await self.poller.run(self._stop.is_set, self._fetch_or_stop)
        except asyncio.CancelledError:
            if self._stop.is_set():  # stop() dropped a waiting GET /updates
                return
            raise

    async def _fetch_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def webhook_app(self) -> web.Application:
        """The endpoint on MAX_WEBHOOK_PATH, subscribed with POST /subscriptions and the secret."""
        s = self.settings
        check_settings(s.max_webhook_url, self._secret())
        app = make_app(s.max_webhook_path, self._secret(), self.keep_and_accept)
        await self.bot.subscribe_webhook(url=s.max_webhook_url, update_types=UPDATE_TYPES, secret=self._secret())
        log.info("max: webhook subscribed, serving %s on %s:%s", s.max_webhook_path, s.max_webhook_host,
                 s.max_webhook_port)
        return app

    async def run_webhook(self) -> None:
        """Serve until stop(): stop() waits for this to end, so no request is taken after the
        queues are drained (aiohttp's cleanup lets the requests in hand finish first)."""
        self._stop.clear()
        self._task = asyncio.current_task()
        await self.replay()
        runner = web.AppRunner(await self.webhook_app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.settings.max_webhook_host, self.settings.max_webhook_port).start()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    # ------------------------------------------------------------------ control
    async def stop(self) -> None:
        """Stop taking updates, let those in hand finish (bounded; the batch's marker is then
        saved), close the HTTP session."""
        self._stop.set()
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            if self.poller.fetching:  # waiting on GET /updates: nothing taken, safe to drop
                task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_GRACE)  # else the batch finishes, marker saved
            if not done:
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.queues.drain(STOP_GRACE)
        await self.close()

    async def abort(self) -> None:
        """Like a crash (tests): polling and handling cancelled at once, nothing saved."""
        self._stop.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.queues.cancel()
        await self.close()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.bot.close_session()
