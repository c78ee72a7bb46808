"""One key's jobs run one after another, in arrival order; keys in parallel (bounded).

A platform's client may run each update as its own task, so two quick messages of one person
could overtake each other. Every job is queued under its key synchronously, at the moment it
arrives (no await in between), and one worker per busy key takes them in order. Used by the
channel adapters (a chat, a user)."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class KeyedQueues:
    def __init__(self, concurrency: int = 64, name: str = "queue") -> None:
        self.name = name
        self._queues: dict[Hashable, deque[tuple[Job, asyncio.Future]]] = {}
        self._gate = asyncio.Semaphore(concurrency)  # keys processed at the same moment
        self._workers: set[asyncio.Task] = set()

    def submit(self, key: Hashable, job: Job) -> asyncio.Future:
        """Queue a job after the key's earlier ones; the future gets its result (jobs are
        expected to handle their own errors: an escaping one is logged and gives None)."""
        future = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((job, future))
            return future
        queue = self._queues[key] = deque([(job, future)])
        worker = asyncio.create_task(self._work(key, queue), name=f"{self.name}-{key}")
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
                    log.exception("%s: unhandled error in a job", self.name)
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
        """True while the key has a job queued or running."""
        return key in self._queues

    @property
    def busy(self) -> int:
        return len(self._queues)

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job is done; False if the time ran out (then they are cancelled)."""
        deadline = asyncio.get_running_loop().time() + timeout
        pending: set = set()
        while self._workers and not pending:  # jobs queued while waiting are waited for too
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            _, pending = await asyncio.wait(set(self._workers), timeout=left)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return not pending and not self._workers

    async def cancel(self) -> None:
        """Stop at once (a crash in tests): nothing more is handled."""
        for task in list(self._workers):
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
