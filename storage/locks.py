"""One chat at a time across worker processes: a PostgreSQL session advisory lock per chat,
held while its update is handled and the replies are shown.

The locks live on connections of their own small pool, so a worker holding one never waits
for a connection its own handling needs. A worker that dies loses its connection, and
PostgreSQL releases its locks. On SQLite one process serves the database: the adapters'
in-process per-chat queues (core/ordering.py) are the whole story, and `hold` does nothing."""
from __future__ import annotations

import hashlib
import logging
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class ChatLocks:
    def __init__(self, engine: AsyncEngine, size: int = 16) -> None:
        self.enabled = engine.dialect.name == "postgresql"
        self._engine = None
        if self.enabled:
            self._engine = create_async_engine(engine.url, pool_size=size, max_overflow=0, pool_timeout=600,
                                               pool_pre_ping=True, hide_parameters=True,
                                               isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        if self._engine is None:
            yield
            return
        key = lock_key(name)
        conn = None
        try:
            conn = await self._engine.connect()
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        except Exception as e:  # no connection to lock with: handle unlocked rather than lose the update
            log.warning("chat lock: not taken (%s); handled without it", type(e).__name__)
            if conn is not None:
                with suppress(Exception):
                    await conn.close()
            yield
            return
        try:
            yield
        finally:
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            except Exception:  # the connection is broken: dropping it releases the lock
                log.warning("chat lock: unlock failed, the connection is dropped")
                await conn.invalidate()
            await conn.close()

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
