"""A few short-lived values the adapters keep per chat (which message is the bot's latest, so a
press on it edits in place), shared by every worker process through Redis (REDIS_URL), or kept
in this process when there is one.

Read and written under the chat's lock (core.ports.Host.chat_lock), so a read-modify-write
of one chat's value never races. Keys carry the channel and the chat id hashed; values are
message ids, never text."""
from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict

log = logging.getLogger(__name__)


class LocalMemory:
    """In this process: bounded, oldest forgotten first, each value with its time to live."""

    def __init__(self, size: int = 100_000, clock=time.monotonic) -> None:
        self.size, self.clock = size, clock
        self._values: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def recall(self, key: str) -> str | None:
        found = self._values.get(key)
        if found is None or found[1] < self.clock():
            return None
        return found[0]

    async def remember(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self.clock() + ttl)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    async def close(self) -> None:
        pass


class RedisMemory:
    """In Redis, for several workers. If Redis fails, a value reads as unknown (the adapter then
    sends a new message instead of editing: nothing is lost) and a write is skipped."""

    def __init__(self, url: str, prefix: str = "assistant:memory") -> None:
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.prefix = prefix
        self._failing = False

    def _key(self, key: str) -> str:
        channel, _, rest = key.partition(":")
        return f"{self.prefix}:{channel}:{hashlib.blake2b(rest.encode(), digest_size=10).hexdigest()}"

    def _failed(self, e: Exception) -> None:
        if not self._failing:
            log.warning("shared memory: Redis failed (%s); chats are answered with new messages", type(e).__name__)
            self._failing = True

    async def recall(self, key: str) -> str | None:
        try:
            value = await self.redis.get(self._key(key))
        except Exception as e:
            self._failed(e)
            return None
        self._failing = False
        return value.decode() if value is not None else None

    async def remember(self, key: str, value: str, ttl: float) -> None:
        try:
            await self.redis.set(self._key(key), value, px=int(ttl * 1000))
        except Exception as e:
            self._failed(e)

    async def close(self) -> None:
        await self.redis.aclose()


def make_memory(redis_url: str | None):
    return RedisMemory(redis_url) if redis_url else LocalMemory()
