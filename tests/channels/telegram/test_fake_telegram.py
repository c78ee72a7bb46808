"""The fake Telegram Bot API works with the real aiogram client, and is strict like Telegram."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram_api import ApiError, FakeTelegram, parse_html, parse_markdown

pytestmark = pytest.mark.asyncio

CHAT = 5551001


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    api = TelegramAPIServer.from_base(fake.base_url)
    return Bot(token or fake.token, session=AiohttpSession(api=api))


@pytest_asyncio.fixture
async def fake():
    server = FakeTelegram()
    await server.start()
    server.add_chat(CHAT, first_name="Ivan")
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def bot(fake):
    client = make_bot(fake)
    yield client
    await client.session.close()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs])


async def test_get_me(fake, bot):
    me = await bot.get_me()
    assert me.id == bot.id == fake.bot_id
    assert me.is_bot and me.username == fake.bot_user["username"]


async def test_send_edit_and_answer_callback(fake, bot):
    sent = await bot.send_message(CHAT, "Выберите услугу", reply_markup=keyboard(("Жалоба", "c:1"), ("Справка", "c:2")))
    assert sent.chat.id == CHAT and sent.from_user.id == fake.bot_id
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "c:1"
    second = await bot.send_message(CHAT, "ещё")
    assert second.message_id == sent.message_id + 1

    [first, _] = fake.sent_messages(CHAT)
    assert (first.kind, first.text) == ("text", "Выберите услугу")
    assert [b["callback_data"] for b in first.buttons] == ["c:1", "c:2"]
    call = fake.calls("sendMessage")[0]
    assert call.params["chat_id"] == CHAT and call.params["reply_markup"]["inline_keyboard"][1][0]["text"] == "Справка"
    assert "parse_mode" not in call.params  # aiogram leaves out unset defaults

    press = fake.queue_update(fake.callback_update(CHAT, "c:1"))
    query_id = press["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="Принято")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)  # already answered
    with pytest.raises(ValueError, match="no button"):
        fake.callback_update(CHAT, "c:9", message_id=sent.message_id)

    edited = await bot.edit_message_text("Жалоба выбрана", chat_id=CHAT, message_id=sent.message_id)
    assert edited.text == "Жалоба выбрана" and edited.edit_date is not None
    assert edited.reply_markup is None and first.reply_markup is None  # no reply_markup = keyboard removed
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Жалоба выбрана", chat_id=CHAT, message_id=sent.message_id)
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard(("Ок", "ok")))
    assert first.buttons == [{"text": "Ок", "callback_data": "ok"}] and first.edits == 2
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)

    assert await bot.delete_message(CHAT, second.message_id)
    assert [m.message_id for m in fake.sent_messages(CHAT)] == [sent.message_id]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CHAT, second.message_id)


async def test_commands_chat_action_and_webhook_methods(fake, bot):
    assert await bot.set_my_commands([BotCommand(command="start", description="Начать"),
                                      BotCommand(command="help", description="Помощь")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start Now", description="x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []

    assert await bot.send_chat_action(CHAT, "typing")
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(CHAT, "dancing")

    with pytest.raises(TelegramBadRequest, match="HTTPS URL"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""


async def test_limits_and_strictness(fake, bot):
    await bot.send_message(CHAT, "я" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "я" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CHAT, "")  # aiogram drops the empty field altogether
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard(("a", "д" * 32 + "x")))  # 65 bytes
    await bot.send_message(CHAT, "x", reply_markup=keyboard(("a", "д" * 32)))  # exactly 64 bytes
    with pytest.raises(TelegramBadRequest, match="Text must be non-empty"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard(("", "d")))
    with pytest.raises(TelegramBadRequest, match="Text buttons are not allowed"):
        await bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="just text")]]))
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(42, "nobody here")
    with pytest.raises(TelegramBadRequest, match='"reply_to_message_id" was removed'):
        await bot.send_message(CHAT, "x", reply_to_message_id=1)  # deprecated aiogram field
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(CHAT, "x", reply_parameters=ReplyParameters(message_id=12345))

    fake.queue_update(fake.callback_update(CHAT, "d", check_button=False))
    query_id = fake._updates[-1]["callback_query"]["id"]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="z" * 201)


async def test_spec_checks_over_raw_http(fake):
    async with aiohttp.ClientSession() as http:
        async def call(method, token=fake.token, **kw):
            async with http.post(f"{fake.base_url}/bot{token}/{method}", **kw) as resp:
                return resp.status, await resp.json()

        assert await call("fooBar") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
        assert (await call("getMe", token="1:wrong"))[0] == 401
        status, body = await call("sendMessage", json={"chat_id": CHAT, "text": "hi", "colour": "red"})
        assert status == 400 and 'unexpected parameter "colour"' in body["description"]
        status, body = await call("sendMessage", data={"text": "hi"})
        assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
        status, body = await call("sendMessage", json={"chat_id": CHAT, "text": "hi",
                                                       "reply_markup": {"inline_keyboard": [[{"text": "a", "url": 5}]]}})
        assert "Field \"url\" must be of type String" in body["description"]
        status, body = await call("sendMessage", data={"chat_id": CHAT, "text": "hi", "reply_markup": "{oops"})
        assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
        status, body = await call("getmE")  # method names are case-insensitive
        assert status == 200 and body["result"]["id"] == fake.bot_id


async def test_parse_modes(fake, bot):
    msg = await bot.send_message(CHAT, "<b>Жилнадзор</b> &amp; <a href=\"https://example.org\">сайт</a>", parse_mode="HTML")
    assert msg.text == "Жилнадзор & сайт"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 9), ("text_link", 12, 4)]
    assert msg.html_text.startswith("<b>Жилнадзор</b>")
    await bot.send_message(CHAT, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")  # tags do not count
    for broken, reason in [("<b>oops", "Can't find end tag"), ("a < b", "Unsupported start tag"),
                           ("<b>x</i>", "Unmatched end tag"), ("<span>x</span>", "tg-spoiler")]:
        with pytest.raises(TelegramBadRequest, match=f"can't parse entities: .*{reason}"):
            await bot.send_message(CHAT, broken, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Character '.' is reserved"):
        await bot.send_message(CHAT, "Приём окончен.", parse_mode="MarkdownV2")
    ok = await bot.send_message(CHAT, r"*Срок:* 30 дней\.", parse_mode="MarkdownV2")
    assert ok.text == "Срок: 30 дней." and ok.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="unsupported parse_mode"):
        await bot.send_message(CHAT, "x", parse_mode="BBCode")


async def test_parsers_directly():
    assert parse_html("&lt;&#1071;&#x42f;&nbsp;") == ("<ЯЯ&nbsp;", [])
    assert parse_html('<pre><code class="language-python">x = 1</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    assert parse_markdown("__u__ ||s|| [a](https://x.org)", v2=True)[1] == [
        {"type": "underline", "offset": 0, "length": 1}, {"type": "spoiler", "offset": 2, "length": 1},
        {"type": "text_link", "offset": 4, "length": 1, "url": "https://x.org"}]
    with pytest.raises(ApiError, match="Can't find end of the entity starting at byte offset 5"):
        parse_markdown("snake_case", v2=False)  # the classic legacy-Markdown failure
    assert parse_markdown(r"snake\_case *bold*", v2=False) == ("snake_case bold", [
        {"type": "bold", "offset": 11, "length": 4}])


async def test_unknown_and_unimplemented_methods(fake, bot):
    class FooBar(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "fooBar"

    with pytest.raises(TelegramNotFound):
        await bot(FooBar())
    with pytest.raises(TelegramServerError, match="fake Telegram server has no getChat"):
        await bot.get_chat(CHAT)
    wrong = make_bot(fake, token="987654321:wrong-token")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()


async def test_injected_failures(fake, bot):
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "x")
    assert info.value.retry_after == 7
    fake.fail_next("*", 500, count=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    await bot.send_message(CHAT, "ok now")

    fake.block_chat(CHAT)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "x")
    fake.unblock_chat(CHAT)

    fake.delay_next("sendMessage", 5)
    started = time.monotonic()
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(CHAT, "slow", request_timeout=1)
    assert time.monotonic() - started < 3
    assert [c.status for c in fake.calls("sendMessage")] == [429, 200, 403, None]  # the slow one is pending


async def test_rate_limits(fake, bot):
    fake.enforce_limits = True
    for i in range(3):  # the per-chat burst
        await bot.send_message(CHAT, f"m{i}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "too fast")
    assert info.value.retry_after >= 1 and fake.limit_hits == 1

    fake.chat_burst, fake.global_rate = 100, 30
    for chat_id in range(1, 31):
        fake.add_chat(chat_id)
    results = await asyncio.gather(*(bot.send_message(c, "broadcast") for c in range(1, 31)), return_exceptions=True)
    assert sum(isinstance(r, TelegramRetryAfter) for r in results) == 3  # 3 sends were already in this second
    assert fake.limit_hits == 4


async def test_long_polling(fake, bot):
    assert await bot.get_updates(timeout=0) == []
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2

    loop = asyncio.get_running_loop()
    loop.call_later(0.2, fake.queue_update, fake.message_update(CHAT, "привет"))
    started = time.monotonic()
    [update] = await bot.get_updates(timeout=10)
    assert time.monotonic() - started < 1.5
    assert update.message.text == "привет" and update.message.from_user.id == CHAT

    for text in ("a", "b", "c"):
        fake.queue_update(fake.message_update(CHAT, text))
    pending = await bot.get_updates(offset=update.update_id + 1, limit=2)
    assert [u.message.text for u in pending] == ["a", "b"]
    rest = await bot.get_updates(offset=pending[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["c"]
    assert [u.message.text for u in await bot.get_updates()] == ["c"]  # still unconfirmed
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []
    with pytest.raises(ValueError, match="invalid update"):
        fake.queue_update({"message": {"text": "no chat, no date"}})


async def test_dispatcher_polling_replies(fake, bot):
    dp = Dispatcher()

    @dp.message(F.text == "/start")
    async def start(message: Message) -> None:
        await message.answer("Здравствуйте! Что случилось?", reply_markup=keyboard(("Протечка", "leak")))

    @dp.callback_query(F.data == "leak")
    async def leak(query: CallbackQuery) -> None:
        await query.answer()
        await query.message.edit_text("Опишите протечку")

    fake.queue_update(fake.message_update(CHAT, "/start"))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=2))
    try:
        [reply] = await fake.wait_for_messages(chat_id=CHAT)
        assert reply.text == "Здравствуйте! Что случилось?" and reply.buttons[0]["callback_data"] == "leak"
        fake.queue_update(fake.callback_update(CHAT, "leak"))
        for _ in range(300):
            if reply.text == "Опишите протечку":
                break
            await asyncio.sleep(0.01)
        assert reply.text == "Опишите протечку" and len(fake.callback_answers) == 1
    finally:
        await dp.stop_polling()
        await polling
    assert bot.session._session.closed  # start_polling closed the session itself
    assert fake.calls("getMe") and all(c.status in (200, None) for c in fake.requests)  # None: the poll cut off by stop
    assert sorted(fake.calls("getUpdates")[0].params["allowed_updates"]) == ["callback_query", "message"]


async def test_files_upload_and_download(fake, bot):
    file_id = fake.add_file(b"%PDF-1.4 act", "application/pdf", "act.pdf")
    assert (await bot.download(file_id)).read() == b"%PDF-1.4 act"
    assert (await bot.get_file(file_id)).file_path.endswith(".pdf")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")

    sent = await bot.send_document(CHAT, BufferedInputFile(b"report body", filename="report.txt"), caption="Отчёт")
    assert sent.document.file_name == "report.txt" and sent.document.mime_type == "text/plain"
    assert (await bot.download(sent.document.file_id)).read() == b"report body"
    assert fake.sent_messages(CHAT)[-1].kind == "document" and fake.sent_messages(CHAT)[-1].text == "Отчёт"
    photo = await bot.send_photo(CHAT, file_id)  # by file_id, no upload
    assert photo.photo[0].file_id == file_id
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(CHAT, BufferedInputFile(b"img", filename="a.jpg"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(CHAT, "not-a-file-id")

    incoming = fake.queue_update(fake.document_update(CHAT, b"scan", "scan.pdf", caption="акт"))
    update = (await bot.get_updates())[0]
    assert update.message.document.file_id == incoming["message"]["document"]["file_id"]
    assert (await bot.download(update.message.document)).read() == b"scan"
    fake.queue_update(fake.photo_update(CHAT, b"jpeg-bytes"))
    last = (await bot.get_updates(offset=update.update_id + 1))[0]
    assert (await bot.download(last.message.photo[-1])).read() == b"jpeg-bytes"


async def test_webhook_delivery(fake, bot):
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"Вы написали: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token="s3cret").register(app, path="/tg")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = "http://127.0.0.1:%d/tg" % runner.addresses[0][1]
    try:
        assert await fake.post_update_to(url, fake.message_update(CHAT, "текст"), secret_token="wrong") == 401
        assert await fake.post_update_to(url, fake.message_update(CHAT, "текст"), secret_token="s3cret") == 200
        [reply] = await fake.wait_for_messages(chat_id=CHAT)
        assert reply.text == "Вы написали: текст"
    finally:
        await runner.cleanup()


async def test_other_content_and_download_failures(fake, bot):
    location = fake.queue_update(fake.content_update(CHAT, {"location": {"latitude": 46.35, "longitude": 48.04}}))
    [update] = await bot.get_updates()
    assert update.update_id == location["update_id"] and update.message.location.latitude == 46.35
    with pytest.raises(ValueError, match="invalid update"):
        fake.queue_update(fake.content_update(CHAT, {"sticker": {"file_id": "x"}}))  # required fields missing

    file_id = fake.add_file(b"scan", "application/pdf", "scan.pdf")
    fake.fail_next_download(404)
    with pytest.raises(aiohttp.ClientResponseError) as info:
        await bot.download(file_id)
    assert info.value.status == 404
    assert (await bot.download(file_id)).read() == b"scan"  # only the next one failed
