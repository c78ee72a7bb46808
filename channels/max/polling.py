"""Long polling (GET /updates) with the marker kept in the database (host cursor "max"/"marker").

One batch at a time: its updates are queued per person, and once every one of them is handled
the marker of the batch is saved and sent with the next request (MAX then drops the batch).
A crash before that means the batch comes again after a restart; the engine's update keys make
the repeat harmless (an update already handled returns None and is not answered again)."""
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
    def __init__(self, bot, host, submit: Callable[[dict], asyncio.Future], *, timeout: int = 30) -> None:
        self.bot, self.host, self.submit, self.timeout = bot, host, submit, timeout
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
        """Handle one batch, then save its marker."""
        futures = [self.submit(u) for u in raw.get("updates") or [] if isinstance(u, dict)]
        if futures:
            await asyncio.gather(*futures)  # a cancelled one (shutdown) cancels this: no save
        self.batches += 1
        marker = raw.get("marker")
        if isinstance(marker, int) and marker != self.marker:
            await self.host.save_cursor("max", CURSOR, str(marker))
            self.marker = marker
