"""Webhook mode: POST /subscriptions with the secret, the secret checked on every request
(X-Max-Bot-Api-Secret), 200 only after the update is handled, and no start at all without
MAX_WEBHOOK_SECRET (R-2.1)."""
from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.runner import run_channels
from channels.max import MaxChannel, WebhookConfigError
from storage.models import Appeal, ProcessedUpdate
from tests.channels.max.harness import USER, MaxChat, fake, max_app, wait_until  # noqa: F401
from tests.journey import submit_appeal

SECRET = "max-hook_Secret-42"
# the local test endpoint is plain http (the fake allows it; maxapi warns, MAX itself wants https)
pytestmark = pytest.mark.filterwarnings("ignore:URL вебхука не использует HTTPS")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hook:
    def __init__(self, app, fake) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/max/webhook"
        block = app.channel_settings("max")
        block.max_webhook_url, block.max_webhook_secret = self.url, SecretStr(SECRET)
        block.max_webhook_host, block.max_webhook_port = "127.0.0.1", self.port
        fake.allow_http_webhooks = True
        self.fake, self.channel = fake, MaxChannel(app)
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def start(self) -> Hook:
        self.task = asyncio.create_task(self.channel.serve(self.stop))
        await wait_until(lambda: bool(self.fake.subscriptions) or self.task.done(), what="the subscription")
        await asyncio.sleep(0.05)
        return self

    async def post(self, update: dict, secret: str | None = SECRET) -> int:
        return await self.fake.post_update_to(self.url, update, secret)


@pytest.fixture
async def hook(max_app, fake):
    running = await Hook(max_app, fake).start()
    yield running
    running.stop.set()
    await asyncio.wait_for(running.task, 10)


async def test_appeal_journey_through_the_webhook_R_2_1(max_app, fake, hook):
    assert [(s["url"], s["secret"]) for s in fake.subscriptions] == [(hook.url, SECRET)]
    assert set(fake.subscriptions[0]["update_types"]) == {"message_created", "message_callback", "bot_started",
                                                          "bot_stopped"}
    chat = MaxChat(fake, hook.channel, post=hook.post)
    assert "Обращение зарегистрировано" in await submit_appeal(chat)
    async with max_app.sessionmaker() as s:
        [appeal] = (await s.execute(select(Appeal))).scalars().all()
    assert appeal.source_channel == "max"
    assert fake.calls_to("GET /updates") == []  # no polling in this mode
    assert len(fake.answers) == chat.presses


async def test_queued_updates_delivered_by_max_are_answered_once(max_app, fake, hook):
    """MAX's own delivery (deliver_webhooks), and a redelivery of the same update."""
    update = fake.queue_update(fake.message_created(USER, "/start"))
    assert await fake.deliver_webhooks() == [200]
    assert await hook.post(update) == 200  # MAX thought we did not answer: it comes again
    assert len(fake.sent_messages(USER)) == 1 and "Здравствуйте" in fake.sent_messages(USER)[0].text
    assert hook.channel.stats.repeats == 1


async def test_the_secret_is_checked_on_every_request(max_app, fake, hook):
    for secret in ("wrong", None, SECRET + "x", "секрет"):
        assert await hook.post(fake.message_created(USER, "/start"), secret) == 403
    async with aiohttp.ClientSession() as s:
        headers = {"X-Max-Bot-Api-Secret": SECRET}
        async with s.post(hook.url, data=b"not json", headers=headers) as resp:
            assert resp.status == 400
        async with s.post(hook.url, data=b"{" + b" " * (2 << 20) + b"}", headers=headers) as resp:
            assert resp.status == 413
    await asyncio.sleep(0.05)
    assert hook.channel.stats.handled == 0 and fake.sent_messages() == []
    async with max_app.sessionmaker() as s:
        assert (await s.execute(select(ProcessedUpdate))).scalars().all() == []
    assert await hook.post(fake.message_created(USER, "/start")) == 200
    assert len(fake.sent_messages(USER)) == 1


async def test_200_only_after_the_update_is_handled(max_app, fake, hook, monkeypatch):
    """So a crash while handling means MAX posts the update again: nothing is lost."""
    gate = asyncio.Event()
    real = max_app.engine.handle

    async def slow(*a, **kw):
        await gate.wait()
        return await real(*a, **kw)

    monkeypatch.setattr(max_app.engine, "handle", slow)
    posting = asyncio.create_task(hook.post(fake.message_created(USER, "/start")))
    await asyncio.sleep(0.3)
    assert not posting.done() and fake.sent_messages() == []
    gate.set()
    assert await asyncio.wait_for(posting, 5) == 200
    assert len(fake.sent_messages(USER)) == 1


async def test_webhook_without_a_secret_refuses_to_start_with_one_clear_line(max_app, fake, caplog):
    """No request to MAX at all, and one error line that names MAX_WEBHOOK_SECRET."""
    block = max_app.channel_settings("max")
    block.max_webhook_url = "https://bot.example.ru/max/webhook"
    with pytest.raises(WebhookConfigError, match="MAX_WEBHOOK_SECRET"):
        await MaxChannel(max_app).serve(asyncio.Event())
    caplog.clear()
    with caplog.at_level(logging.ERROR), pytest.raises(WebhookConfigError):
        await asyncio.wait_for(run_channels(max_app), 10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "MAX_WEBHOOK_SECRET" in errors[0].getMessage()
    assert fake.calls == []
