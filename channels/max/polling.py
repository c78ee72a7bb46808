"""Long polling (GET /updates) with the marker kept in the database (host cursor "max"/"marker").

One batch at a time: its updates are stored in the durable inbox (`keep`), then the marker of
the batch is saved and sent with the next request (MAX then drops the batch), then the updates
are queued per person and the next request waits until they are handled. A crash before the
marker is saved means the batch comes again (kept twice is kept once; the engine's update keys
make a repeat harmless); after it, the channel handles the unfinished inbox rows on restart."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from maxapi.exceptions import MaxApiError, MaxError

from channels.max.client import describe, is_temporary

log = logging.getLogger(__name__)

CURSOR = "marker"
LIMIT = 100  # MAX's maximum batch


class Poller:
    def __init__(self, bot, host, submit: Callable[[dict], asyncio.Future],
                 keep: Callable[[dict], Awaitable[None]], *, timeout: int = 30) -> None:
        self.bot, self.host, self.submit, self.keep, self.timeout = bot, host, submit, keep, timeout
        self.marker: int | None = None  # the saved position
        self.batches = 0
        self.fetching = False  # waiting on GET /updates: safe to cancel, nothing taken yet

    async def load(self) -> int | None:
        value = await self.host.cursor("max", CURSOR)
        return int(value) if value and value.lstrip("-").isdigit() else None

    async def run(self, stopping: Callable[[], bool], wait: Callable[[float], Awaitable[None]]) -> None:
        """Poll until `stopping()`; a failure to reach MAX is retried with backoff (`wait`)."""
        self.marker = await self.load()
        backoff = 1.0
        while not stopping():
            self.fetching = True
            try:
                raw = await self.bot.get_updates(marker=self.marker, timeout=self.timeout, limit=LIMIT)
            except asyncio.CancelledError:
                raise
            except (MaxError, OSError, asyncio.TimeoutError, TimeoutError) as e:
                if isinstance(e, MaxApiError) and e.code == 401:
                    raise
                if isinstance(e, MaxApiError) and e.code == 405:
                    log.error("max: long polling refused while a webhook subscription exists (%s)", describe(e))
                elif not is_temporary(e):
                    log.error("max: GET /updates failed: %s", describe(e))
                else:
                    log.warning("max: GET /updates failed (%s), again in %.0f s", describe(e), backoff)
                await wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            finally:
                self.fetching = False
            backoff = 1.0
            await self.take(raw if isinstance(raw, dict) else {})

    async def take(self, raw: dict) -> None:
        """Keep one batch, save its marker, then handle the batch."""
        batch = [u for u in raw.get("updates") or [] if isinstance(u, dict)]
        for update in batch:
            await self.keep(update)
        marker = raw.get("marker")
        if isinstance(marker, int) and marker != self.marker:
            await self.host.save_cursor("max", CURSOR, str(marker))
            self.marker = marker
        futures = [self.submit(u) for u in batch]
        if futures:  # a cancelled one (shutdown) cancels this; the rest stay in the inbox
            await asyncio.gather(*futures)
        self.batches += 1
