"""Bots Long Poll with the position (ts) kept in the database, so messages written while the bot
was down are handled after a restart.

vkbottle's `BotPolling` does the protocol (failures 1, 2 and 3 included); `DBBotPolling` only
replaces its JSON state file (`./.vkbottle/…`, never written here) with a ts restored from
`ChannelCursor(channel="vk", name="lp_ts")`. The ts of a batch is saved once every event of that
batch and of all earlier batches is handled (under load at most once per SAVE_EVERY seconds, and
always at stop); a crash in between means at-least-once delivery, and the engine's update keys
make the repeat harmless.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from vkbottle import BotPolling


log = logging.getLogger(__name__)

CURSOR = "lp_ts"
MAX_PENDING = 2000  # events fetched but not handled yet; polling pauses above this
SAVE_EVERY = 1.0  # seconds between ts saves under load (a crash repeats at most that much, deduplicated)


async def load_ts(host) -> str | None:
    return await host.cursor("vk", CURSOR)


async def save_ts(host, ts: str) -> None:
    await host.save_cursor("vk", CURSOR, str(ts))


class DBBotPolling(BotPolling):
    """BotPolling that starts from a ts given by the caller and writes no state file."""

    def __init__(self, api, group_id: int | None, *, ts: str | None, on_start: Callable[[str], None],
                 wait: int = 25) -> None:
        super().__init__(api, group_id=group_id, wait=wait, skip_old_events=False)
        self.ts = ts
        self.on_start = on_start

    def restore_server_ts(self, server: dict[str, Any]) -> dict[str, Any]:
        if self.ts is not None:
            log.info("VK long poll resumes from ts %s", self.ts)
            server["ts"] = self.ts
        self.on_start(str(server["ts"]))
        return server

    def save_server_ts(self, server: dict[str, Any]) -> None:
        """Saved by LongPollRunner after the batch is handled, in the database."""


class LongPollRunner:
    """Fetch batches, hand each event to `submit` (which returns a future done when handled)
    and persist the ts of the handled prefix of batches."""

    def __init__(self, api, host, group_id: int | None,
                 submit: Callable[[dict], asyncio.Future | None], *, wait: int = 25,
                 pending: Callable[[], int] = lambda: 0) -> None:
        self.api = api
        self.host = host
        self.group_id = group_id
        self.submit = submit
        self.wait = wait
        self.pending = pending
        self.fetched_ts: str | None = None  # position after the last batch handed over
        self.saved_ts: str | None = None
        self.done_ts: str | None = None  # position after the handled prefix of batches
        self._batches: deque[tuple[str, list[asyncio.Future]]] = deque()  # (ts after it, its events)
        self._changed = asyncio.Event()
        self._saver: asyncio.Task | None = None
        self.polling: DBBotPolling | None = None

    async def run(self) -> None:
        """Poll until cancelled; a failure to reach VK is retried with backoff."""
        self.saved_ts = self.done_ts = self.fetched_ts = await load_ts(self.host)
        self._saver = asyncio.create_task(self._save_loop(), name="vk-lp-ts")
        backoff = 0.5
        try:
            while True:
                self.polling = DBBotPolling(self.api, self.group_id, ts=self.fetched_ts,
                                            on_start=self._started, wait=self.wait)
                try:
                    async with aclosing(self.polling.listen()) as batches:
                        async for batch in batches:
                            backoff = 0.5
                            self._take(batch)
                            while self.pending() > MAX_PENDING:
                                await asyncio.sleep(0.05)
                    return  # listen() ends only after polling.stop()
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # e.g. VK unreachable at start: listen() lets that out
                    log.error("VK long poll failed (%s: %s), retrying in %.1f s", type(e).__name__,
                              str(e)[:200], backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30)
                if self.polling.group_id:
                    self.group_id = self.polling.group_id
        finally:
            await self._finish()

    def _started(self, ts: str) -> None:
        if self.fetched_ts is None:  # first start ever: remember where we begin
            self.fetched_ts = ts
            self._batches.append((ts, []))
            self._changed.set()

    def _take(self, batch: dict) -> None:
        futures = [f for f in (self.submit(u) for u in batch.get("updates") or []) if f is not None]
        ts = str(batch["ts"])
        self.fetched_ts = ts
        self._batches.append((ts, futures))
        self._changed.set()

    async def _save_loop(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self._save_done()
            await asyncio.sleep(SAVE_EVERY)

    async def _save_done(self, final: bool = False) -> None:
        """Save the ts of the last batch whose events (and all earlier ones) are handled.
        A batch with an event cancelled at shutdown stops the advance: it is fetched again."""
        advanced = False
        while self._batches:
            head_ts, futures = self._batches[0]
            pending = [f for f in futures if not f.done()]
            if pending:
                if advanced and not final:
                    break  # save what is done now, then come back for the rest
                await asyncio.wait(pending)
            if any(f.cancelled() for f in futures):
                self._batches.clear()
                break
            self._batches.popleft()
            self.done_ts, advanced = head_ts, True
        if self.done_ts is not None and self.done_ts != self.saved_ts:
            ts = self.done_ts
            try:
                await save_ts(self.host, ts)
                self.saved_ts = ts
            except Exception:
                log.exception("VK long poll ts %s not saved", ts)
        if self._batches:
            self._changed.set()

    async def _finish(self) -> None:
        """On stop: wait for the handed-over events, save the final ts."""
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
        await self._save_done(final=True)
