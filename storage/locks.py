"""One chat at a time across worker processes: a PostgreSQL session advisory lock per chat,
held while its update is handled and the replies are shown.

The locks live on connections of their own small pool, so a worker holding one never waits
for a connection its own handling needs. A worker that dies loses its connection, and
PostgreSQL releases its locks. On SQLite one process serves the database: the adapters'
in-process per-chat queues (core/ordering.py) are the whole story, and `hold` does nothing."""
from __future__ import annotations

import hashlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.raw_pool import RawPool

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


EARLIER = ("SELECT EXISTS (SELECT 1 FROM inbox WHERE channel = $1 AND chat = $2 AND id < "
           "(SELECT id FROM inbox WHERE channel = $1 AND update_key = $3))")


# Taken and asked in one round trip. Which is evaluated first does not matter: "no earlier
# update unfinished" stays true once true (a later arrival gets a higher id), and "there is
# one" only makes the caller let go and try again.
LOCK_AND_EARLIER = ("SELECT pg_advisory_lock($1)::text, EXISTS (SELECT 1 FROM inbox WHERE channel = $2 "
                    "AND chat = $3 AND id < (SELECT id FROM inbox WHERE channel = $2 AND update_key = $4))")


# The update's inbox row deleted (finished) and the chat's lock released in one round trip
# (a data-modifying WITH always runs to completion).
UNLOCK_AND_FINISH = ("WITH done AS (DELETE FROM inbox WHERE channel = $2 AND update_key = $3) "
                     "SELECT pg_advisory_unlock($1)")


class Held:
    """A chat's lock while held; `earlier` asks on the lock's own connection (one round trip),
    or gives the answer got with the lock itself."""

    def __init__(self, conn, answer: tuple | None = None) -> None:
        self.conn = conn
        self.answer = answer  # ((channel, chat, key), earlier?) asked when the lock was taken
        self.finish: tuple[str, str] | None = None  # (channel, update key) to finish with the unlock
        self.finished = False

    def finish_with_unlock(self, channel: str, key: str) -> bool:
        """Leave the update's inbox row to the unlock's round trip (deleted in the same
        statement, so no other worker sees the lock free and the update unfinished). False
        when this lock cannot, or was not taken for that update: the caller finishes it the
        ordinary way."""
        if self.conn is None or self.answer is None or self.answer[0][::2] != (channel, key[:64]):
            return False
        self.finish = (channel, key[:64])
        return True

    async def earlier(self, channel: str, chat: str, key: str) -> bool | None:
        """True while an update of this chat stored before `key` is unfinished; None when this
        lock has no connection to ask on (the caller asks the ordinary way)."""
        if self.conn is None:
            return None
        if self.answer is not None and self.answer[0] == (channel, chat[:64], key[:64]):
            return self.answer[1]
        return await self.conn.fetchval(EARLIER, channel, chat[:64], key[:64])


class ChatLocks:
    def __init__(self, engine: AsyncEngine, size: int = 16) -> None:
        self.enabled = engine.dialect.name == "postgresql"
        self.raw = RawPool(engine, size)

    @asynccontextmanager
    async def hold(self, name: str, ask: tuple[str, str, str] | None = None) -> AsyncIterator[Held]:
        """The lock of `name`; with `ask` = (channel, chat, update key), the "an earlier update
        of the chat first?" question is answered in the same round trip."""
        if not self.enabled:
            yield Held(None)
            return
        key = lock_key(name)
        conn = None
        try:  # plain asyncpg: no pre-ping round trip; a broken connection fails here and is replaced
            conn = await self.raw.acquire()
            answer = None
            if ask is None:
                await conn.execute("SELECT pg_advisory_lock($1)", key)
            else:
                channel, chat, update_key = ask[0], ask[1][:64], ask[2][:64]
                row = await conn.fetchrow(LOCK_AND_EARLIER, key, channel, chat, update_key)
                answer = ((channel, chat, update_key), row[1])
        except BaseException as e:
            if conn is not None:  # it may hold the lock all the same: dropping it releases it
                conn.terminate()
                self.raw.release(conn)
            if not isinstance(e, Exception):
                raise
            log.warning("chat lock: not taken (%s); handled without it", type(e).__name__)
            yield Held(None)  # no connection to lock with: handled unlocked rather than lost
            return
        held = Held(conn, answer)
        try:
            yield held
        finally:
            try:
                if held.finish is None:
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)
                else:
                    await conn.execute(UNLOCK_AND_FINISH, key, *held.finish)
                    held.finished = True
            except Exception:  # the connection is broken: dropping it releases the lock
                log.warning("chat lock: unlock failed, the connection is dropped")
                conn.terminate()
            self.raw.release(conn)

    async def close(self) -> None:
        await self.raw.close()
