"""Wiring: settings, profile, calendar, database and the dialog engine."""
from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.calendar import Hours, WorkCalendar
from services.profile import Profile, load_profile
from bot.settings import Settings
from dialogs.context import Deps
from dialogs.engine import Engine
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.files import FileStore


def make_calendar(profile: Profile) -> WorkCalendar:
    h = profile.hours
    return WorkCalendar(
        Hours(h.opens, h.closes, tuple(tuple(b) for b in h.breaks)),
        ZoneInfo(profile.agency.timezone),
        extra_days_off=profile.calendar.extra_days_off,
        extra_working_days=profile.calendar.extra_working_days,
        shortened_days=profile.calendar.shortened_days,
    )


@dataclass
class App:
    settings: Settings
    profile: Profile
    db: AsyncEngine
    sessionmaker: async_sessionmaker
    engine: Engine
    # SQLite takes one writer at a time and makes the others sleep-poll; queueing them in
    # the event loop instead keeps latency flat. PostgreSQL takes many.
    db_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))

    async def close(self) -> None:
        await self.db.dispose()


async def build_app(settings: Settings | None = None, *, upgrade: bool = True, clock=None) -> App:
    settings = settings or Settings()
    profile = load_profile(settings.agency_profile)
    db = make_engine(settings.database_url)
    if upgrade:
        await migrate.upgrade(db)
    sessionmaker = make_sessionmaker(db)
    deps = Deps(
        profile=profile,
        calendar=make_calendar(profile),
        files=FileStore(settings.files_dir),
        max_file_bytes=settings.max_file_bytes,
        allowed_mime=settings.allowed_mime,
        staff_chat=("telegram", settings.staff_chat_telegram) if settings.staff_chat_telegram else None,
    )
    if clock is not None:
        deps.clock = clock
    gate = asyncio.Semaphore(1 if db.dialect.name == "sqlite" else 16)
    return App(settings, profile, db, sessionmaker, Engine(sessionmaker, deps), gate)


def freeze_startup_heap() -> None:
    """Move what start-up allocated (aiogram's pydantic models, SQLAlchemy, the profile) out of
    the cycle collector's sight; otherwise each full collection walks it all, 130-180 ms with the
    event loop stopped (bench/bench_telegram.py). Once per process: freezing again later would
    pin whatever cyclic garbage is around by then."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Never log request URLs: Telegram puts the token in them.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    for noisy in ("apscheduler", "alembic", "aiogram.event"):  # a line per job run or update is noise
        logging.getLogger(noisy).setLevel(logging.WARNING)
