"""Per-channel send pacing: an overall rate and a minimum interval per recipient."""
from __future__ import annotations

import asyncio
import time

from core.channels import Limit, registered


def default_limits() -> dict[str, Limit]:
    """Each registered channel's own limits (declared beside its adapter)."""
    return {spec.name: spec.limit for spec in registered() if spec.limit is not None}


class Pacer:
    """`wait(address)` returns when a message to `address` may go.

    The overall spacing counts from the moment the previous message actually went, so a stalled
    event loop never releases a burst; the per-recipient times are reserved in call order, so one
    chat's messages keep their order."""

    def __init__(self, limit: Limit, clock=time.monotonic, sleep=asyncio.sleep) -> None:
        self.limit, self.clock, self.sleep = limit, clock, sleep
        self._last = float("-inf")
        self._next_for: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def _reserve_address(self, address: str) -> float:
        now = self.clock()
        at = max(now, self._next_for.get(address, 0.0))
        self._next_for[address] = at + self.limit.per_address_interval
        if len(self._next_for) > 10000:  # forget recipients whose interval has passed
            self._next_for = {a: t for a, t in self._next_for.items() if t > now}
        return at

    async def wait(self, address: str) -> None:
        if self.limit.per_address_interval:
            delay = self._reserve_address(address) - self.clock()
            if delay > 0:
                await self.sleep(delay)
        async with self._lock:
            delay = self._last + 1.0 / self.limit.per_second - self.clock()
            if delay > 0:
                await self.sleep(delay)
            self._last = self.clock()
