"""TelegramDeliverer: outbox notices to a chat, outside a conversation. Failures become
RetryLater (429 with its retry_after, 5xx, network) or Unreachable (blocked, chat not found)."""
from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from services.sender import OutboxSender
from services import outbox
from core.ports import RetryLater, Unreachable
from channels.telegram import TelegramDeliverer
from core.events import Button, Inbound, Reply
from storage.models import Identity, OutboxMessage
from tests.channels.telegram.test_telegram_harness import CHAT, fake, tg_app  # noqa: F401  (fixtures)

LONG = "\n\n".join(f"Пункт {i}. " + " ".join(["Ответ по существу обращения с разъяснением норм."] * 20) for i in range(11))


def make_bot(url: str, token: str) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))


@pytest.fixture
async def bot(fake):
    client = make_bot(fake.base_url, fake.token)
    yield client
    await client.session.close()


async def test_notice_is_delivered_split_with_the_keyboard_on_the_last_part(fake, bot):
    fake.add_chat(CHAT)
    assert len(LONG) > 10_000
    reply = Reply(LONG, [[Button("Всё устраивает", "rate:5:3"), Button("Не устраивает", "rate:5:1")]])
    await TelegramDeliverer(bot).deliver(str(CHAT), reply, key=1)
    parts = fake.sent_messages(CHAT)
    assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
    assert "\n\n".join(p.text for p in parts) == LONG
    assert [bool(p.buttons) for p in parts] == [False, False, True]
    assert [b["callback_data"] for b in parts[-1].buttons] == ["rate:5:3", "rate:5:1"]


async def test_429_becomes_retry_later_with_retry_after(fake, bot):
    fake.add_chat(CHAT)
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryLater) as info:
        await TelegramDeliverer(bot).deliver(str(CHAT), Reply("Обращение взято в работу."), key=2)
    assert info.value.seconds == 7
    assert len(fake.calls("sendMessage")) == 1  # the outbox waits, not the deliverer


async def test_a_retry_after_a_partial_send_does_not_repeat_parts(fake, bot):
    """Flood control stops the third part; the retry sends only that one."""
    fake.add_chat(CHAT)
    fake.enforce_limits, fake.chat_burst = True, 2
    deliverer = TelegramDeliverer(bot)
    with pytest.raises(RetryLater) as info:
        await deliverer.deliver(str(CHAT), Reply(LONG), key=3)
    assert len(fake.sent_messages(CHAT)) == 2 and info.value.seconds >= 1
    fake.enforce_limits = False
    await deliverer.deliver(str(CHAT), Reply(LONG), key=3)
    assert "\n\n".join(p.text for p in fake.sent_messages(CHAT)) == LONG


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_become_retry_later(fake, bot, status):
    fake.add_chat(CHAT)
    fake.fail_next("sendMessage", status)
    with pytest.raises(RetryLater):
        await TelegramDeliverer(bot).deliver(str(CHAT), Reply("x"), key=4)


async def test_network_error_becomes_retry_later(fake):
    dead = make_bot("http://127.0.0.1:9", fake.token)  # nothing listens there
    try:
        with pytest.raises(RetryLater):
            await TelegramDeliverer(dead).deliver(str(CHAT), Reply("x"), key=5)
    finally:
        await dead.session.close()


async def test_blocked_or_unknown_chat_is_unreachable(fake, bot):
    fake.add_chat(CHAT)
    fake.block_chat(CHAT)
    with pytest.raises(Unreachable, match="blocked"):
        await TelegramDeliverer(bot).deliver(str(CHAT), Reply("x"), key=6)
    with pytest.raises(Unreachable, match="chat not found"):
        await TelegramDeliverer(bot).deliver("424242", Reply("x"), key=7)


async def test_outbox_marks_a_blocked_identity_unreachable_R_2_1(fake, bot, tg_app):
    """R-2.1: notices go to the chosen messenger; when it blocked the bot, the identity is
    marked unreachable with the reason, so later notices take another channel."""
    await tg_app.engine.handle(Inbound("telegram", str(CHAT), command="start"))
    fake.add_chat(CHAT)
    fake.block_chat(CHAT)
    async with tg_app.sessionmaker() as s, s.begin():
        identity = (await s.execute(select(Identity))).scalar_one()
        await outbox.enqueue(s, citizen_id=identity.citizen_id, kind="status",
                             targets=[("telegram", str(CHAT))], text="Обращение взято в работу.")
    sender = OutboxSender(tg_app.sessionmaker, {"telegram": TelegramDeliverer(bot)})
    await sender.drain()
    async with tg_app.sessionmaker() as s:
        identity = (await s.execute(select(Identity))).scalar_one()
        row = (await s.execute(select(OutboxMessage))).scalar_one()
    assert row.status == "dead" and identity.reachable is False
    assert "blocked" in identity.unreachable_reason
