"""The hot path's writes (issue 18): an ordinary dialog step, an inbox row kept or finished —
a few statements in one transaction, without the ORM's unit of work.

A job is a list of (statement name, parameters, outcome): when its first statement changes no
row, the job stops there and its outcome is the result ("stale": the state changed since it
was read, or the update was handled before; "duplicate": the update is stored already);
otherwise "ok". Only a job's first statement has an outcome, so a job that stops has changed
nothing, and no job needs a savepoint of its own.

SQLite: plain sqlite3, run in the event loop's thread — a transaction of these statements costs
about 25 µs, less than a hop to a worker thread — under the process's writer gate, so it never
writes beside an ORM session of this process; the jobs queued meanwhile are committed together
(group commit), and a job of one statement alone runs without BEGIN and COMMIT. When another
process holds the database, the batch goes to a writer thread that waits for it
(busy_timeout), so the loop never blocks on a lock. PostgreSQL: storage/hot_pg.py, one
statement per job.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.inbox_models import InboxUpdate
from storage.models import DialogState, ProcessedUpdate, utcnow
from storage.personal_data_models import TextShown
from storage.repos import appeals as appeal_rows

log = logging.getLogger(__name__)
OK, STALE, DUPLICATE = "ok", "stale", "duplicate"
STATE, DONE, INBOX = DialogState.__table__, ProcessedUpdate.__table__, InboxUpdate.__table__
SHOWN = TextShown.__table__
CHECKPOINT_EVERY = 1000  # commits of the loop's connection between two WAL checkpoints (in the thread)


class HotWriter:
    """Runs jobs; `for_engine` picks the SQLite or the PostgreSQL way (None for an in-memory
    SQLite database, which a second connection would not see)."""

    @staticmethod
    def for_engine(engine: AsyncEngine, gate: asyncio.Semaphore) -> HotWriter | None:
        if engine.dialect.name == "postgresql":
            from storage.hot_pg import PgWriter

            return PgWriter(engine)
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return SqliteWriter(url.database, gate)

    # ---- the jobs
    async def step(self, *, identity_id: int, version: int, citizen_id: int, citizen_version: int, step: str,
                   data: dict, channel: str, update_key: str | None, replies: list | None, now: datetime,
                   records: list | None = None) -> str:
        """The dialog state of one ordinary step, the update recorded as handled and its
        replies kept on its inbox row, with the step's `records` (dialogs/context.py `record`,
        by statement name; then the citizen's version is bumped): "ok", or "stale" (the state,
        the citizen's row or which citizen the identity belongs to changed, or the update was
        handled before: the ordinary path then tells which)."""
        state = {"iid": identity_id, "ver": version, "new_step": step, "new_data": data,
                 "next_version": version + 1, "at": utcnow(), "cid": citizen_id, "cver": citizen_version}
        extra = [(name, {**params, "cid": citizen_id}, None) for name, params in records or ()]
        if extra:
            extra.append(("touch", {"cid": citizen_id}, None))
        if update_key is None:
            return await self.run([("save_state", state, STALE), *extra])
        key = {"chan": channel, "key": update_key[:64]}  # saved only if the update was never handled
        return await self.run([("save_state+", {**state, **key}, STALE), ("record", {**key, "now": now}, None),
                               ("owe", {**key, "owed": replies}, None), *extra])

    async def keep(self, channel: str, key: str, chat: str, body: str, now: datetime) -> bool:
        params = {"chan": channel, "key": key[:64], "chat_id": chat[:64], "raw": body, "now": now}
        return await self.run([("keep", params, DUPLICATE)]) == OK

    async def finish(self, channel: str, key: str) -> None:
        await self.run([("finish", {"chan": channel, "key": key[:64]}, None)])

    async def run(self, job: list) -> str:
        raise NotImplementedError

    async def fact(self, name: str, citizen_id: int) -> tuple[bool, object]:
        """(True, value) of a fact about a citizen (dialogs/context.py `fact`), read with one plain
        statement; (False, None) for a fact this writer cannot read."""
        query = fact_query(name, citizen_id)
        if query is None:
            return False, None
        sql, args, convert = query
        return True, convert(await self.fetch_row(sql, args))

    async def listing(self, name: str, citizen_id: int) -> tuple[bool, object]:
        """(True, rows) of a short list about a citizen (dialogs/context.py `listing`), read
        fresh with one plain statement; (False, None) for a list this writer cannot read."""
        query = list_query(name, citizen_id)
        if query is None:
            return False, None
        sql, args, convert = query
        return True, convert(await self.fetch_rows(sql, args))

    async def fetch_row(self, sql: str, args: list):
        raise NotImplementedError

    async def fetch_rows(self, sql: str, args: list) -> list:
        raise NotImplementedError

    async def close(self) -> None:
        pass


def fact_query(name: str, citizen_id: int):
    """The facts the hot path reads itself: the same answers as their ORM loaders
    (services/appeal_rules.py `verified_as`, services/personal_data.py `has_seen`). SQL with
    "?" placeholders; (SQL, arguments, conversion of the first row or None)."""
    if name == "verified_as":
        return ("SELECT full_name FROM verifications WHERE citizen_id = ? ORDER BY verified_at DESC, id DESC "
                "LIMIT 1", [citizen_id], lambda row: None if row is None else (row[0] or ""))
    kind, _, rest = name.partition(":")
    text, _, version = rest.partition(":")
    if kind == "seen" and text and version:
        return ("SELECT 1 FROM texts_shown WHERE citizen_id = ? AND text = ? AND version = ? LIMIT 1",
                [citizen_id, text, version], lambda row: row is not None)
    return None


def list_query(name: str, citizen_id: int):
    """The lists the hot path reads itself, fresh each time (a staff member changes an appeal's
    status without touching the citizen): the same rows as their ORM loaders
    (storage/repos/appeals.py `listed`). (SQL, arguments, conversion of all rows)."""
    if name == "appeals":
        return ("SELECT id, number, status FROM appeals WHERE citizen_id = ? ORDER BY registered_at DESC, id DESC "
                f"LIMIT {appeal_rows.LISTED}", [citizen_id], lambda found: [appeal_rows.Listed(*r) for r in found])
    return None


# ---------------------------------------------------------------- SQLite
def _binder(column):
    process = column.type.bind_processor(sqlite_dialect.dialect())  # the ORM's own conversion (JSON, UTC times)
    return process or (lambda value: value)


def _sqlite_statements() -> dict:
    """name -> (SQL, [(parameter, conversion)]) in the order of the placeholders."""
    s, d, i, t = STATE.c, DONE.c, INBOX.c, SHOWN.c
    key = [("chan", _binder(i.channel)), ("key", _binder(i.update_key))]
    save = ("UPDATE dialog_states SET step = ?, data = ?, version = ?, updated_at = ? "
            "WHERE identity_id = ? AND version = ? AND EXISTS (SELECT 1 FROM identities "
            "JOIN citizens ON citizens.id = identities.citizen_id WHERE identities.id = ? "
            "AND identities.citizen_id = ? AND citizens.version = ?)")
    save_binds = [("new_step", _binder(s.step)), ("new_data", _binder(s.data)),
                  ("next_version", _binder(s.version)), ("at", _binder(s.updated_at)),
                  ("iid", _binder(s.identity_id)), ("ver", _binder(s.version)), ("iid", _binder(s.identity_id)),
                  ("cid", _binder(s.identity_id)), ("cver", _binder(s.version))]
    return {
        "save_state": (save, save_binds),
        "save_state+": (save + " AND NOT EXISTS (SELECT 1 FROM processed_updates WHERE channel = ? AND update_key = ?)",
                        [*save_binds, *key]),
        "record": ("INSERT INTO processed_updates (channel, update_key, processed_at) VALUES (?, ?, ?) "
                   "ON CONFLICT DO NOTHING", [*key, ("now", _binder(d.processed_at))]),
        "owe": ("UPDATE inbox SET replies = ? WHERE channel = ? AND update_key = ?",
                [("owed", _binder(i.replies)), *key]),
        "keep": ("INSERT INTO inbox (channel, update_key, chat, body, received_at) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT DO NOTHING",
                 [*key, ("chat_id", _binder(i.chat)), ("raw", _binder(i.body)), ("now", _binder(i.received_at))]),
        "finish": ("DELETE FROM inbox WHERE channel = ? AND update_key = ?", key),
        "shown": ("INSERT INTO texts_shown (citizen_id, text, version, channel, at) VALUES (?, ?, ?, ?, ?)",
                  [("cid", _binder(t.citizen_id)), ("text", _binder(t.text)), ("version", _binder(t.version)),
                   ("channel", _binder(t.channel)), ("at", _binder(t.at))]),
        "touch": ("UPDATE citizens SET version = version + 1 WHERE id = ?", [("cid", _binder(t.citizen_id))]),
    }


class SqliteWriter(HotWriter):
    def __init__(self, path: str, gate: asyncio.Semaphore) -> None:
        self.path, self.gate = path, gate
        self.statements = _sqlite_statements()
        self.quick: sqlite3.Connection | None = None  # the loop's: never waits for a lock
        self.patient: sqlite3.Connection | None = None  # the thread's: waits (busy_timeout)
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self.queue: list[tuple[list, asyncio.Future]] = []
        self.draining = self.closed = False
        self.drainer: asyncio.Task | None = None
        self.commits = 0

    async def run(self, job: list) -> str:
        done = asyncio.get_running_loop().create_future()
        self.queue.append((job, done))
        if not self.draining:
            self.draining = True
            self.drainer = asyncio.get_running_loop().create_task(self._drain())  # held: tasks are weakly referenced
        return await done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.queue:
                async with self.gate:
                    batch, self.queue = self.queue, []
                    jobs = [job for job, _ in batch]
                    try:
                        try:
                            results = self._write(self._quick(), jobs)
                        except sqlite3.OperationalError as error:
                            if not _locked(error):
                                raise
                            results = await loop.run_in_executor(self.thread, self._write_patiently, jobs)
                    except Exception as error:  # the transaction failed: every job in it fails
                        results = [error] * len(batch)
                self._checkpoint(loop)
                for (_, done), result in zip(batch, results):
                    if not done.done():
                        (done.set_exception if isinstance(result, Exception) else done.set_result)(result)
        finally:
            self.draining = False

    def _write(self, conn: sqlite3.Connection, jobs: list[list]) -> list[str]:
        self.commits += 1
        if len(jobs) == 1 and len(jobs[0]) == 1:  # one statement is a transaction of its own
            return [self._job(conn, jobs[0])]
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = [self._job(conn, job) for job in jobs]
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return results

    def _job(self, conn: sqlite3.Connection, job: list) -> str:
        for name, params, outcome in job:
            sql, binds = self.statements[name]
            if conn.execute(sql, [bind(params[p]) for p, bind in binds]).rowcount == 0 and outcome:
                return outcome  # only a first statement has an outcome: nothing to undo
        return OK

    async def fetch_row(self, sql: str, args: list):
        """A read in the loop's thread (WAL: it never waits for a writer); a lock or any error
        is the caller's, who then reads the ordinary way."""
        return self._quick().execute(sql, args).fetchone()

    async def fetch_rows(self, sql: str, args: list) -> list:
        return self._quick().execute(sql, args).fetchall()

    def _write_patiently(self, jobs: list[list]) -> list[str]:
        if self.patient is None:
            self.patient = _connect(self.path, busy_ms=10_000)
        return self._write(self.patient, jobs)

    def _quick(self) -> sqlite3.Connection:
        if self.quick is None:
            self.quick = _connect(self.path, busy_ms=0)
            self.quick.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints (with their fsync) run in the thread
        return self.quick

    def _checkpoint(self, loop) -> None:
        if self.commits >= CHECKPOINT_EVERY:
            self.commits = 0
            loop.run_in_executor(self.thread, self._checkpoint_now)

    def _checkpoint_now(self) -> None:
        try:
            if self.patient is None:
                self.patient = _connect(self.path, busy_ms=10_000)
            self.patient.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.warning("WAL checkpoint failed", exc_info=True)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.quick is not None:
            self.quick.close()

        def shut() -> None:
            if self.patient is not None:
                self.patient.close()
        await asyncio.get_running_loop().run_in_executor(self.thread, shut)
        self.thread.shutdown(wait=True)


def _connect(path: str, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False)
    for pragma in (f"busy_timeout={busy_ms}", "journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text
