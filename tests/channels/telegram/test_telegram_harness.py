"""Shared fixtures for the Telegram channel tests: the strict fake Bot API, an App whose
settings point at it, the real channel in polling or webhook mode, and `TgChat`, a person who
types, presses inline buttons and sends files through Telegram (it has the interface of
tests.conftest.Chat, so tests/journey.py drives it too). Imported by tests/test_telegram_*.py.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.app import build_app
from channels.telegram import TelegramChannel
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegram, SentMessage

CHAT = 5551001
SECRET = "webhook-Secret_123"
REPLY_METHODS = {"sendmessage", "editmessagetext", "senddocument", "sendphoto"}


def telegram_settings(db_url: str, tmp_path, fake: FakeTelegram, **extra):
    return make_settings(db_url, tmp_path, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.base_url, **extra)


@pytest.fixture
async def fake():
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def tg_app(sqlite_url, tmp_path, clock, fake):
    application = await build_app(telegram_settings(sqlite_url, tmp_path, fake), clock=clock)
    try:
        yield application
    finally:
        await application.close()


async def start_polling(app) -> tuple[TelegramChannel, asyncio.Task]:
    channel = TelegramChannel(app, polling_timeout=1)
    task = asyncio.create_task(channel.run_polling())
    return channel, task


async def stop(channel: TelegramChannel, task: asyncio.Task | None = None) -> None:
    await channel.stop()
    if task is not None:
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def polling(tg_app):
    channel, task = await start_polling(tg_app)
    try:
        yield channel
    finally:
        await stop(channel, task)


@dataclass
class Webhook:
    channel: TelegramChannel
    url: str
    runner: web.AppRunner


async def start_webhook(app) -> Webhook:
    """The channel's webhook application on 127.0.0.1 (a free port), the webhook set."""
    channel = TelegramChannel(app)
    aio = await channel.webhook_app()
    runner = web.AppRunner(aio)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return Webhook(channel, f"http://127.0.0.1:{port}{app.channel_settings('telegram').telegram_webhook_path}", runner)


def reply_calls(fake: FakeTelegram) -> int:
    return sum(1 for c in fake.requests if c.method.lower() in REPLY_METHODS and c.status == 200)


@dataclass
class TgChat:
    """A citizen in a private chat with the bot. Each action waits until the bot has answered
    (at least one message sent or edited, and the chat's queue empty)."""

    fake: FakeTelegram
    channel: TelegramChannel
    chat_id: int = CHAT
    webhook: Webhook | None = None
    secret: str | None = SECRET
    shown: list[SentMessage] = field(default_factory=list)  # messages sent/edited by the last action

    async def push(self, update: dict, *, expect_reply: bool = True, timeout: float = 5.0) -> int | None:
        before = reply_calls(self.fake)
        snapshot = {id(m): (m.edits, m.text) for m in self.fake.sent_messages(self.chat_id)}
        known = {id(m) for m in self.fake.sent_messages(self.chat_id)}
        status = None
        if self.webhook is not None:
            status = await self.fake.post_update_to(self.webhook.url, update, secret_token=self.secret)
        else:
            self.fake.queue_update(update)
        if expect_reply:
            deadline = time.monotonic() + timeout
            while reply_calls(self.fake) <= before or self.channel.conversation.queues.pending(self.chat_id):
                if time.monotonic() > deadline:
                    recent = [(c.method, c.status, c.description) for c in self.fake.requests[-8:]]
                    raise AssertionError(f"no reply from the bot; recent calls: {recent}")
                await asyncio.sleep(0.005)
        self.shown = [m for m in self.fake.sent_messages(self.chat_id)
                      if id(m) not in known or snapshot.get(id(m)) != (m.edits, m.text)]
        return status

    # --- the interface of tests.conftest.Chat
    async def command(self, name: str, argument: str | None = None) -> str:
        await self.push(self.fake.message_update(self.chat_id, f"/{name}" + (f" {argument}" if argument else "")))
        return self.text

    async def say(self, text: str) -> str:
        await self.push(self.fake.message_update(self.chat_id, text))
        return self.text

    async def press(self, label: str) -> str:
        message, data = self.button(label)
        await self.push(self.fake.callback_update(self.chat_id, data, message_id=message.message_id))
        return self.text

    async def press_payload(self, data: str) -> str:
        await self.push(self.fake.callback_update(self.chat_id, data, check_button=False))
        return self.text

    async def send_file(self, name: str, mime: str, data: bytes, caption: str | None = None) -> str:
        if mime.startswith("image/"):
            update = self.fake.photo_update(self.chat_id, data, caption=caption)
        else:
            update = self.fake.document_update(self.chat_id, data, name, mime, caption=caption)
        await self.push(update)
        return self.text

    def button(self, label: str) -> tuple[SentMessage, str]:
        message = self.keyboard_message
        assert message is not None, "no keyboard shown"
        for b in message.buttons:
            if b["text"] == label or b["text"].startswith(label):
                return message, b["callback_data"]
        raise AssertionError(f"no button {label!r} in {self.labels}")

    @property
    def keyboard_message(self) -> SentMessage | None:
        """The newest bot message in the chat that carries a keyboard."""
        return next((m for m in reversed(self.fake.sent_messages(self.chat_id)) if m.buttons), None)

    @property
    def text(self) -> str:
        return "\n".join(m.text or "" for m in self.shown)

    @property
    def labels(self) -> list[str]:
        message = self.keyboard_message
        return [b["text"] for b in message.buttons] if message else []
