"""The hot path's writes (issue 18): an ordinary dialog step, an inbox row kept or finished —
a few Core statements in one transaction, without the ORM's unit of work.

A job is a list of (statement, outcome): when a statement with an outcome changes no row, the
job stops there, its statements are undone and that outcome is its result ("stale": the state
changed since it was read; "duplicate": the update was handled before); otherwise "ok".

SQLite: one writer thread with its own connection (pysqlite, no aiosqlite hop per statement);
the jobs that queue while a transaction runs are committed together in the next one (group
commit), each in a savepoint of its own. It takes the process's writer gate, so it never writes
beside an ORM session of this process. PostgreSQL: one transaction per job on the async pool.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import create_engine, delete, event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import _sqlite_pragmas
from storage.inbox_models import InboxUpdate
from storage.models import DialogState, ProcessedUpdate

log = logging.getLogger(__name__)
OK, STALE, DUPLICATE = "ok", "stale", "duplicate"


class Abort(Exception):
    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class HotWriter:
    """Runs jobs; `for_engine` picks the SQLite or the PostgreSQL way (None for an in-memory
    SQLite database, which a second connection would not see)."""

    def __init__(self, dialect: str) -> None:
        self.insert = pg_insert if dialect == "postgresql" else sqlite_insert

    @staticmethod
    def for_engine(engine: AsyncEngine, gate: asyncio.Semaphore) -> HotWriter | None:
        if engine.dialect.name == "postgresql":
            return PgWriter(engine)
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return SqliteWriter(url.set(drivername="sqlite+pysqlite"), gate)

    # ---- the jobs
    async def step(self, *, identity_id: int, version: int, step: str, data: dict, channel: str,
                   update_key: str | None, replies: list | None, now: datetime) -> str:
        """The dialog state of one ordinary step, the update recorded as handled and its
        replies kept on its inbox row: "ok", "stale" or "duplicate"."""
        job = [(update(DialogState).where(DialogState.identity_id == identity_id, DialogState.version == version)
                .values(step=step, data=data, version=version + 1), STALE)]
        if update_key is not None:
            key = update_key[:64]
            job.append((self.insert(ProcessedUpdate).values(channel=channel, update_key=key, processed_at=now)
                        .on_conflict_do_nothing(), DUPLICATE))
            job.append((update(InboxUpdate).where(InboxUpdate.channel == channel, InboxUpdate.update_key == key)
                        .values(replies=replies), None))
        return await self.run(job)

    async def keep(self, channel: str, key: str, chat: str, body: str, now: datetime) -> bool:
        stmt = self.insert(InboxUpdate).values(channel=channel, update_key=key[:64], chat=chat[:64], body=body,
                                               received_at=now).on_conflict_do_nothing()
        return await self.run([(stmt, DUPLICATE)]) == OK

    async def finish(self, channel: str, key: str) -> None:
        await self.run([(delete(InboxUpdate).where(InboxUpdate.channel == channel,
                                                   InboxUpdate.update_key == key[:64]), None)])

    async def run(self, job: list) -> str:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class PgWriter(HotWriter):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__("postgresql")
        self.engine = engine

    async def run(self, job: list) -> str:
        try:
            async with self.engine.begin() as conn:
                for stmt, outcome in job:
                    if (await conn.execute(stmt)).rowcount == 0 and outcome:
                        raise Abort(outcome)
        except Abort as stop:
            return stop.outcome
        return OK


class SqliteWriter(HotWriter):
    def __init__(self, url, gate: asyncio.Semaphore) -> None:
        super().__init__("sqlite")
        self.gate = gate
        self.engine = create_engine(url, hide_parameters=True)
        event.listen(self.engine, "connect", _writer_connection)
        event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self.conn = None  # opened in the writer thread, used only there
        self.queue: list[tuple[list, asyncio.Future]] = []
        self.draining = False
        self.closed = False

    async def run(self, job: list) -> str:
        done = asyncio.get_running_loop().create_future()
        self.queue.append((job, done))
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.queue:
                async with self.gate:
                    batch, self.queue = self.queue, []
                    try:
                        results = await loop.run_in_executor(self.thread, self._write, [job for job, _ in batch])
                    except Exception as error:  # the transaction failed: every job in it fails
                        results = [error] * len(batch)
                for (_, done), result in zip(batch, results):
                    if done.done():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            self.draining = False

    def _write(self, jobs: list[list]) -> list[str]:
        if self.conn is None:
            self.conn = self.engine.connect()
        results = []
        try:
            with self.conn.begin():
                for job in jobs:
                    point = self.conn.begin_nested()
                    result = OK
                    for stmt, outcome in job:
                        if self.conn.execute(stmt).rowcount == 0 and outcome:
                            result = outcome
                            break
                    (point.commit if result == OK else point.rollback)()
                    results.append(result)
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        return results

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True

        def shut() -> None:
            if self.conn is not None:
                self.conn.close()
            self.engine.dispose()
        await asyncio.get_running_loop().run_in_executor(self.thread, shut)
        self.thread.shutdown(wait=True)


def _writer_connection(dbapi_conn, record) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, so savepoints work (pysqlite)

