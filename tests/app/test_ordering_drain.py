"""A graceful stop (SIGTERM) finishes every update taken, including one taken while the stop
was already waiting (issue 10: nothing said twice after a graceful stop; a job that drain()
left running would be cut between its reply and its "finished" mark, and the restart would
send the reply again)."""
from __future__ import annotations

import asyncio

from core.ordering import KeyedQueues


async def test_drain_waits_for_jobs_queued_while_it_waits():
    queues = KeyedQueues(4, "test")
    finished: list[str] = []

    async def job(name: str, then=None):
        await asyncio.sleep(0.05)
        if then is not None:  # a webhook request that arrived during the stop
            queues.submit("other chat", then)
        finished.append(name)

    queues.submit("chat", lambda: job("first", lambda: job("late")))
    assert await queues.drain(5.0)
    assert finished == ["first", "late"]


async def test_drain_gives_up_at_its_deadline_and_says_so():
    queues = KeyedQueues(4, "test")
    queues.submit("chat", lambda: asyncio.sleep(10))
    assert not await queues.drain(0.1)
    assert not queues.pending("chat")
