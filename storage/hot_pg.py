"""The hot path's writes on PostgreSQL (storage/hot.py): each job is one statement, one round
trip, in plain asyncpg on a small pool of its own. The keeps of one platform batch (a getUpdates
answer) go in one statement, and one keep statement is in flight at a time, so the inbox's ids
follow arrival order."""
from __future__ import annotations

import asyncio
import itertools
import json
import re
from datetime import datetime
from functools import lru_cache

from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.raw_pool import RawPool
from storage.hot import OK, STALE, HotWriter
from storage.models import DialogState

PG_POOL_SIZE = 4  # the hot path's own connections per process (README, DB_POOL_SIZE)
PG_SAME_CITIZEN = ("EXISTS (SELECT 1 FROM identities JOIN citizens ON citizens.id = identities.citizen_id "
                   "WHERE identities.id = $5 AND identities.citizen_id = $7 AND citizens.version = $8)")
# One statement, one round trip: the state only if the update was never handled; the update
# recorded and its replies kept only if the state was saved.
PG_SQL = {
    "save_state": ("WITH s AS (UPDATE dialog_states SET step = $1, data = $2::json, version = $3, updated_at = $4 "
                   f"WHERE identity_id = $5 AND version = $6 AND {PG_SAME_CITIZEN} RETURNING 1) "
                   "SELECT count(*) FROM s"),
    "save_state+": ("WITH s AS (UPDATE dialog_states SET step = $1, data = $2::json, version = $3, updated_at = $4 "
                    f"WHERE identity_id = $5 AND version = $6 AND {PG_SAME_CITIZEN} AND NOT EXISTS "
                    "(SELECT 1 FROM processed_updates WHERE channel = $9 AND update_key = $10) RETURNING 1), "
                    "r AS (INSERT INTO processed_updates (channel, update_key, processed_at) "
                    "SELECT $9::varchar, $10::varchar, $11::timestamptz FROM s ON CONFLICT DO NOTHING RETURNING 1), "
                    "o AS (UPDATE inbox SET replies = $12::json WHERE channel = $9 AND update_key = $10 "
                    "AND EXISTS (SELECT 1 FROM s) RETURNING 1) "
                    "SELECT count(*) FROM s"),
    "keep": "INSERT INTO inbox (channel, update_key, chat, body, received_at) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT DO NOTHING",
    "finish": "DELETE FROM inbox WHERE channel = $1 AND update_key = $2",
    # The keeps waiting together, in arrival order (the id is the inbox's order); the rows
    # stored, to tell each caller whether its update was new.
    "keep_many": "INSERT INTO inbox (channel, update_key, chat, body, received_at) SELECT c, k, ch, b, r "
                 "FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::timestamptz[]) "
                 "WITH ORDINALITY AS u(c, k, ch, b, r, n) ORDER BY n ON CONFLICT DO NOTHING "
                 "RETURNING channel, update_key",
}
# A step's records (dialogs/context.py `record`), as parts of its one statement, written only if the state was
# saved; then the citizen's version is bumped ("{}": the record's parameters, numbered on).
PG_RECORDS = {
    "shown": ("INSERT INTO texts_shown (citizen_id, text, version, channel, at) "
              "SELECT $7, {}::varchar, {}::varchar, {}::varchar, {}::timestamptz FROM s",
              ("text", "version", "channel", "at")),
}
PG_TOUCH = "UPDATE citizens SET version = version + 1 WHERE id = $7 AND EXISTS (SELECT 1 FROM s)"
KEEP_BATCH = 100  # keeps per statement at most (a getUpdates answer holds up to 100 updates)


class PgWriter(HotWriter):
    """Plain asyncpg on a small pool of its own: no pre-ping round trip per checkout (a broken
    connection fails the write, and the caller's ordinary path or retry takes over)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.raw = RawPool(engine, PG_POOL_SIZE)
        dialect = pg_asyncpg.dialect()
        self.json = DialogState.__table__.c.data.type.bind_processor(dialect) or json.dumps
        self.time = DialogState.__table__.c.updated_at.type.bind_processor(dialect) or (lambda v: v)
        self._keeps: list[tuple[tuple, asyncio.Future]] = []  # waiting for the next keep statement
        self._keeping: asyncio.Task | None = None

    async def keep(self, channel: str, key: str, chat: str, body: str, now: datetime) -> bool:
        """Kept with the keeps that arrive meanwhile: the updates of one getUpdates answer reach
        here in the same turn of the loop and are stored in one round trip."""
        done = asyncio.get_running_loop().create_future()
        self._keeps.append(((channel, key[:64], chat[:64], body, self.time(now)), done))
        if self._keeping is None or self._keeping.done():
            self._keeping = asyncio.create_task(self._keep_waiting())  # starts after this turn's keeps
        return await done

    async def _keep_waiting(self) -> None:
        while self._keeps:
            batch, self._keeps = self._keeps[:KEEP_BATCH], self._keeps[KEEP_BATCH:]
            try:
                outcomes = await self._keep_batch([row for row, _ in batch])
            except BaseException:  # closed mid-way: nobody waits for ever
                for _, done in batch:
                    _settle(done, ConnectionError("the hot path's writer is closed"))
                raise
            for (_, done), outcome in zip(batch, outcomes):
                _settle(done, outcome)

    async def _keep_batch(self, rows: list[tuple]) -> list:
        """Per row: True (stored now), False (stored before) or the error."""
        try:
            stored = await self._keep_rows(rows)
        except Exception as e:
            if len(rows) == 1:
                return [e]
            return [(await self._keep_batch([row]))[0] for row in rows]  # one bad update fails alone
        outcomes = []
        for row in rows:
            outcomes.append(row[:2] in stored)
            stored.discard(row[:2])  # the same update twice in one batch: the second is a duplicate
        return outcomes

    async def _keep_rows(self, rows: list[tuple]) -> set[tuple[str, str]]:
        async with self.raw.connection() as conn:
            if len(rows) == 1:
                status = await conn.execute(PG_SQL["keep"], *rows[0])
                return {rows[0][:2]} if status.endswith(" 1") else set()
            stored = await conn.fetch(PG_SQL["keep_many"], *(list(column) for column in zip(*rows)))
            return {(r[0], r[1]) for r in stored}

    async def run(self, job: list) -> str:
        async with self.raw.connection() as conn:
            name, params, _ = job[0]
            if name.startswith("save_state"):
                args = [params["new_step"], self.json(params["new_data"]), params["next_version"],
                        self.time(params["at"]), params["iid"], params["ver"], params["cid"], params["cver"]]
                rest = job[1:]
                if name == "save_state+":
                    record, owe = rest[0][1], rest[1][1]
                    args += [record["chan"], record["key"], self.time(record["now"]), self.json(owe["owed"])]
                    rest = rest[2:]
                records = tuple(n for n, _, _ in rest if n != "touch")  # unknown: KeyError, the ordinary way
                for n, p, _ in rest:
                    if n != "touch":
                        args += [self.time(p[f]) if f == "at" else p[f] for f in PG_RECORDS[n][1]]
                return OK if await conn.fetchval(_pg_step(name, records), *args) else STALE  # or a duplicate
            await conn.execute(PG_SQL["finish"], params["chan"], params["key"])
            return OK

    async def fetch_row(self, sql: str, args: list):
        async with self.raw.connection() as conn:
            return await conn.fetchrow(_numbered(sql), *args)

    async def fetch_rows(self, sql: str, args: list) -> list:
        async with self.raw.connection() as conn:
            return await conn.fetch(_numbered(sql), *args)

    async def close(self) -> None:
        if self._keeping is not None:  # the keeps under way finish (an update stored is one not lost)
            await asyncio.wait([self._keeping], timeout=5)
            self._keeping.cancel()
            await asyncio.gather(self._keeping, return_exceptions=True)
        for _, done in self._keeps:
            _settle(done, ConnectionError("the hot path's writer is closed"))
        self._keeps = []
        await self.raw.close()


def _settle(done: asyncio.Future, outcome) -> None:
    """A waiting keep's answer (True: stored now; False: stored before) or its error; nothing
    when its caller has gone (cancelled)."""
    if done.done():
        return
    if isinstance(outcome, BaseException):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)


@lru_cache(maxsize=16)
def _pg_step(name: str, records: tuple[str, ...]) -> str:
    """The step's statement with its records' parts (PG_RECORDS) before its final SELECT."""
    sql, tail = PG_SQL[name], " SELECT count(*) FROM s"
    if not records:
        return sql
    number, parts = (8 if name == "save_state" else 12), []
    for i, record in enumerate(records):
        template, fields = PG_RECORDS[record]
        parts.append(f"r{i} AS ({template.format(*(f'${number + k + 1}' for k in range(len(fields))))})")
        number += len(fields)
    parts.append(f"t AS ({PG_TOUCH})")
    return f"{sql.removesuffix(tail)}, {', '.join(parts)}{tail}"


@lru_cache(maxsize=64)
def _numbered(sql: str) -> str:
    """"?" placeholders as asyncpg's $1, $2, … (once per statement)."""
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)
