"""Updates of one chat are processed one after another, in arrival order; chats in parallel.

aiogram runs each polled update as its own task, so two quick messages of one person could
overtake each other. Here every update is queued under its chat synchronously, at the moment
it arrives (no await in between), and one worker per busy chat takes them in order.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class ChatQueues:
    def __init__(self, concurrency: int = 64) -> None:
        self._queues: dict[Hashable, deque[tuple[Job, asyncio.Future]]] = {}
        self._gate = asyncio.Semaphore(concurrency)  # chats processed at the same moment
        self._workers: set[asyncio.Task] = set()

    def submit(self, key: Hashable, job: Job) -> asyncio.Future:
        """Queue a job after the chat's earlier ones; the future gets its result (jobs are
        expected to handle their own errors: an escaping one is logged and gives None)."""
        future = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((job, future))
            return future
        queue = self._queues[key] = deque([(job, future)])
        worker = asyncio.create_task(self._work(key, queue))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)
        return future

    async def _work(self, key: Hashable, queue: deque) -> None:
        try:
            while queue:
                job, future = queue[0]
                try:
                    async with self._gate:
                        result = await job()
                except asyncio.CancelledError:
                    if not future.done():
                        future.cancel()
                    raise
                except Exception:
                    log.exception("telegram: unhandled error in a chat job")
                    result = None
                if not future.done():
                    future.set_result(result)
                queue.popleft()
        finally:
            for _, future in queue:
                if not future.done():
                    future.cancel()
            if self._queues.get(key) is queue:
                del self._queues[key]

    def pending(self, key: Hashable) -> bool:
        """True while the chat has a job queued or running."""
        return key in self._queues

    @property
    def busy(self) -> int:
        return len(self._queues)

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job is done; False if the time ran out (then they are cancelled)."""
        if not self._workers:
            return True
        done, pending = await asyncio.wait(set(self._workers), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return not pending and not self._workers
