"""MAX's record of the bot's newest message per person goes through the host, so with REDIS_URL
every worker knows it (issue 17 item 2): a press that reaches another worker on the newest
message is answered in place there too, and a message from the person ends that."""
from __future__ import annotations

import pytest

from channels.max.sender import LatestMessages
from services.shared_memory import LocalMemory, RedisMemory

class Host:
    def __init__(self, memory) -> None:
        self.memory = memory

    async def recall(self, key: str):
        return await self.memory.recall(key)

    async def remember(self, key: str, value: str, ttl: float) -> None:
        await self.memory.remember(key, value, ttl)


@pytest.fixture
async def shared(redis_url):
    memory = RedisMemory(redis_url, prefix="test:max-latest")
    yield memory
    await memory.close()


async def test_two_workers_share_the_newest_message(shared):
    a, b = LatestMessages(Host(shared)), LatestMessages(Host(shared))
    await a.sent(501, "mid.1")
    assert await b.is_latest(501, "mid.1")  # worker B may edit the message worker A sent
    await b.seen(501)  # the person wrote: nothing of the bot's is the newest any more
    assert not await a.is_latest(501, "mid.1")
    assert not await a.is_latest(502, "mid.1")  # another person


async def test_without_redis_each_worker_knows_only_its_own():
    a, b = LatestMessages(Host(LocalMemory())), LatestMessages(Host(LocalMemory()))
    await a.sent(501, "mid.1")
    assert await a.is_latest(501, "mid.1") and not await b.is_latest(501, "mid.1")
