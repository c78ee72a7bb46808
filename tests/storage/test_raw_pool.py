"""The plain asyncpg connections of the hot path and the chat locks (storage/raw_pool.py): never
more than their number open, every caller served in turn, and nothing lost to a broken
connection, a transaction left open or a caller that gave up waiting."""
from __future__ import annotations

import asyncio

import pytest

from storage.db import make_engine
from storage.raw_pool import RawPool


@pytest.fixture
async def pool(pg_url):
    engine = make_engine(pg_url)
    raw = RawPool(engine, 2)
    try:
        yield raw
    finally:
        await raw.close()
        await engine.dispose()


async def test_many_callers_share_two_connections_in_turn(pool):
    seen = set()

    async def use(n: int) -> int:
        async with pool.connection() as conn:
            seen.add(await conn.fetchval("SELECT pg_backend_pid()"))
            await asyncio.sleep(0.01)
            return await conn.fetchval("SELECT $1::int", n)

    assert await asyncio.gather(*(use(n) for n in range(12))) == list(range(12))
    assert len(seen) == 2 and pool.open == 2


async def test_a_connection_killed_by_the_server_is_replaced(pool):
    async with pool.connection() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
    async with pool.connection() as other:  # the same one, from the free list
        assert await other.fetchval("SELECT pg_backend_pid()") == pid
        async with pool.connection() as killer:
            await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(Exception):
            await other.fetchval("SELECT 1")
    async with pool.connection() as fresh:
        assert await fresh.fetchval("SELECT pg_backend_pid()") != pid
    assert pool.open <= 2


async def test_a_connection_given_back_inside_a_transaction_is_not_lent_again(pool):
    conn = await pool.acquire()
    await conn.execute("BEGIN; CREATE TEMP TABLE half (n int)")
    pool.release(conn)
    async with pool.connection() as again:
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT to_regclass('pg_temp.half')") is None


async def test_a_caller_that_gives_up_waiting_takes_no_connection_with_it(pool):
    first, second = await pool.acquire(), await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0.01)
    pool.release(first)  # handed to the waiter, which is cancelled before it runs
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    got = await asyncio.wait_for(pool.acquire(), 2)  # the connection was passed on, not lost
    pool.release(got)
    pool.release(second)
    assert pool.open == 2 and len(pool.free) == 2
