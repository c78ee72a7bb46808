"""VKChannel: the VK community bot over the dialog engine, in Bots Long Poll or Callback API mode."""
from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from channels.vk import updates
from channels.vk.api import make_api
from channels.vk.callback import make_callback_app
from channels.vk.dispatch import PeerDispatcher, RecentKeys
from channels.vk.handler import EventHandler, Stats
from channels.vk.polling import LongPollRunner
from channels.vk.render import CapsCache
from channels.vk.sender import Sender, VKDeliverer
from core.ports import Host, serve_until

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds in-flight events get to finish at stop()


class VKChannel:
    """Entry points: `run_polling()`, `callback_app()`, `stop()`, `deliverer`."""

    def __init__(self, host: Host, settings=None, *, wait: int = 25, concurrency: int = 32) -> None:
        settings = settings or host.channel_settings("vk")
        if settings.vk_group_token is None:
            raise ValueError("VK_GROUP_TOKEN is not set")
        self.host = host
        self.settings = settings
        self.wait = wait
        self.api = make_api(settings.vk_group_token.get_secret_value(), settings.vk_api_url)
        self.sender = Sender(self.api, host, CapsCache())
        self.deliverer = VKDeliverer(self.sender)
        self.stats = Stats()
        self.dispatcher = PeerDispatcher(EventHandler(host, self.sender, self.stats), concurrency)
        self._recent = RecentKeys()
        self._poll_task: asyncio.Task | None = None
        self._stopping = False
        self._stopped = False
        self.runner: LongPollRunner | None = None

    def __repr__(self) -> str:
        return f"<VKChannel group={self.settings.vk_group_id}>"

    # ------------------------------------------------------------ events in
    def accept(self, event: dict) -> asyncio.Future | None:
        """Queue one VK event; None if it has no id or was seen already (a redelivery)."""
        key = updates.event_key(event) if isinstance(event, dict) else None
        if key is None:
            log.info("VK event without an id ignored (type %r)", event.get("type") if isinstance(event, dict) else None)
            return None
        if not self._recent.add(key):
            self.stats.repeats += 1
            log.info("VK event %s received again, ignored", key)
            return None
        self.stats.received += 1
        peer = updates.peer_of(event)
        return self.dispatcher.submit(peer if peer is not None else key, event)

    async def keep_and_accept(self, event: dict) -> asyncio.Future | None:
        """The Callback API's path: stored in the inbox first, so "ok" means it is safe."""
        key = updates.event_key(event)
        if key is not None:
            peer = updates.peer_of(event)
            await self.host.keep(updates.CHANNEL, key, str(peer if peer is not None else key), json.dumps(event))
        return self.accept(event)

    async def replay(self) -> int:
        """After a restart: the stored events not finished, queued again in arrival order."""
        count = 0
        for key, _chat, body in await self.host.unfinished(updates.CHANNEL):
            try:
                event = json.loads(body)
            except ValueError:
                await self.host.finish(updates.CHANNEL, key)
                continue
            if self.accept(event) is not None:
                count += 1
        if count:
            log.info("VK: %d stored events handled again after a restart", count)
        return count

    # ------------------------------------------------------------ run modes
    async def run_polling(self) -> None:
        """Bots Long Poll until cancelled or `stop()`; the ts is kept in the database."""
        self._stopping = self._stopped = False
        self.runner = LongPollRunner(self.api, self.host, self.settings.vk_group_id, self.accept,
                                     wait=self.wait, pending=lambda: self.dispatcher.pending)
        self._poll_task = asyncio.create_task(self.runner.run(), name="vk-long-poll")
        log.info("VK long poll started")
        try:
            await self._poll_task
        except asyncio.CancelledError:
            if self._stopping:
                return
            await self.stop()  # run_polling itself was cancelled: shut down cleanly, then go
            raise

    @property
    def mode(self) -> str:
        s = self.settings
        return "callback" if (s.vk_callback_secret or s.vk_confirmation_code) else "polling"

    async def serve(self, stop: asyncio.Event) -> None:
        """The adapter's run (core.ports.Adapter): Callback API or Bots Long Poll until `stop`."""
        await self.replay()
        if self.mode == "polling":
            log.info("vk: Bots Long Poll")
            await serve_until(self.run_polling(), self.stop, stop)
            return
        s = self.settings
        runner = web.AppRunner(self.callback_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, s.vk_callback_host, s.vk_callback_port).start()
        log.info("vk: Callback API on port %s", s.vk_callback_port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()  # no new requests; the ones in flight finish

    def callback_app(self) -> web.Application:
        """The Callback API endpoint on settings.vk_callback_path (needs the secret and the code)."""
        s = self.settings
        secret = s.vk_callback_secret.get_secret_value() if s.vk_callback_secret else None
        app = make_callback_app(s.vk_callback_path, secret, s.vk_confirmation_code, s.vk_group_id,
                                self.keep_and_accept)
        self._stopping = self._stopped = False

        async def on_cleanup(_app: web.Application) -> None:
            await self.stop()

        app.on_cleanup.append(on_cleanup)
        return app

    async def stop(self) -> None:
        """Stop polling, let handled events finish (bounded), save the long-poll ts."""
        if self._stopped:
            return
        self._stopping = True
        task = self._poll_task
        if task is not None and not task.done():
            task.cancel()
        await self.dispatcher.close(STOP_GRACE)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await self.api.http_client.close()
        self._stopped = True
        log.info("VK channel stopped")

    async def idle(self) -> None:
        """Wait until every accepted event is handled (tests, benchmarks)."""
        await self.dispatcher.join()
