"""The per-chat lock across worker processes (storage/locks.py, PostgreSQL advisory locks):
one chat is handled by one worker at a time, and a lock is free again the moment its holder is
done, by a normal end or an error; its pooled connections are returned without asyncpg's reset
query, so nothing else may release it."""
from __future__ import annotations

import asyncio

import pytest

from storage.db import make_engine
from storage.locks import ChatLocks


@pytest.fixture
async def two_workers(pg_url):
    engines = [make_engine(pg_url), make_engine(pg_url)]
    locks = [ChatLocks(engines[0], 2), ChatLocks(engines[1], 2)]
    try:
        yield locks
    finally:
        for lock, engine in zip(locks, engines):
            await lock.close()
            await engine.dispose()


async def test_a_chat_is_held_by_one_worker_at_a_time_and_freed_after(two_workers):
    first, second = two_workers
    order: list[str] = []

    async def work(locks, name: str, fail: bool = False) -> None:
        async with locks.hold("telegram:42"):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")
            if fail:
                raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError):
        await work(first, "a", fail=True)  # an error frees the lock too
    a = asyncio.create_task(work(first, "b"))
    await asyncio.sleep(0.05)
    b = asyncio.create_task(work(second, "c"))
    await asyncio.wait_for(asyncio.gather(a, b), 5)
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    async with second.hold("telegram:42"):  # and nothing is left held on a pooled connection
        async with first.hold("telegram:43"):
            pass
    waiter = asyncio.create_task(work(first, "d"))
    await asyncio.wait_for(waiter, 2)


async def test_the_lock_answers_whether_an_earlier_update_of_the_chat_waits(two_workers, pg_url):
    """Across workers one chat's updates go in arrival order (bot/app.py chat_lock): the lock,
    taken for update 2, says that update 1 of the same chat is stored and unfinished."""
    from sqlalchemy import text

    engine = make_engine(pg_url)
    try:
        async with engine.begin() as conn:
            for key, chat in (("1", "42"), ("2", "42"), ("3", "77")):
                await conn.execute(text("INSERT INTO inbox (channel, update_key, chat, body, received_at) "
                                        "VALUES ('telegram', :k, :c, '{}', now())"), {"k": key, "c": chat})
        first, _ = two_workers
        async with first.hold("telegram:42", ("telegram", "42", "2")) as held:
            assert await held.earlier("telegram", "42", "2") is True
        async with first.hold("telegram:77", ("telegram", "77", "3")) as held:
            assert await held.earlier("telegram", "77", "3") is False  # another chat's update is no reason to wait
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM inbox WHERE update_key = '1'"))
        async with first.hold("telegram:42", ("telegram", "42", "2")) as held:
            assert await held.earlier("telegram", "42", "2") is False
    finally:
        await engine.dispose()


async def test_an_update_finished_with_the_unlock_is_gone_when_the_lock_is_free(two_workers, pg_url):
    """The update's inbox row is deleted in the unlock's own statement: the next worker to take
    the chat never finds the lock free and the update still unfinished."""
    from sqlalchemy import text

    engine = make_engine(pg_url)
    try:
        async with engine.begin() as conn:
            for key in ("1", "2"):
                await conn.execute(text("INSERT INTO inbox (channel, update_key, chat, body, received_at) "
                                        "VALUES ('vk', :k, '42', '{}', now())"), {"k": key})
        first, second = two_workers
        async with first.hold("vk:42", ("vk", "42", "1")) as held:
            assert not held.finish_with_unlock("vk", "2")  # not the update this lock was taken for
            assert held.finish_with_unlock("vk", "1")
            async with engine.connect() as conn:  # still there while the lock is held
                assert (await conn.execute(text("SELECT count(*) FROM inbox WHERE update_key = '1'"))).scalar() == 1
        assert held.finished
        async with second.hold("vk:42", ("vk", "42", "2")) as other:
            assert await other.earlier("vk", "42", "2") is False
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT update_key FROM inbox"))).scalars().all() == ["2"]
    finally:
        await engine.dispose()
