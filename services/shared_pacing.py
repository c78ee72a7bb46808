"""Send budgets shared by every worker process, through Redis (REDIS_URL).

Each channel's overall rate and per-recipient interval (core.channels.Limit) become slots
reserved in Redis by one atomic script on Redis's own clock (a machine whose clock is off
changes nothing): the next free overall moment and each recipient's next free moment are kept
under keys. A message takes the overall slot only when its recipient is free by then, and takes
both at once, so N processes together keep the channel's rate, not N times it, and no chat gets
two messages closer than its interval. A recipient busy until later is told to come back then,
holding no overall slot meanwhile. Recipients are hashed in the keys (no chat ids in Redis).

One chat's messages keep their order: the claim gives one chat's rows to one sender at a time
(storage/repos/outbox.py), and in a process the messages to one recipient reserve one after
another (a FIFO lock), in claim order. If Redis fails, the process paces alone with the
in-process pacer until Redis answers again, and says so once in the log."""
from __future__ import annotations

import asyncio
import hashlib
import logging

from core.channels import Limit
from services.pacing import Pacer

log = logging.getLogger(__name__)

# KEYS: the overall key, the recipient's key; ARGV: the two intervals in microseconds.
# Returns {1, wait} with both slots taken, or {0, wait} when the recipient is busy until then.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local gi, ai = tonumber(ARGV[1]), tonumber(ARGV[2])
local g = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if ai > 0 then
  local a = tonumber(redis.call('GET', KEYS[2]) or '0')
  if a > g then return {0, a - now} end
  redis.call('SET', KEYS[2], string.format('%d', g + ai), 'PX', math.floor((g + ai - now) / 1000) + 1000)
end
redis.call('SET', KEYS[1], string.format('%d', g + gi), 'PX', math.floor((g + gi - now) / 1000) + 1000)
return {1, g - now}
"""


def _hashed(address: str) -> str:
    return hashlib.blake2b(address.encode("utf-8"), digest_size=10).hexdigest()


class SharedPacer:
    """The Pacer's `wait(address)`, with the budget shared through Redis."""

    def __init__(self, limit: Limit, redis, channel: str, *, prefix: str = "assistant:pace",
                 sleep=asyncio.sleep) -> None:
        self.limit, self.redis, self.sleep = limit, redis, sleep
        self.key = f"{prefix}:{channel}"
        self.local = Pacer(limit)  # while Redis is unreachable
        self._script = redis.register_script(RESERVE)
        self._turns: dict[str, asyncio.Lock] = {}
        self._degraded = False
        self._args = [int(1_000_000 / limit.per_second), int(limit.per_address_interval * 1_000_000)]

    async def wait(self, address: str) -> None:
        turn = self._turns.setdefault(address, asyncio.Lock())
        async with turn:  # one recipient's messages in call order
            try:
                keys = [f"{self.key}:all", f"{self.key}:to:{_hashed(address)}"]
                while True:
                    taken, wait = await self._script(keys=keys, args=self._args)
                    if wait > 0:
                        await self.sleep(int(wait) / 1_000_000)
                    if taken:
                        break
            except Exception as e:  # Redis down or refusing: pace alone, never stop sending
                if not self._degraded:
                    log.warning("shared pacing: Redis failed (%s); pacing in this process only", type(e).__name__)
                    self._degraded = True
                await self.local.wait(address)
                return
        if len(self._turns) > 10000:  # forget idle recipients
            self._turns = {a: lock for a, lock in self._turns.items() if lock.locked()}
        if self._degraded:
            log.info("shared pacing: Redis answers again")
            self._degraded = False


def make_pacers(limits: dict[str, Limit], redis_url: str | None) -> dict:
    """Shared pacers with REDIS_URL, else the in-process ones."""
    if not redis_url:
        return {ch: Pacer(lim) for ch, lim in limits.items()}
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    return {ch: SharedPacer(lim, client, ch) for ch, lim in limits.items()}


async def close_pacers(pacers: dict) -> None:
    clients = {id(p.redis): p.redis for p in pacers.values() if isinstance(p, SharedPacer)}
    for client in clients.values():
        await client.aclose()
