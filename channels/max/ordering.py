"""One person's updates are handled one after another, in arrival order; people in parallel
(bounded). Each update is queued synchronously when it arrives, so none overtakes another."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class UserQueues:
    def __init__(self, concurrency: int = 32) -> None:
        self._queues: dict[Hashable, deque[tuple[Job, asyncio.Future]]] = {}
        self._gate = asyncio.Semaphore(concurrency)
        self._workers: set[asyncio.Task] = set()

    def submit(self, key: Hashable, job: Job) -> asyncio.Future:
        """Queue a job after the person's earlier ones; the future is done when it has run."""
        future = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((job, future))
            return future
        queue = self._queues[key] = deque([(job, future)])
        worker = asyncio.create_task(self._work(key, queue), name=f"max-user-{key}")
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
                except Exception:  # jobs report their own errors; never stop the queue
                    log.exception("max: unhandled error in a job")
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

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job is done; False if the time ran out (they are cancelled)."""
        if not self._workers:
            return True
        _, pending = await asyncio.wait(set(self._workers), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return not pending

    async def cancel(self) -> None:
        """Stop at once (a crash in tests): nothing more is handled."""
        for task in list(self._workers):
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
