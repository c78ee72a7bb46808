"""Engine and sessions for SQLite (embedded default) and PostgreSQL."""
from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import inline_sqlite


def _sqlite_pragmas(busy_ms: int):
    def apply(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
    return apply


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":  # a file: statements in the loop's thread
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, hide_parameters=True, async_creator=inline_sqlite.creator(parsed.database))
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas(0))  # it waits in a thread instead
        else:
            engine = create_async_engine(url, hide_parameters=True)
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas(10_000))
        return engine
    # hide_parameters: an error message never carries the values (names, e-mails, texts)
    # A fixed pool (no overflow): N workers open at most N × (pool + chat locks) connections,
    # which must stay under the server's max_connections (README, "Running at scale").
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=pool_size,
                               max_overflow=0, pool_timeout=120)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


# What services are given to open transactions: `async with db() as session, session.begin()`.
Database = async_sessionmaker
Session = AsyncSession


def writer_gate(engine: AsyncEngine):
    """How many transactions may run at once. SQLite has one writer, and concurrent writers only
    sleep-poll in its busy handler: queueing them in the event loop keeps latency flat."""
    return asyncio.Semaphore(1 if engine.dialect.name == "sqlite" else engine.pool.size())
