"""Per-channel send pacing: an overall rate and a minimum interval per recipient."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    per_second: float  # overall messages per second for the channel
    per_address_interval: float = 0.0  # seconds between two messages to one recipient


# Telegram: 30 messages/s overall, about 1/s per chat; VK: 20 requests/s.
DEFAULT_LIMITS = {
    "telegram": Limit(per_second=29.0, per_address_interval=1.05),
    "vk": Limit(per_second=19.0, per_address_interval=0.0),
    "email": Limit(per_second=5.0),
}


class Pacer:
    """Hands out send times so that no limit is exceeded; `wait` sleeps until the slot."""

    def __init__(self, limit: Limit, clock=time.monotonic, sleep=asyncio.sleep) -> None:
        self.limit, self.clock, self.sleep = limit, clock, sleep
        self._next_any = 0.0
        self._next_for: dict[str, float] = {}

    def reserve(self, address: str) -> float:
        now = self.clock()
        at = max(now, self._next_any, self._next_for.get(address, 0.0))
        self._next_any = at + 1.0 / self.limit.per_second
        if self.limit.per_address_interval:
            self._next_for[address] = at + self.limit.per_address_interval
            if len(self._next_for) > 10000:  # forget recipients whose interval has passed
                self._next_for = {a: t for a, t in self._next_for.items() if t > now}
        return at

    async def wait(self, address: str) -> None:
        delay = self.reserve(address) - self.clock()
        if delay > 0:
            await self.sleep(delay)
