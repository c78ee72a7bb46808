"""SQLite for the ORM without a thread hop per statement (issue 18).

aiosqlite runs every statement on a thread of its own: two thread hops and a wake-up of the
event loop per statement, which costs more than the statement (an indexed read or a one-row
write takes 10–50 µs in WAL mode). This module gives SQLAlchemy's aiosqlite dialect a
connection that runs a statement in the loop's thread, and goes to a worker thread only when
that could block the loop:

- the connection never waits for a lock (busy_timeout 0): a statement that finds the database
  locked by another process is run again in the thread, waiting as long as the engine would;
- a SELECT has a time budget (`READ_BUDGET_S`, checked by SQLite's progress handler): a read
  that runs longer (a report over many rows) is interrupted and run again in the thread;
- the WAL is checkpointed in the thread: every CHECKPOINT_EVERY commits, the committing
  transaction waits for it (as for SQLite's automatic checkpoint, whose fsync would stall the loop).

Writes are short here (one person's rows); a statement that fails for any other reason fails
as it would under aiosqlite.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)
READ_BUDGET_S = 0.002  # a read in the loop's thread longer than this goes to the thread
PATIENT_MS = 10_000  # how long a statement waits for another process's lock (as the engine's busy_timeout)
CHECKPOINT_EVERY = 1000  # commits between two WAL checkpoints (in the thread)
_thread = ThreadPoolExecutor(2, thread_name_prefix="sqlite-inline")


class _Interrupted(Exception):
    pass


def _locked(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_kinds: dict[str, bool] = {}


def _reads(operation: str) -> bool:
    """Whether a statement only reads (so it can be interrupted and run again): a SELECT, or a
    WITH that names no write. Anything else counts as a write (it is never interrupted)."""
    known = _kinds.get(operation)
    if known is None:
        head = operation.lstrip()[:6].upper()
        known = head == "SELECT" or (head[:4] == "WITH" and not WRITES.search(operation))
        if len(_kinds) > 5000:
            _kinds.clear()
        _kinds[operation] = known
    return known


class Cursor:
    """What SQLAlchemy's aiosqlite adapter expects of an aiosqlite cursor."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._cursor = conn._conn.cursor()
        self._rows: list | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters=()) -> Cursor:
        self._rows = None
        if _reads(operation):
            self._rows = await self._conn._read(self._cursor, operation, parameters)
        else:
            await self._conn._run(self._cursor.execute, operation, parameters)
        return self

    async def executemany(self, operation: str, seq_of_parameters) -> Cursor:
        self._rows = None
        await self._conn._run(self._cursor.executemany, operation, seq_of_parameters)
        return self

    async def fetchall(self) -> list:
        if self._rows is not None:
            rows, self._rows = self._rows, []
            return rows
        return self._cursor.fetchall()

    async def fetchone(self):
        if self._rows is not None:
            return self._rows.pop(0) if self._rows else None
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list:
        if self._rows is not None:
            size = size or self._cursor.arraysize
            rows, self._rows = self._rows[:size], self._rows[size:]
            return rows
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()


class _Tx:
    """aiosqlite's request queue, as the dialect's isolation_level setter uses it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def put_nowait(self, item) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class Connection:
    """What SQLAlchemy's aiosqlite adapter expects of an aiosqlite connection."""

    commits = 0  # across connections: when the WAL is checkpointed

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self._path = path
        self._tx = _Tx(conn)
        self._connection = conn  # the adapter checks it is open
        self._deadline = 0.0
        self.interrupted = 0  # reads sent to the thread for their length (tests, metrics)
        self.waited = 0  # statements sent to the thread for a lock

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def execute(self, operation: str, parameters=()) -> Cursor:
        cursor = self.cursor()
        return await cursor.execute(operation, parameters)

    async def create_function(self, *args, **kw) -> None:
        self._conn.create_function(*args, **kw)

    async def commit(self) -> None:
        await self._run(self._conn.commit)
        Connection.commits += 1
        if Connection.commits >= CHECKPOINT_EVERY:  # this transaction waits for it, as in SQLite's own
            Connection.commits = 0
            await asyncio.get_running_loop().run_in_executor(_thread, _checkpoint, self._path)

    async def rollback(self) -> None:
        await self._run(self._conn.rollback)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        self._connection = None
        self._conn.close()

    # ---- where a statement runs
    async def _run(self, call, *args):
        try:
            return call(*args)
        except sqlite3.OperationalError as error:
            if not _locked(error):
                raise
        self.waited += 1
        return await asyncio.get_running_loop().run_in_executor(_thread, self._patiently, call, args)

    def _patiently(self, call, args):
        self._conn.execute(f"PRAGMA busy_timeout={PATIENT_MS}")
        try:
            return call(*args)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    async def _read(self, cursor: sqlite3.Cursor, operation: str, parameters) -> list:
        self._deadline = time.perf_counter() + READ_BUDGET_S
        self._conn.set_progress_handler(self._over_budget, 1000)
        try:
            return cursor.execute(operation, parameters).fetchall()
        except sqlite3.OperationalError as error:
            if not (_locked(error) or "interrupt" in str(error).lower()):
                raise
            self.interrupted += "interrupt" in str(error).lower()
        finally:
            self._conn.set_progress_handler(None, 0)

        def read_there() -> list:
            return self._patiently(lambda: cursor.execute(operation, parameters).fetchall(), ())
        return await asyncio.get_running_loop().run_in_executor(_thread, read_there)

    def _over_budget(self) -> int:
        return 1 if time.perf_counter() > self._deadline else 0


def _checkpoint(path: str) -> None:
    try:
        conn = sqlite3.connect(path, timeout=PATIENT_MS / 1000)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()
    except sqlite3.Error:
        log.warning("WAL checkpoint failed", exc_info=True)


def creator(path: str):
    """For create_async_engine(async_creator=…): a new connection to the file at `path`."""

    async def connect() -> Connection:
        conn = sqlite3.connect(path, timeout=0, isolation_level="", check_same_thread=False)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return Connection(conn, path)
    return connect
