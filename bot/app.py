"""Wiring: settings, profile, calendar, database, the dialog engine, and the host that the
channel adapters talk to (core.ports.Host)."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import channels  # noqa: F401  (registers every channel)
from bot import logs
from bot.settings import Settings
from core.clock import utc_now
from core.events import Inbound, Reply
from core.heap import freeze_startup_heap  # noqa: F401  (re-exported for the runner)
from dialogs.context import Deps
from dialogs.engine import STEP, Engine
from services import inbox, intake, verification
from services.calendar import WorkCalendar
from services.consult import knowledge_for
from services.dialog_state import DialogStore
from services.health import Readiness
from services.metrics import Metrics
from services.profile import Profile, load_profile
from services.shared_memory import make_memory
from storage import migrate
from storage.db import make_engine, make_sessionmaker, writer_gate
from storage.files import FileStore
from storage.locks import ChatLocks
from storage.permissions import secure_sqlite_file, sqlite_path

log = logging.getLogger(__name__)
HELD: ContextVar = ContextVar("held_chat_lock", default=None)  # the chat lock this task is handling under
TURN_WAIT = 10.0  # seconds an update waits for an earlier one of its chat held by another worker


@dataclass
class App:
    """The composition root's handle on everything; also the adapters' host."""

    settings: Settings
    profile: Profile
    db: object  # the SQLAlchemy engine
    sessionmaker: object
    engine: Engine
    # SQLite takes one writer at a time; see storage.db.writer_gate. Shared by the engine calls,
    # the adapters' records and the outbox sender.
    db_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))
    locks: ChatLocks | None = None  # per chat across worker processes (PostgreSQL)
    metrics: Metrics = field(default_factory=Metrics)  # served at /metrics
    memory: object = None  # the adapters' per-chat values (services/shared_memory.py)
    readiness: Readiness = None  # served at /ready; the runner tells it which channels serve

    def __post_init__(self) -> None:
        if self.readiness is None:
            self.readiness = Readiness(self.db)
        if self.memory is None:
            self.memory = make_memory(self.settings.redis_url)

    # ---- core.ports.Host
    @property
    def max_file_bytes(self) -> int:
        return self.settings.max_file_bytes

    @property
    def allowed_mime(self) -> frozenset[str]:
        return self.settings.allowed_mime

    @property
    def writer(self):
        return self.engine.store.writer

    def channel_settings(self, name: str):
        return self.settings.channel(name)

    async def handle(self, event: Inbound, *, update_key: str | None = None) -> list[Reply] | None:
        """Every adapter's entry: counted and timed per channel, one log line per update
        (channel, update id, step, duration; never who or what was written)."""
        started, outcome = time.perf_counter(), "error"
        bound = logs.bind(channel=event.channel, update_id=update_label(event, update_key))
        try:
            replies = await self.engine.handle(event, update_key=update_key)  # it takes the gate it needs
            outcome = "duplicate" if replies is None else "ok"
            return replies
        finally:
            seconds = time.perf_counter() - started
            self.metrics.handled(event.channel, outcome, seconds)
            log.debug("update %s", outcome, extra={"step": STEP.get(), "duration_ms": round(seconds * 1000, 1)})
            logs.unbind(bound)

    async def recall(self, key: str) -> str | None:
        return await self.memory.recall(key)

    async def remember(self, key: str, value: str, ttl: float) -> None:
        await self.memory.remember(key, value, ttl)

    @asynccontextmanager
    async def chat_lock(self, channel: str, chat: str, update_key: str | None = None):
        """The chat's lock; with several workers, also its turn: while an update of the chat
        that arrived earlier is stored and not finished (another worker is about to handle it),
        this one lets it go first (for at most TURN_WAIT seconds: a worker that died holds
        nothing up for long)."""
        if self.locks is None:
            self.locks = ChatLocks(self.db, self.settings.chat_lock_pool)
        deadline = time.monotonic() + TURN_WAIT
        while True:
            ask = (channel, chat, update_key) if update_key is not None and self.locks.enabled else None
            async with self.locks.hold(f"{channel}:{chat}", ask) as held:
                if update_key is None or not self.locks.enabled or time.monotonic() > deadline:
                    yield
                    return
                waits = await held.earlier(channel, chat, update_key)
                if waits is None:  # the lock has no connection: ask the ordinary way
                    waits = await inbox.earlier(self.sessionmaker, channel, chat, update_key)
                if not waits:
                    token = HELD.set(held)
                    try:
                        yield
                    finally:
                        HELD.reset(token)
                    break
            await asyncio.sleep(0.005)
        if held.finish is not None and not held.finished:  # the unlock could not finish it
            await self.finish(*held.finish)

    async def apology(self, channel: str, user_id: str) -> Reply:
        return await self.engine.apology(channel, user_id)

    async def set_reachable(self, channel: str, user_id: str, reachable: bool, reason: str | None = None) -> bool:
        return await intake.set_reachable(self.sessionmaker, self.db_gate, channel, user_id, reachable, reason)

    async def cursor(self, channel: str, name: str) -> str | None:
        return await intake.cursor(self.sessionmaker, self.db_gate, channel, name)

    async def save_cursor(self, channel: str, name: str, value: str) -> None:
        await intake.save_cursor(self.sessionmaker, self.db_gate, channel, name, value, self.engine.deps.clock())

    async def keep(self, channel: str, update_key: str, chat: str, body: str) -> bool:
        if self.writer is not None:  # the hot path's writer: no ORM session for one statement
            return await self.writer.keep(channel, update_key, chat, body, self.engine.deps.clock())
        return await inbox.keep(self.sessionmaker, self.db_gate, channel, update_key, chat, body,
                                self.engine.deps.clock())

    async def unfinished(self, channel: str) -> list[tuple[str, str, str]]:
        return await inbox.unfinished(self.sessionmaker, self.db_gate, channel)

    async def finish(self, channel: str, update_key: str) -> None:
        held = HELD.get()
        if held is not None and held.finish_with_unlock(channel, update_key):
            return  # inside the update's own chat lock: finished with the unlock (storage/locks.py)
        if self.writer is not None:
            return await self.writer.finish(channel, update_key)
        await inbox.finish(self.sessionmaker, self.db_gate, channel, update_key)

    async def defer(self, channel: str, update_key: str, user_id: str, skip: int = 0) -> None:
        await inbox.defer(self.sessionmaker, self.db_gate, channel, update_key, user_id, skip,
                          self.engine.deps.clock())

    async def close(self) -> None:
        if self.engine.deps.identification is not None:
            await self.engine.deps.identification.close()
        if self.locks is not None:
            await self.locks.close()
        await self.memory.close()
        await self.engine.close()
        await self.db.dispose()


async def build_app(settings: Settings | None = None, *, upgrade: bool = True, clock=None) -> App:
    settings = settings or Settings()
    profile = load_profile(settings.agency_profile)
    db_file = sqlite_path(settings.database_url)
    if db_file is not None:  # 152-FZ art. 19: the data folder 0700, the database 0600
        secure_sqlite_file(db_file)
    db = make_engine(settings.database_url, settings.db_pool_size)
    if upgrade:
        await migrate.upgrade(db)
    if db_file is not None:
        secure_sqlite_file(db_file)  # and the -wal/-shm files the migration made
    sessionmaker = make_sessionmaker(db)
    deps = Deps(
        profile=profile,
        calendar=WorkCalendar.of(profile),
        files=FileStore(settings.files_dir),
        max_file_bytes=settings.max_file_bytes,
        allowed_mime=settings.allowed_mime,
        staff_chat=("telegram", settings.staff_chat_telegram) if settings.staff_chat_telegram else None,
        clock=clock or utc_now,
        knowledge=knowledge_for(profile, settings.agency_profile),
    )
    gate = writer_gate(db)
    deps.identification = verification.make_service(
        issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        scopes=settings.oidc_scopes, public_base_url=settings.public_base_url, sessionmaker=sessionmaker,
        clock=deps.clock, gate=gate)
    deps.public_base_url = settings.public_base_url
    engine = Engine(sessionmaker, deps, DialogStore.for_sessionmaker(sessionmaker, gate))
    app = App(settings, profile, db, sessionmaker, engine, gate)
    app.metrics.watch(sessionmaker, deps.clock, deps.calendar.tz)
    return app


def update_label(event: Inbound, update_key: str | None) -> str | None:
    """The update id for the logs; a key that contains the person's id (MAX builds some from the
    user id) is logged as a short digest instead, which still ties an update's lines together."""
    if update_key is None or not event.user_id or event.user_id not in update_key:
        return update_key
    return "h" + hashlib.blake2b(update_key.encode(), digest_size=6).hexdigest()


def setup_logging(level: str, fmt: str = "text", stream=None) -> None:
    """Text lines, or one JSON object a line (LOG_FORMAT=json; bot/logs.py). Libraries that
    would log values (SQL parameters, request bodies, URLs with the token) stay at INFO or
    WARNING whatever the level."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter() if fmt == "json" else logs.TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "assistant", False)]:
        root.removeHandler(old)
    handler.assistant = True
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in logs.NO_DEBUG:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    for name in logs.QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
