"""The whole appeal journey through Telegram: the real aiogram Bot and Dispatcher against the
strict fake Bot API on 127.0.0.1, in long polling and in webhook mode."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import build_app
from channels.telegram import COMMANDS, TelegramChannel, WebhookConfigError
from storage.models import Appeal, Identity, StoredFile
from tests.journey import ROOF_TEXT, submit_appeal
from tests.channels.telegram.test_telegram_harness import (  # noqa: F401  (fixtures)
    CHAT, SECRET, TgChat, fake, polling, start_polling, start_webhook, stop, telegram_settings, tg_app,
)


async def rows(app, stmt):
    async with app.sessionmaker() as s:
        return (await s.execute(stmt)).scalars().all()


def check_journey_calls(fake):
    """Plain text (no parse_mode), previews off, every press answered, nothing refused."""
    sends = fake.calls("sendMessage") + fake.calls("editMessageText")
    assert sends and all("parse_mode" not in c.params for c in sends)
    assert all(c.params.get("link_preview_options") == {"is_disabled": True} for c in sends)
    assert all(c.status == 200 for c in fake.requests if c.status is not None), \
        [(c.method, c.description) for c in fake.requests if c.status not in (200, None)]


@pytest.fixture
async def db_app(db_url, tmp_path, clock, fake):
    application = await build_app(telegram_settings(db_url, tmp_path, fake), clock=clock)
    try:
        yield application
    finally:
        await application.close()


async def test_appeal_journey_in_polling_mode_R_2_1_R_3_3(fake, db_app):
    """R-2.1, R-3.3: topic and need chosen by buttons, Telegram chosen for notices, registered."""
    channel, task = await start_polling(db_app)
    try:
        chat = TgChat(fake, channel)
        final = await submit_appeal(chat)
        assert "Обращение зарегистрировано" in final and "ЖН-2026-000001" in final
        assert "02.04.2026" in final
        [appeal] = await rows(db_app, select(Appeal))
        assert (appeal.topic, appeal.need) == ("common_property", "fix_violation")
        assert appeal.text == ROOF_TEXT and appeal.source_channel == "telegram"
        assert appeal.extra_channel == "telegram" and appeal.notify_channel == "telegram"
        [identity] = await rows(db_app, select(Identity))
        assert (identity.channel, identity.external_id, identity.reachable) == ("telegram", str(CHAT), True)
        check_journey_calls(fake)
        presses = [c for c in fake.requests if c.method == "answerCallbackQuery"]
        assert len(fake.callback_answers) == len(presses) >= 7  # every press answered
        # Wizard steps answering a press on the newest message replace it in place.
        assert fake.calls("editMessageText")
        assert fake.calls("getUpdates")[0].params["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    finally:
        await stop(channel, task)


async def test_appeal_journey_in_webhook_mode(fake, tmp_path, sqlite_url, clock):
    app = await build_app(telegram_settings(
        sqlite_url, tmp_path, fake, TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET), clock=clock)
    hook = await start_webhook(app)
    try:
        assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
        assert fake.webhook["secret_token"] == SECRET
        chat = TgChat(fake, hook.channel, webhook=hook)
        final = await submit_appeal(chat)
        assert "Обращение зарегистрировано" in final
        check_journey_calls(fake)

        # A wrong or missing secret: refused, and the update is not processed.
        sent = len(fake.sent_messages())
        for secret in ("wrong-secret", None, "секрет"):
            status = await TgChat(fake, hook.channel, webhook=hook, secret=secret).push(
                fake.message_update(CHAT, "/menu"), expect_reply=False)
            assert status in (401, 403)
        assert len(fake.sent_messages()) == sent
        assert len(await rows(app, select(Appeal))) == 1
    finally:
        await hook.runner.cleanup()
        await hook.channel.stop()
        await app.close()


async def test_webhook_mode_refuses_to_start_without_a_secret(fake, tmp_path, sqlite_url):
    app = await build_app(telegram_settings(
        sqlite_url, tmp_path, fake, TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook"))
    channel = TelegramChannel(app)
    try:
        assert channel.mode == "webhook"
        with pytest.raises(WebhookConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
            await channel.webhook_app()
        with pytest.raises(WebhookConfigError):
            await channel.run()
        assert fake.webhook == {} and not fake.calls("setWebhook")
    finally:
        await channel.stop()
        await app.close()


async def test_deep_link_start_appeal_opens_the_wizard(fake, polling):
    chat = TgChat(fake, polling)
    text = await chat.command("start", "appeal")
    assert "О чём ваше обращение" in text
    assert "Содержание дома" in " ".join(chat.labels)
    text = await chat.command("menu")
    assert "Что вы хотите сделать?" in text
    text = await chat.command("help")
    assert "Телефон" in text
    text = await chat.command("status", "ЖН-2026-999999")
    assert "не найдено" in text


async def test_commands_menu_is_set_in_russian(fake, polling):
    await polling.setup_commands()
    commands = next(iter(fake.commands.values()))
    assert [c["command"] for c in commands] == ["start", "menu", "help", "status"] == [c for c, _ in COMMANDS]
    assert all(any("а" <= ch <= "я" for ch in c["description"].lower()) for c in commands)


async def test_photo_and_document_are_stored_with_the_appeal(fake, polling, tg_app):
    chat = TgChat(fake, polling)
    await chat.command("start", "appeal")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say(ROOF_TEXT)
    jpeg = b"\xff\xd8\xff\xe0" + b"roof photo" * 100
    text = await chat.send_file("photo.jpg", "image/jpeg", jpeg, caption="Вот фото потолка")
    assert "приложен" in text and "Всего файлов: 1" in text
    pdf = b"%PDF-1.4 act of inspection"
    text = await chat.send_file("акт осмотра.pdf", "application/pdf", pdf)
    assert "«акт осмотра.pdf» приложен" in text and "Всего файлов: 2" in text
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Да, дублировать сюда")
    await chat.press("Понятно, дальше")
    assert "Файлов: 2" in chat.text
    final = await chat.press("Отправить")
    assert "Обращение зарегистрировано" in final

    [appeal] = await rows(tg_app, select(Appeal))
    files = await rows(tg_app, select(StoredFile).order_by(StoredFile.id))
    assert [f.appeal_id for f in files] == [appeal.id, appeal.id]
    assert [(f.mime, f.size) for f in files] == [("image/jpeg", len(jpeg)), ("application/pdf", len(pdf))]
    assert files[1].file_name == "акт осмотра.pdf"
    store = tg_app.engine.deps.files
    assert store.get(files[0].sha256) == jpeg and store.get(files[1].sha256) == pdf
    assert "Вот фото потолка" in appeal.text  # the caption counts as text


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_run_serves_the_webhook_on_host_and_port_until_stopped(fake, tmp_path, sqlite_url, clock):
    import asyncio

    port = free_port()
    app = await build_app(telegram_settings(
        sqlite_url, tmp_path, fake, TELEGRAM_WEBHOOK_URL="https://bot.example.org/hook/tg",
        TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_WEBHOOK_PATH="/hook/tg", TELEGRAM_WEBHOOK_HOST="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port)), clock=clock)
    channel = TelegramChannel(app)
    task = asyncio.create_task(channel.run())
    try:
        for _ in range(300):
            if fake.webhook:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}/hook/tg"
        # One delivery at a time, each answered 200 once stored: Telegram's order is the stored order
        assert int(fake.webhook["max_connections"]) == 1
        assert await fake.post_update_to(url, fake.message_update(CHAT, "/start"), secret_token=SECRET) == 200
        [reply] = await fake.wait_for_messages(1, chat_id=CHAT)
        assert "Здравствуйте" in reply.text
        assert await fake.post_update_to(f"http://127.0.0.1:{port}/other", fake.message_update(CHAT, "/x"),
                                         secret_token=SECRET) == 404
    finally:
        await channel.stop()
        await asyncio.wait_for(task, 10)
        await app.close()


async def test_cancelling_polling_stops_it_cleanly(fake, tg_app):
    import asyncio

    channel, task = await start_polling(tg_app)
    chat = TgChat(fake, channel)
    await chat.command("start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)
    polls = len(fake.calls("getUpdates"))
    await asyncio.sleep(1.2)
    assert len(fake.calls("getUpdates")) == polls  # no polling task left behind
    await channel.stop()


async def test_the_bot_answers_only_in_private_chats(fake, polling):
    """A citizen's data stays in their own chat: a message or a press in a group the bot was
    added to gets nothing (152-FZ), while the private chat beside it is served."""
    group = -4_000_123
    fake.queue_update(fake.message_update(group, "/start", user=555))
    fake.queue_update(fake.message_update(group, "Подать обращение", user=555))
    chat = TgChat(fake, polling)
    assert "Что вы хотите сделать?" in await chat.command("menu")
    fake.queue_update(fake.callback_update(group, "menu", message_id=1, user=555, check_button=False))
    assert "О чём ваше обращение" in await chat.press("Подать обращение")
    await asyncio.sleep(0.2)
    assert [m.text for m in fake.sent_messages(group)] == []
