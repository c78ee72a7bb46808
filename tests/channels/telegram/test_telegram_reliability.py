"""Telegram: each update once and in order per chat, errors never silent, floods and blocks
handled, buttons never trusted, files checked before downloading, no token in the logs."""
from __future__ import annotations

import asyncio
import logging
import time

import pytest
from sqlalchemy import select

from bot.app import build_app
from channels.telegram import TelegramChannel
import texts as T
from storage.models import Appeal, Identity, StoredFile
from tests.journey import ROOF_TEXT, submit_appeal
from tests.channels.telegram.test_telegram_harness import (  # noqa: F401  (fixtures)
    CHAT, SECRET, TgChat, fake, polling, start_polling, start_webhook, stop, telegram_settings, tg_app,
)


async def rows(app, stmt):
    async with app.sessionmaker() as s:
        return (await s.execute(stmt)).scalars().all()


async def to_text_step(chat: TgChat) -> None:
    await chat.command("start", "appeal")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")


# ------------------------------------------------------------------ once, in order
async def test_redelivered_update_gets_one_reply_in_polling_mode(fake, tg_app):
    """A bot that crashed before confirming gets the same update again: it is ignored."""
    channel, task = await start_polling(tg_app)
    update = {**fake.message_update(CHAT, "/start"), "update_id": 777}
    try:
        await TgChat(fake, channel).push(update)
    finally:
        await stop(channel, task)
    assert len(fake.sent_messages(CHAT)) == 1
    fake.queue_update(update)  # the same update_id, not confirmed by the crashed instance
    channel, task = await start_polling(tg_app)
    try:
        for _ in range(200):
            if not fake._updates or len(fake.calls("getUpdates")) > 4:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert len(fake.sent_messages(CHAT)) == 1
        await TgChat(fake, channel).push(fake.message_update(CHAT, "/menu"))  # a new update still works
        assert len(fake.sent_messages(CHAT)) == 2
    finally:
        await stop(channel, task)


async def test_redelivered_webhook_update_gets_one_reply(fake, tmp_path, sqlite_url, clock):
    app = await build_app(telegram_settings(
        sqlite_url, tmp_path, fake, TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg",
        TELEGRAM_WEBHOOK_SECRET=SECRET), clock=clock)
    hook = await start_webhook(app)
    try:
        chat = TgChat(fake, hook.channel, webhook=hook)
        update = {**fake.message_update(CHAT, "/start"), "update_id": 778}
        assert await chat.push(update) == 200
        assert await chat.push(update, expect_reply=False) == 200  # Telegram retries: answered 200, not shown twice
        assert len(fake.sent_messages(CHAT)) == 1
    finally:
        await hook.runner.cleanup()
        await hook.channel.stop()
        await app.close()


async def test_two_quick_messages_of_one_chat_are_processed_in_order(fake, polling, tg_app):
    """The first message (a photo) is slow to fetch; the text sent right after it waits its
    turn, while another chat is served meanwhile."""
    chat = TgChat(fake, polling)
    await to_text_step(chat)
    other = TgChat(fake, polling, chat_id=CHAT + 1)
    before = len(fake.sent_messages(CHAT))
    fake.delay_next("getFile", 1.0)
    fake.queue_update(fake.photo_update(CHAT, b"\xff\xd8\xff slow photo"))
    fake.queue_update(fake.message_update(CHAT, ROOF_TEXT))
    started = time.monotonic()
    await other.push(fake.message_update(CHAT + 1, "/start"))
    assert time.monotonic() - started < 0.8  # not held up by the slow chat
    [first, second] = (await fake.wait_for_messages(before + 2, chat_id=CHAT))[before:]
    assert "Файл «photo_" in first.text and "Всего файлов: 1" in first.text
    assert "Текст сохранён" in second.text
    await chat.press("Далее")
    assert "Как к вам обращаться" in chat.text


# ------------------------------------------------------------------ buttons are never trusted
async def test_forged_or_stale_button_gets_out_of_date_and_the_current_screen(fake, polling):
    chat = TgChat(fake, polling)
    await to_text_step(chat)
    answered = len(fake.callback_answers)
    text = await chat.press_payload("topic:heating")  # from an earlier screen
    assert "Эта кнопка устарела" in text and "Опишите проблему" in text
    text = await chat.press_payload("staff:take:1")  # never offered to this person
    assert "Эта кнопка устарела" in text or "Что вы хотите сделать" in text
    text = await chat.press_payload("~unknownToken")  # a token this server never issued
    assert "Эта кнопка устарела" in text
    assert all(c.status == 200 for c in fake.calls("answerCallbackQuery"))
    assert len(fake.callback_answers) == answered + 3  # the spinner stops for forged presses too


async def test_payload_longer_than_64_bytes_is_mapped_to_a_token(fake, polling, tg_app, monkeypatch):
    """Telegram allows 64 bytes of callback_data: a longer payload travels as a short token."""
    from dialogs import menu
    from core.events import Button

    long_payload = "nav:menu"
    original = menu.FaqAnswer.show

    async def show(self, ctx):
        reply = await original(self, ctx)
        reply.buttons.append([Button("Очень длинная кнопка", "faq:" + "ж" * 40)])
        return reply

    monkeypatch.setattr(menu.FaqAnswer, "show", show)
    chat = TgChat(fake, polling)
    await chat.command("help")
    await chat.press("Как подать обращение?")
    message, data = chat.button("Очень длинная кнопка")
    assert data.startswith("~") and len(data.encode()) <= 64
    assert polling.codec.decode(data) == "faq:" + "ж" * 40
    assert long_payload in [b["callback_data"] for b in message.buttons]


# ------------------------------------------------------------------ long texts
async def test_10000_character_reply_is_split_at_paragraphs(fake, sqlite_url, tmp_path, clock):
    """A long FAQ answer from the agency profile: parts within 4096 characters (the fake
    refuses more), split between paragraphs, the keyboard on the last part."""
    from bot.settings import DEFAULT_PROFILE

    paragraphs = [f"Абзац {i}. " + " ".join(["Текст ответа службы жилищного надзора."] * 24) for i in range(11)]
    long_answer = "\n\n".join(paragraphs)
    assert len(long_answer) > 10_000
    profile = DEFAULT_PROFILE.read_text(encoding="utf-8")
    start = profile.index('answer = "Нажмите')
    end = profile.index("\n", start)
    (tmp_path / "profile.toml").write_text(
        profile[:start] + 'answer = """' + long_answer + '"""' + profile[end:], encoding="utf-8")
    kb = DEFAULT_PROFILE.parent / "astrakhan_kb.toml"  # the knowledge base lives beside the profile
    (tmp_path / kb.name).write_text(kb.read_text(encoding="utf-8"), encoding="utf-8")
    app = await build_app(telegram_settings(sqlite_url, tmp_path, fake, AGENCY_PROFILE=str(tmp_path / "profile.toml")),
                          clock=clock)
    channel, task = await start_polling(app)
    try:
        chat = TgChat(fake, channel)
        await chat.command("help")
        await chat.press("Как подать обращение?")
        parts = chat.shown
        assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
        assert [p.reply_markup is not None for p in parts] == [False, False, True]
        assert "\n\n".join(p.text for p in parts) == "Как подать обращение?\n\n" + long_answer
        for p in parts[:-1]:
            assert p.text.endswith("надзора.")  # cut between paragraphs, not inside one
        text = await chat.press("Назад")
        assert "Выберите вопрос" in text
    finally:
        await stop(channel, task)
        await app.close()


async def test_text_the_citizen_typed_is_shown_literally(fake, polling):
    """Plain text: markup characters a citizen types are neither parsed nor escaped."""
    chat = TgChat(fake, polling)
    await to_text_step(chat)
    typed = "Крыша <b>течёт</b> & *сильно* _очень_ [ссылка](http://x) </i>"
    await chat.say(typed)
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Не нужно")
    await chat.press("Понятно, дальше")
    summary = chat.keyboard_message
    assert typed in summary.text and "entities" not in summary.message


# ------------------------------------------------------------------ floods and blocks
async def test_429_waits_retry_after_and_the_reply_arrives(fake, polling):
    fake.fail_next("sendMessage", 429, retry_after=1)
    chat = TgChat(fake, polling)
    started = time.monotonic()
    text = await chat.command("start")
    assert time.monotonic() - started >= 1.0
    assert "Здравствуйте" in text
    assert [c.status for c in fake.calls("sendMessage")] == [429, 200]


async def test_blocked_bot_marks_the_identity_unreachable(fake, polling, tg_app):
    chat = TgChat(fake, polling)
    await chat.command("start")
    fake.block_chat(CHAT)
    fake.queue_update(fake.message_update(CHAT, "/menu"))
    for _ in range(300):
        [identity] = await rows(tg_app, select(Identity))
        if not identity.reachable:
            break
        await asyncio.sleep(0.01)
    assert identity.reachable is False
    assert "blocked" in identity.unreachable_reason and identity.unreachable_reason.startswith("telegram")
    assert [c.status for c in fake.calls("sendMessage")] == [200, 403]  # no retry, no apology loop


# ------------------------------------------------------------------ errors are never silent
async def test_handler_error_is_logged_with_update_id_and_the_citizen_gets_an_apology(fake, polling, monkeypatch, caplog):
    chat = TgChat(fake, polling)
    await chat.command("start")
    engine = polling.host.engine
    real = engine.handle
    calls = []

    async def broken(event, **kw):
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return await real(event, **kw)

    monkeypatch.setattr(engine, "handle", broken)
    update = {**fake.message_update(CHAT, "/help"), "update_id": 90210}
    with caplog.at_level(logging.ERROR, logger="channels.telegram"):
        await chat.push(update)
    assert T.SORRY_ERROR in chat.text and "Что вы хотите сделать?" in chat.text
    assert "Подать обращение" in chat.labels
    [record] = [r for r in caplog.records if "failed" in r.getMessage()]
    assert str(update["update_id"]) in record.getMessage() and "database went away" in caplog.text


# ------------------------------------------------------------------ files
async def test_wrong_type_file_is_refused_politely_without_downloading(fake, polling, tg_app):
    chat = TgChat(fake, polling)
    await to_text_step(chat)
    text = await chat.send_file("setup.exe", "application/x-msdownload", b"MZ\x90\x00 program")
    assert "«setup.exe» не приложен" in text and "такой тип файлов мы не принимаем" in text
    assert not fake.calls("getFile")
    assert await rows(tg_app, select(StoredFile)) == []


async def test_too_big_file_is_refused_before_downloading(fake, sqlite_url, tmp_path, clock):
    app = await build_app(telegram_settings(sqlite_url, tmp_path, fake, MAX_FILE_MB=0.001), clock=clock)
    channel, task = await start_polling(app)
    try:
        chat = TgChat(fake, channel)
        await to_text_step(chat)
        text = await chat.send_file("scan.pdf", "application/pdf", b"%PDF" + b"0" * 5000)
        assert "«scan.pdf» не приложен: он больше" in text
        assert not fake.calls("getFile")
    finally:
        await stop(channel, task)
        await app.close()


async def test_failed_download_asks_to_send_again(fake, polling, tg_app):
    chat = TgChat(fake, polling)
    await to_text_step(chat)
    fake.fail_next_download(502)
    text = await chat.send_file("act.pdf", "application/pdf", b"%PDF-1.4 act")
    assert "«act.pdf» не удалось получить" in text
    text = await chat.send_file("act.pdf", "application/pdf", b"%PDF-1.4 act")
    assert "«act.pdf» приложен" in text


@pytest.mark.parametrize("content", [
    {"sticker": {"file_id": "S1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                 "is_animated": False, "is_video": False}},
    {"voice": {"file_id": "V1", "file_unique_id": "v1", "duration": 3}},
    {"location": {"latitude": 46.35, "longitude": 48.04}},
    {"contact": {"phone_number": "+79001234567", "first_name": "Мария"}},
])
async def test_other_content_gets_a_polite_hint(fake, polling, content):
    chat = TgChat(fake, polling)
    await chat.command("start")
    await chat.push(fake.content_update(CHAT, content))
    assert chat.text == T.UNSUPPORTED_CONTENT
    assert chat.shown[0].reply_markup is None


# ------------------------------------------------------------------ through Telegram
async def test_abusive_appeal_is_registered_and_flagged_for_an_official_R_3_4(fake, polling, tg_app):
    """59-FZ art. 11 p. 3: the screen only flags; the citizen is told nothing negative."""
    chat = TgChat(fake, polling)
    final = await submit_appeal(chat, text="Крыша течёт третий год, а управляющей компании на всё похуй.")
    assert "зарегистрировано" in final and "не может быть рассмотрено" not in final
    [appeal] = await rows(tg_app, select(Appeal))
    assert appeal.status == "registered" and appeal.abuse_category == "obscene"
    assert appeal.screen_state == "flagged"


# ------------------------------------------------------------------ the token stays secret
async def test_token_never_appears_in_logs(fake, tg_app, caplog):
    caplog.set_level(logging.DEBUG)
    channel, task = await start_polling(tg_app)
    try:
        chat = TgChat(fake, channel)
        await to_text_step(chat)
        fake.fail_next_download(404)  # aiohttp's error text carries the download URL
        await chat.send_file("act.pdf", "application/pdf", b"%PDF-1.4 act")
        fake.fail_next("getUpdates", 502)  # the polling loop logs the error it gets
        await chat.say(ROOF_TEXT)
        # whoever logs the URL, it is masked
        logging.getLogger("aiohttp.client").error("GET %s/file/bot%s/x failed", fake.base_url, fake.token)
        try:
            raise RuntimeError(f"request to /bot{fake.token}/getMe failed")
        except RuntimeError:
            logging.getLogger("somewhere").exception("boom")
    finally:
        await stop(channel, task)
    secret_half = fake.token.split(":", 1)[1]
    [download] = [r.getMessage() for r in caplog.records if "could not download" in r.getMessage()]
    assert "/file/bot[redacted]/" in download  # aiohttp put the URL in its error; masked
    assert "[redacted]" in caplog.text
    assert fake.token not in caplog.text and secret_half not in caplog.text
    assert all(secret_half not in r.getMessage() for r in caplog.records)


def membership(fake, chat_id: int, old: str, new: str) -> dict:
    """Telegram's my_chat_member update for a private chat (blocked: "kicked")."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Мария"}
    bot = fake.bot_user
    member = lambda status: {"status": status, "user": bot, **({"until_date": 0} if status == "kicked" else {})}  # noqa: E731
    return {"my_chat_member": {"chat": fake.add_chat(chat_id), "from": user, "date": int(time.time()),
                               "old_chat_member": member(old), "new_chat_member": member(new)}}


async def test_block_and_unblock_notices_update_reachability_R_2_1(fake, polling, tg_app):
    """R-2.1: notices go where the person can get them: blocking the bot makes the Telegram
    identity unreachable at once (no failed send needed), unblocking makes it reachable again."""
    chat = TgChat(fake, polling)
    await chat.command("start")

    async def reachable() -> tuple[bool, str | None]:
        [identity] = await rows(tg_app, select(Identity))
        return identity.reachable, identity.unreachable_reason

    fake.queue_update(membership(fake, CHAT, "member", "kicked"))
    for _ in range(300):
        if not (await reachable())[0]:
            break
        await asyncio.sleep(0.01)
    assert await reachable() == (False, "telegram: the person blocked the bot")
    fake.queue_update(membership(fake, CHAT, "kicked", "member"))
    text = await chat.command("start")  # "Restart" in the client: unblock, then /start
    assert "Здравствуйте" in text
    assert await reachable() == (True, None)


async def test_telegram_down_at_start_is_waited_out_but_a_wrong_token_fails_at_once(fake, tg_app):
    from aiogram.exceptions import TelegramUnauthorizedError

    from channels.telegram.channel import make_bot

    fake.fail_next("deleteWebhook", 502, count=4)  # three quick tries, then a pause, then up
    channel, task = await start_polling(tg_app)
    try:
        await TgChat(fake, channel).push(fake.message_update(CHAT, "/start"), timeout=10)
        assert [c.status for c in fake.calls("deleteWebhook")] == [502, 502, 502, 502, 200]
    finally:
        await stop(channel, task)

    wrong = TelegramChannel(tg_app, bot=make_bot("111:wrong-token-for-the-test", fake.base_url))
    with pytest.raises(TelegramUnauthorizedError):
        await asyncio.wait_for(wrong.run_polling(), 5)
    await wrong.stop()
