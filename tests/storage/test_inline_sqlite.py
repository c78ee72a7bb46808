"""SQLite statements in the event loop's thread (storage/inline_sqlite.py, issue 18): the
database works as it did under aiosqlite, and nothing the loop does meanwhile — other chats'
replies, polling — is held up by a long read, by another process's write lock, or by a WAL
checkpoint."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import inline_sqlite
from storage.db import make_engine


@pytest.fixture
async def engine(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/inline.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"))
    yield engine
    await engine.dispose()


class Ticker:
    """Counts how long the event loop went without running it: the longest stall."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest, last = max(self.longest, now - last), now
            self.ticks += 1

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.01)
        self.longest = 0.0
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()


async def test_it_commits_rolls_back_and_reports_errors_as_the_aiosqlite_driver_did(engine):
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('undone')"))
            raise RuntimeError("the step failed")
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).all()
        one = (await conn.execute(text("SELECT body FROM notes"))).first()
    assert [r.body for r in rows] == ["kept"] and one.body == "kept"


async def test_a_long_read_goes_to_a_thread_and_the_loop_keeps_running(engine):
    long_read = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
                     "SELECT count(*) FROM n")
    async with engine.connect() as conn:
        started = time.perf_counter()
        async with Ticker() as ticker:
            count = (await conn.execute(long_read)).scalar()
        took = time.perf_counter() - started
        raw = (await conn.get_raw_connection()).driver_connection
    assert count == 3_000_000
    assert raw.interrupted == 1
    assert took > 0.1 and ticker.longest < 0.05, (took, ticker.longest)  # in one piece it stalls the loop


async def test_a_write_waits_for_another_process_lock_without_stalling_the_loop(engine, tmp_path):
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process writing: the write lock is theirs
    other.execute("INSERT INTO notes (body) VALUES ('theirs')")
    threading.Timer(0.4, other.execute, ("COMMIT",)).start()
    async with Ticker() as ticker:
        started = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('ours')"))
        waited = time.perf_counter() - started
    other.close()
    async with engine.connect() as conn:
        bodies = sorted((await conn.execute(text("SELECT body FROM notes"))).scalars())
    assert bodies == ["ours", "theirs"]
    assert waited > 0.3 and ticker.longest < 0.05, (waited, ticker.longest)


async def test_the_wal_is_checkpointed_so_it_does_not_grow_without_end(engine, tmp_path, monkeypatch):
    """No automatic checkpoint runs in a commit (its fsync would stall the loop): every
    CHECKPOINT_EVERY commits one runs in the thread, and the WAL is written from its start
    again. Without checkpoints each burst would add its pages to the file."""
    monkeypatch.setattr(inline_sqlite, "CHECKPOINT_EVERY", 20)
    wal = tmp_path / "inline.db-wal"
    sizes = []
    for burst in range(5):
        for i in range(100):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{burst}-{i}" + "x" * 2000})
        sizes.append(wal.stat().st_size)
    assert sizes[-1] < 1.5 * sizes[0], sizes
