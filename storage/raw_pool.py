"""A few plain asyncpg connections beside the engine's (the hot path's writes, the chat locks).

Not asyncpg's Pool: its acquire and release (a shielded task, a timeout scope and a reset per
use) cost about as much CPU as the statement itself — measured here, 110 µs per round trip
through the pool against 67 µs on a connection held. Here a connection is taken from a free
list and given back as it is: these connections change no session state (the chat locks unlock
explicitly, or drop the connection). One given back closed or inside a transaction is dropped,
and the next caller opens a new one; callers wait in turn while `size` are in use."""
from __future__ import annotations

import asyncio
from collections import deque

from sqlalchemy.ext.asyncio import AsyncEngine


class RawPool:
    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self.free: list = []
        self.open = 0  # connections open or being opened
        self.waiting: deque[asyncio.Future] = deque()  # each gets a connection, or None: open one
        self.closed = False

    async def acquire(self):
        import asyncpg  # only PostgreSQL needs it

        while True:
            if self.closed:
                raise ConnectionError("the pool is closed")
            if self.free:
                conn = self.free.pop()
                if not conn.is_closed():
                    return conn
                self.open -= 1
                continue
            if self.open < self.size:
                self.open += 1
                try:
                    return await asyncpg.connect(self.dsn)
                except BaseException:
                    self._dropped()
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # handed over as the caller left: pass it on
                    conn = waiter.result()
                    if conn is None:
                        self._wake(None)
                    else:
                        self._hand_on(conn)
                raise
            if conn is not None:
                return conn

    def release(self, conn) -> None:
        if self.closed or conn.is_closed() or conn.is_in_transaction():
            conn.terminate()
            self._dropped()
        else:
            self._hand_on(conn)

    def connection(self) -> _Lease:
        """`async with pool.connection() as conn:` acquired and given back."""
        return _Lease(self)

    def _hand_on(self, conn) -> None:
        if not self._wake(conn):
            self.free.append(conn)

    def _dropped(self) -> None:
        self.open -= 1
        self._wake(None)  # room for one more: a waiter opens its own

    def _wake(self, given) -> bool:
        """The longest waiting caller gets `given` (a connection, or None: room to open one)."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(given)
                return True
        return False

    async def close(self) -> None:
        self.closed = True
        free, self.free = self.free, []
        for conn in free:
            try:
                await asyncio.wait_for(conn.close(), 5)
            except Exception:
                conn.terminate()
        self.open -= len(free)
        for waiter in self.waiting:
            if not waiter.done():
                waiter.set_exception(ConnectionError("the pool is closed"))
        self.waiting.clear()


class _Lease:
    __slots__ = ("pool", "conn")

    def __init__(self, pool: RawPool) -> None:
        self.pool, self.conn = pool, None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, kind, error, trace) -> None:
        if error is not None and not isinstance(error, Exception):  # cancelled mid-statement: not reusable
            self.conn.terminate()
        self.pool.release(self.conn)
