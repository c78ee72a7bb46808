"""Events of one peer in order, different peers concurrently (bounded)."""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from typing import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class PeerDispatcher:
    def __init__(self, handle: Callable[[dict], Awaitable[None]], concurrency: int = 32) -> None:
        self.handle = handle
        self._limit = asyncio.Semaphore(concurrency)
        self._queues: dict[Hashable, deque[tuple[dict, asyncio.Future]]] = {}
        self._workers: dict[Hashable, asyncio.Task] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.pending = 0

    def submit(self, peer: Hashable, event: dict) -> asyncio.Future:
        """Queue `event` behind the peer's earlier events; the future is done once it is handled."""
        done = asyncio.get_running_loop().create_future()
        self._queues.setdefault(peer, deque()).append((event, done))
        self.pending += 1
        self._idle.clear()
        if peer not in self._workers:
            self._workers[peer] = asyncio.create_task(self._work(peer), name=f"vk-peer-{peer}")
        return done

    async def _work(self, peer: Hashable) -> None:
        queue = self._queues[peer]
        try:
            while queue:
                event, done = queue[0]
                try:
                    async with self._limit:
                        await self.handle(event)
                except Exception:  # the handler reports its own errors; never stop the queue
                    log.exception("VK event %s: unhandled error", event.get("event_id"))
                finally:
                    queue.popleft()
                    self.pending -= 1
                    if not done.done():
                        done.set_result(None)
        finally:
            for _, done in queue:  # cancelled: release whoever waits
                if not done.done():
                    done.cancel()
            self.pending -= len(queue)
            queue.clear()
            del self._queues[peer]
            del self._workers[peer]
            if not self._workers:
                self._idle.set()

    async def join(self) -> None:
        """Wait until every submitted event is handled."""
        await self._idle.wait()

    async def close(self, timeout: float = 10.0) -> None:
        """Let in-flight events finish for up to `timeout` seconds, then cancel the rest."""
        try:
            await asyncio.wait_for(self.join(), timeout)
        except asyncio.TimeoutError:
            log.warning("VK: %d events still in progress at shutdown are cancelled", self.pending)
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)


class RecentKeys:
    """Event ids seen recently (bounded), so a redelivered event is dropped before any work."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """True when `key` is new."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True
