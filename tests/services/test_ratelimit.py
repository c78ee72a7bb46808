"""Send pacing: never over the platform's limits, even after the event loop stalls."""
from __future__ import annotations

import asyncio
import heapq

from services.pacing import Limit, Pacer


class FakeTime:
    """Simulated time: sleepers wake in order of their wake-up time, and time jumps forward
    only when every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sent: list[tuple[float, str]] = []
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._n = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._n += 1
        heapq.heappush(self._sleepers, (self.now + seconds, self._n, future))
        await future

    async def run(self, *coros) -> None:
        task = asyncio.ensure_future(asyncio.gather(*coros))
        while not task.done():
            for _ in range(50):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers and not task.done():
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        await task


async def test_overall_rate_and_per_chat_interval_hold():
    t = FakeTime()
    pacer = Pacer(Limit(per_second=30, per_address_interval=1.0), clock=t.clock, sleep=t.sleep)

    async def send(address: str) -> None:
        await pacer.wait(address)
        t.sent.append((t.now, address))

    await t.run(*(send(f"chat{i % 10}") for i in range(120)))
    times = [at for at, _ in t.sent]
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in zip(times, times[1:]))
    for chat in {a for _, a in t.sent}:
        mine = [at for at, a in t.sent if a == chat]
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(mine, mine[1:]))
    # any one-second window holds at most 30 messages
    assert max(sum(1 for x in times if start <= x < start + 1) for start in times) <= 30


async def test_a_stall_does_not_release_a_burst():
    """Messages waiting while the event loop is stalled go out spaced, not all at once."""
    t = FakeTime()
    pacer = Pacer(Limit(per_second=10), clock=t.clock, sleep=t.sleep)

    async def send(address: str) -> None:
        await pacer.wait(address)
        t.sent.append((t.now, address))

    async def stall() -> None:
        await t.sleep(0.05)
        t.now += 2.0  # the loop was busy for two seconds

    await t.run(*(send(str(i)) for i in range(10)), stall())
    times = sorted(at for at, _ in t.sent)
    assert len(times) == 10
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:]))
