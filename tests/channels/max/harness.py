"""Fixtures and the `MaxChat` driver for the MAX channel tests: the real maxapi client against
the strict fake MAX (tests/fakes/max_api.py), the real engine and a database (SQLite and
PostgreSQL)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.app import build_app
from channels.max import MaxChannel
from tests.conftest import make_settings
from tests.fakes.max_api import FakeMax
from tests.fakes.max_objects import SentMessage

USER = 1001


@pytest.fixture
async def fake():
    async with FakeMax() as server:
        yield server


def max_settings(db_url: str, tmp_path, fake: FakeMax, **extra):
    return make_settings(db_url, tmp_path, MAX_BOT_TOKEN=fake.token, MAX_API_URL=fake.base_url, **extra)


@pytest.fixture
async def max_app(db_url, tmp_path, fake, clock):
    application = await build_app(max_settings(db_url, tmp_path, fake), clock=clock)
    yield application
    await application.close()


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


class Running:
    """A MaxChannel polling in a task."""

    def __init__(self, channel: MaxChannel, fake: FakeMax) -> None:
        self.channel, self.fake = channel, fake
        self.task: asyncio.Task | None = None

    async def start(self) -> Running:
        self.task = asyncio.create_task(self.channel.run_polling())
        await wait_until(lambda: self.fake.polls_waiting > 0 or self.task.done(), what="the first GET /updates")
        return self

    async def stop(self) -> None:
        await self.channel.stop()
        await asyncio.wait_for(self.task, 10)


def new_channel(app) -> MaxChannel:
    return MaxChannel(app, polling_timeout=5)


@pytest.fixture
async def polling(max_app, fake):
    running = await Running(new_channel(max_app), fake).start()
    yield running.channel
    await running.stop()


class MaxChat:
    """A MAX user driving the bot, with the interface of tests.conftest.Chat, so tests/journey.py
    runs over MAX. A press sends message_callback with the button's payload; the reply is what
    the bot sent or edited in answer."""

    def __init__(self, fake: FakeMax, channel: MaxChannel, user_id: int = USER, *, post=None) -> None:
        self.fake, self.channel, self.user_id = fake, channel, user_id
        self.post = post  # webhook mode: an async callable posting the update to our endpoint
        self.replies: list[SentMessage] = []
        self.presses = 0

    def _snapshot(self) -> dict[str, tuple]:
        return {m.mid: (m.edits, m.text) for m in self.fake.sent_messages(self.user_id)}

    async def push(self, update: dict) -> list[SentMessage]:
        before = self._snapshot()
        target = self.channel.stats.handled + 1
        if self.post is not None:
            assert await self.post(update) == 200
        else:
            self.fake.queue_update(update)
        await wait_until(lambda: self.channel.stats.handled >= target, what=f"{update['update_type']} handled")
        self.replies = [m for m in self.fake.sent_messages(self.user_id)
                        if m.mid not in before or before[m.mid] != (m.edits, m.text)]
        return self.replies

    async def send(self, text: str | None = None, attachments: list | None = None) -> str:
        await self.push(self.fake.message_created(self.user_id, text, attachments))
        return self.text

    async def command(self, name: str, argument: str | None = None) -> str:
        return await self.send(f"/{name}" + (f" {argument}" if argument else ""))

    async def say(self, text: str) -> str:
        return await self.send(text)

    async def start(self, payload: str | None = None) -> str:
        await self.push(self.fake.bot_started(self.user_id, payload))
        return self.text

    def button(self, label: str) -> tuple[SentMessage, dict]:
        for msg in reversed(self.fake.sent_messages(self.user_id)):
            if msg.buttons:
                for row in msg.buttons:
                    for b in row:
                        if b["text"] == label or b["text"].startswith(label):
                            return msg, b
                raise AssertionError(f"no button {label!r} in {self.labels}")
        raise AssertionError("no keyboard yet")

    async def press(self, label: str) -> str:
        msg, b = self.button(label)
        self.presses += 1
        await self.push(self.fake.message_callback(self.user_id, b["payload"], message=msg))
        return self.text

    async def press_payload(self, payload: str) -> str:
        await self.push(self.fake.message_callback(self.user_id, payload, check_button=False))
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(m.text or "" for m in self.replies)

    @property
    def labels(self) -> list[str]:
        for msg in reversed(self.fake.sent_messages(self.user_id)):
            if msg.buttons:
                return [b["text"] for row in msg.buttons for b in row]
        return []
