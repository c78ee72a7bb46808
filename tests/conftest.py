"""Shared fixtures: a fresh database per test (SQLite file, or a random PostgreSQL database)."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from bot.app import App, build_app
from bot.settings import Settings
from core.events import Attachment, Inbound, Reply

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_pg_reason: list[str] = []


async def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if _pg_reason:
        return _pg_reason[0] or None
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN), 3)
        await conn.close()
        _pg_reason.append("")
    except Exception as e:  # any failure means: skip, and say why
        _pg_reason.append(f"PostgreSQL not reachable at {PG_ADMIN}: {type(e).__name__}: {e}")
    return _pg_reason[0] or None


async def create_pg_database(template: str | None = None) -> tuple[str, str]:
    import asyncpg

    name = f"test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


# Migrated once per run and copied per test: a test's database starts at the head revision
# without running every migration again (the migrations themselves are tested in tests/storage).
_TEMPLATES: dict[str, str] = {}
_TEMPLATE_DIR = tempfile.mkdtemp(prefix="assistant-template-")


async def _migrated(url: str) -> None:
    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def sqlite_template() -> str:
    if "sqlite" not in _TEMPLATES:
        path = os.path.join(_TEMPLATE_DIR, "template.db")
        await _migrated(f"sqlite+aiosqlite:///{path}")
        _TEMPLATES["sqlite"] = path
    return _TEMPLATES["sqlite"]


async def pg_template() -> str:
    if "postgres" not in _TEMPLATES:
        name, url = await create_pg_database()
        await _migrated(url)
        _TEMPLATES["postgres"] = name
    return _TEMPLATES["postgres"]


@pytest.fixture(scope="session", autouse=True)
def drop_templates():
    yield
    shutil.rmtree(_TEMPLATE_DIR, ignore_errors=True)
    if "postgres" in _TEMPLATES:
        asyncio.run(drop_pg_database(_TEMPLATES["postgres"]))


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "default_privacy: run with the profile's own foreign-messenger policy")


@pytest.fixture(autouse=True)
def full_foreign_policy(request, monkeypatch):
    """Most tests check what a channel shows, so they run with `foreign_messengers = "full"` (the
    behaviour for organisations that may use foreign messengers); tests marked `default_privacy`
    keep the Astrakhan profile's `no_personal_data` (41-FZ)."""
    if request.node.get_closest_marker("default_privacy"):
        return
    import bot.app

    real = bot.app.load_profile

    def load(path):
        profile = real(path)
        privacy = profile.privacy.model_copy(update={"foreign_messengers": "full"})
        return profile.model_copy(update={"privacy": privacy})

    monkeypatch.setattr(bot.app, "load_profile", load)


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request, tmp_path):
    if request.param == "sqlite":
        shutil.copyfile(await sqlite_template(), tmp_path / "test.db")
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    async for url in _migrated_pg():
        yield url


@pytest.fixture
async def pg_url():
    """A migrated PostgreSQL database of its own (tests of what only PostgreSQL does: several
    worker processes, query plans); skipped with the reason when no server answers."""
    async for url in _migrated_pg():
        yield url


async def _migrated_pg():
    reason = await _pg_available()
    if reason:
        pytest.skip(reason)
    name, url = await create_pg_database(template=await pg_template())
    try:
        yield url
    finally:
        await drop_pg_database(name)


REDIS_TEST_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
async def redis_url():
    """An emptied Redis database for the tests of what workers share (rate budgets, per-chat
    memory); skipped with the reason when no Redis answers."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        await client.flushdb()
    except Exception as e:
        pytest.skip(f"Redis not reachable at {REDIS_TEST_URL}: {type(e).__name__}")
    finally:
        await client.aclose()
    return REDIS_TEST_URL


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


def make_settings(db_url: str, tmp_path, **extra) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=db_url, FILES_DIR=str(tmp_path / "files"), **extra)


class Clock:
    """A controllable clock for the engine."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    # A Tuesday afternoon in Astrakhan (UTC+4): the service is open.
    return Clock(datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc))


@pytest.fixture
async def app(db_url, tmp_path, clock):
    application = await build_app(make_settings(db_url, tmp_path), clock=clock)
    try:
        yield application
    finally:
        await application.close()


@dataclass
class Chat:
    """Drives the engine the way a person does: types, presses buttons by label, sends files."""

    app: App
    user_id: str = "1001"
    channel: str = "telegram"
    last: Reply | None = None

    async def _send(self, **kw) -> list[Reply]:
        replies = await self.app.engine.handle(Inbound(self.channel, self.user_id, **kw))
        self.last = replies[-1]
        self.all = replies
        return replies

    async def command(self, name: str, argument: str | None = None) -> str:
        await self._send(command=name, argument=argument)
        return self.text

    async def say(self, text: str) -> str:
        await self._send(text=text)
        return self.text

    async def press(self, label: str) -> str:
        await self._send(button=self.payload(label))
        return self.text

    async def press_payload(self, payload: str) -> str:
        await self._send(button=payload)
        return self.text

    async def send_file(self, name: str, mime: str, data: bytes | None, size: int | None = None,
                        caption: str | None = None) -> str:
        kind = "photo" if mime.startswith("image/") else "document"
        att = Attachment(kind, name, mime, len(data) if size is None else size, data)
        await self._send(attachments=(att,), text=caption)
        return self.text

    def payload(self, label: str) -> str:
        assert self.last is not None, "no reply yet"
        for row in self.last.buttons:
            for b in row:
                if b.label == label or b.label.startswith(label):
                    return b.payload
        raise AssertionError(f"no button {label!r} in {self.labels}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.all)

    @property
    def labels(self) -> list[str]:
        return [b.label for row in (self.last.buttons if self.last else []) for b in row]


@pytest.fixture
def chat(app):
    return Chat(app)
