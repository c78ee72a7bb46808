"""The fake VK server (tests/fakes/vk_api.py) driven by the REAL vkbottle client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import pytest
from aiohttp import web
from vkbottle import API, Bot, BotPolling, Callback, GroupEventType, Keyboard, Text, VKAPIError
from vkbottle.bot import Message, MessageEvent
from vkbottle.tools import DocMessagesUploader, PhotoMessageUploader

from tests.fakes.vk_api import FakeVK, post_event_to

USER = 1001


@pytest.fixture
async def fake(tmp_path, monkeypatch):
    # BotPolling always writes .vkbottle/bot-polling/<group_id>.json into the cwd.
    monkeypatch.chdir(tmp_path)
    vk = FakeVK()
    await vk.start()
    yield vk
    await vk.stop()


@pytest.fixture
async def api(fake):
    api = API(fake.token)
    api.API_URL = fake.api_url
    yield api
    # vkbottle's SingleAiohttpClient is a process-wide singleton: close its session per test.
    await api.http_client.close()


async def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


def make_bot(api: API, **kwargs) -> Bot:
    return Bot(api=api, polling=BotPolling(api, wait=2), **kwargs)


async def stop_bot(bot: Bot, task: asyncio.Task, fake: FakeVK) -> None:
    """polling.stop() takes effect when the current a_check returns; make it return now."""
    bot.polling.stop()
    async with asyncio.timeout(5):
        while not task.done():
            fake.release_long_polls()
            await asyncio.sleep(0.02)
    await task


# ------------------------------------------------------------------ plain API calls
async def test_send_with_random_id_and_inline_keyboard(fake, api):
    kb = (Keyboard(inline=True).add(Callback("Да", payload={"cmd": "yes"}))
          .add(Text("Нет", payload={"cmd": "no"})).get_json())
    message_id = await api.messages.send(peer_id=USER, random_id=123, message="Подтвердить?", keyboard=kb)
    assert isinstance(message_id, int) and message_id > 0
    [sent] = fake.sent_messages(USER)
    assert sent["id"] == message_id and sent["text"] == "Подтвердить?" and sent["random_id"] == 123
    assert sent["keyboard"]["inline"] is True
    assert [b["action"]["type"] for b in sent["keyboard"]["buttons"][0]] == ["callback", "text"]
    assert fake.calls_to("messages.send")[0]["v"] == "5.199"


async def test_send_without_random_id_fails(fake, api):
    with pytest.raises(VKAPIError[100]) as exc:
        await api.messages.send(peer_id=USER, message="hi")
    assert "random_id" in exc.value.error_msg
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(random_id=5, message="no peer")
    assert fake.sent_messages() == []


async def test_duplicate_random_id_delivers_once_but_zero_is_not_deduplicated(fake, api):
    first = await api.messages.send(peer_id=USER, random_id=77, message="once")
    again = await api.messages.send(peer_id=USER, random_id=77, message="once")
    assert first == again and len(fake.sent_messages(USER)) == 1
    await api.messages.send(peer_id=USER + 1, random_id=77, message="other peer")  # per (peer, random_id)
    await api.messages.send(peer_id=USER, random_id=0, message="zero")
    await api.messages.send(peer_id=USER, random_id=0, message="zero")
    assert [m["text"] for m in fake.sent_messages(USER)] == ["once", "zero", "zero"]


async def test_keyboard_validation(fake, api):
    with pytest.raises(VKAPIError[911]):
        kb = Keyboard(inline=True).add(Text("x" * 41)).get_json()
        await api.messages.send(peer_id=USER, random_id=1, message="m", keyboard=kb)
    too_many_rows = Keyboard(inline=True)
    for i in range(7):
        too_many_rows.add(Text(f"row {i}")).row()
    with pytest.raises(VKAPIError[911]):
        await api.messages.send(peer_id=USER, random_id=2, message="m", keyboard=too_many_rows.get_json())
    with pytest.raises(VKAPIError[911]):
        await api.messages.send(peer_id=USER, random_id=3, message="m", keyboard="{not json")
    big_payload = Keyboard().add(Text("ok", payload={"p": "x" * 300})).get_json()
    with pytest.raises(VKAPIError[911]):
        await api.messages.send(peer_id=USER, random_id=4, message="m", keyboard=big_payload)
    assert fake.sent_messages() == []


async def test_strict_schema_errors(fake, api):
    with pytest.raises(VKAPIError[3]):
        await api.request("messages.frobnicate", {})
    with pytest.raises(VKAPIError[100]) as exc:
        await api.request("messages.send", {"peer_id": USER, "random_id": 1, "message": "x", "bogus": 1})
    assert "bogus is unknown" in exc.value.error_msg
    with pytest.raises(VKAPIError[100]):  # required parameter missing
        await api.request("messages.sendMessageEventAnswer", {"event_id": "e", "user_id": USER})
    with pytest.raises(VKAPIError[100]):  # wrong type
        await api.request("messages.send", {"peer_id": "abc", "random_id": 1, "message": "x"})
    with pytest.raises(VKAPIError[914]):
        await api.messages.send(peer_id=USER, random_id=1, message="x" * 4097)
    with pytest.raises(VKAPIError[1]) as exc:  # in the schema, not implemented by the fake
        await api.request("messages.getHistory", {"peer_id": USER})
    assert "not implemented by FakeVK" in exc.value.error_msg
    bad = API("wrong-token")
    bad.API_URL = fake.api_url
    with pytest.raises(VKAPIError[5]):
        await bad.messages.send(peer_id=USER, random_id=1, message="x")


async def test_injected_errors_and_blocked_peers(fake, api):
    fake.fail_next("messages.send", 9)
    with pytest.raises(VKAPIError[9]):
        await api.messages.send(peer_id=USER, random_id=1, message="x")
    await api.messages.send(peer_id=USER, random_id=1, message="x")  # only the next call failed
    fake.block_peer(USER + 5, 902)
    with pytest.raises(VKAPIError[902]):
        await api.messages.send(peer_id=USER + 5, random_id=2, message="x")
    # with peer_ids (what Message.answer uses) VK reports the error inside the item
    raw = await api.request("messages.send", {"peer_ids": USER + 5, "random_id": 0, "message": "x"})
    assert raw["response"][0]["error"]["code"] == 902 and "message_id" not in raw["response"][0]
    conv = await api.messages.get_conversations_by_id(peer_ids=[USER + 5])
    assert conv.items[0].can_write.allowed is False


async def test_rate_limit(fake, api):
    fake.enforce_rate = True
    results = await asyncio.gather(*(api.request("users.get", {"user_ids": USER}) for _ in range(25)),
                                   return_exceptions=True)
    assert sum(isinstance(r, VKAPIError[6]) for r in results) == 5


async def test_typed_methods_parse(fake, api):
    groups = await api.groups.get_by_id()
    assert groups.groups[0].id == fake.group_id
    fake.add_user(USER, "Иван", "Петров", screen_name="ivan")
    [user] = await api.users.get(user_ids=[USER])
    assert (user.id, user.first_name) == (USER, "Иван")
    assert await api.messages.set_activity(peer_id=USER, type="typing") == 1
    await api.messages.send(domain="ivan", random_id=9, message="by domain")
    assert fake.sent_messages(USER)[0]["text"] == "by domain"
    conv = await api.messages.get_conversations_by_id(peer_ids=[USER])
    assert conv.items[0].last_conversation_message_id == 1
    server = await api.photos.get_messages_upload_server(peer_id=USER)
    assert server.upload_url.startswith(fake.base_url)


async def test_upload_ics_document_and_photo(fake, api):
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    doc = await DocMessagesUploader(api).upload(ics, peer_id=USER, title="appointment.ics")
    photo = await PhotoMessageUploader(api).upload(b"\xff\xd8jpeg", peer_id=USER)
    assert doc.startswith(f"doc-{fake.group_id}_") and photo.startswith(f"photo-{fake.group_id}_")
    await api.messages.send(peer_id=USER, random_id=1, message="Запись", attachment=f"{doc},{photo}")
    [sent] = fake.sent_messages(USER)
    ics_att, photo_att = sent["attachments"]
    assert (ics_att["type"], ics_att["ext"], ics_att["data"]) == ("doc", "ics", ics)
    assert photo_att["data"] == b"\xff\xd8jpeg"
    async with aiohttp.ClientSession() as session, session.get(ics_att["url"]) as resp:
        assert await resp.read() == ics
    with pytest.raises(VKAPIError[100]):  # an attachment the community never uploaded
        await api.messages.send(peer_id=USER, random_id=2, attachment=f"doc-{fake.group_id}_999999")


# ------------------------------------------------------------------ long poll semantics
async def test_long_poll_protocol(fake, api):
    server = (await api.request("groups.getLongPollServer", {"group_id": fake.group_id}))["response"]
    assert server["server"] == f"{fake.base_url}/lp"
    ts = int(server["ts"])
    for i in range(3):
        fake.push_message(USER, f"m{i}")

    async def check(**params):
        query = {"act": "a_check", "key": server["key"], "wait": 0, **params}
        async with aiohttp.ClientSession() as session, session.get(server["server"], params=query) as resp:
            return await resp.json()

    got = await check(ts=ts)
    assert [u["object"]["message"]["text"] for u in got["updates"]] == ["m0", "m1", "m2"]
    assert int(got["ts"]) == ts + 3
    assert [u["object"]["message"]["text"] for u in (await check(ts=ts + 2))["updates"]] == ["m2"]
    assert await check(ts=ts + 3) == {"ts": str(ts + 3), "updates": []}
    assert await check(ts=ts + 50) == {"failed": 1, "ts": ts + 3}
    assert await check(ts=ts, key="stale") == {"failed": 2}
    fake.lp_fail_next(3)
    assert await check(ts=ts) == {"failed": 3}
    assert await check(ts=ts) == {"failed": 2}  # failure 3 also rotated the key
    event = got["updates"][0]
    assert event["type"] == "message_new" and event["v"] == "5.199" and event["group_id"] == fake.group_id
    assert event["object"]["client_info"]["inline_keyboard"] is True


# ------------------------------------------------------------------ vkbottle.Bot end to end
async def test_bot_polls_and_replies(fake, api):
    bot = make_bot(api)

    @bot.on.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    task = asyncio.create_task(bot.run_polling())
    await wait_until(lambda: len(fake.lp_requests) >= 1)
    assert [name for name, _ in fake.calls[:2]] == ["groups.getById", "groups.getLongPollServer"]
    fake.push_message(USER, "привет", payload={"cmd": "start"})
    fake.push_message(USER, "привет")
    await wait_until(lambda: len(fake.sent_messages(USER)) == 2)
    replies = fake.sent_messages(USER)
    assert [m["text"] for m in replies] == ["echo: привет"] * 2
    assert all(m["random_id"] == 0 for m in replies)  # answer() uses random_id=0: never de-duplicated
    assert fake.calls_to("messages.send")[0]["peer_ids"] == str(USER)
    await stop_bot(bot, task, fake)


async def test_bot_recovers_from_expired_key(fake, api):
    bot = make_bot(api)
    seen: list[str] = []

    @bot.on.message()
    async def handler(message: Message) -> None:
        seen.append(message.text)

    fake.lp_fail_next(2)
    task = asyncio.create_task(bot.run_polling())
    await wait_until(lambda: len(fake.calls_to("groups.getLongPollServer")) == 2)
    fake.push_message(USER, "after new key")
    await wait_until(lambda: seen == ["after new key"])
    first, second = fake.lp_requests[0], fake.lp_requests[1]
    assert first["key"] != second["key"] and first["ts"] == second["ts"]  # ts kept on failure 2
    await stop_bot(bot, task, fake)


async def test_restart_with_saved_ts_gets_missed_messages(fake, api):
    seen: list[str] = []

    async def run(skip_old_events: bool, expect: list[str]) -> None:
        bot = make_bot(api, skip_old_events=skip_old_events)

        @bot.on.message()
        async def handler(message: Message) -> None:
            seen.append(message.text)

        seen.clear()
        polls = len(fake.lp_requests)
        task = asyncio.create_task(bot.run_polling())
        await wait_until(lambda: len(fake.lp_requests) > polls and seen == expect)
        await stop_bot(bot, task, fake)

    await run(True, [])
    fake.push_message(USER, "missed while down")
    await run(False, ["missed while down"])  # ts restored from ./.vkbottle/bot-polling/<group_id>.json
    fake.push_message(USER, "skipped")
    await run(True, [])  # default skip_old_events=True: starts from the fresh ts


async def test_callback_button_reaches_raw_event_handler(fake, api):
    bot = make_bot(api)
    await api.messages.send(peer_id=USER, random_id=1, message="Подтвердить?",
                            keyboard=Keyboard(inline=True).add(Callback("Да", {"cmd": "yes"})).get_json())
    payloads = []

    @bot.on.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=MessageEvent)
    async def on_callback(event: MessageEvent) -> None:
        payloads.append(event.payload)
        await event.show_snackbar("Готово")
        await event.edit_message("Подтверждено")

    task = asyncio.create_task(bot.run_polling())
    await wait_until(lambda: len(fake.lp_requests) >= 1)  # events before getLongPollServer are skipped
    fake.push_callback(USER, USER, {"cmd": "yes"}, conversation_message_id=1)
    await wait_until(lambda: len(fake.edits) == 1)
    assert payloads == [{"cmd": "yes"}]
    assert fake.event_answers[0]["event_data"] == {"type": "show_snackbar", "text": "Готово"}
    assert fake.sent_messages(USER)[0]["text"] == "Подтверждено"
    await stop_bot(bot, task, fake)


# ------------------------------------------------------------------ Callback API helper
async def test_post_event_to_callback_endpoint(fake):
    received: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/vk", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}/vk"
        assert await post_event_to(url, fake.confirmation_event(), secret="s3cret") == (200, "ok")
        assert await fake.post_event_to(url, fake.make_message_new(USER, "hi")) == (200, "ok")
    finally:
        await runner.cleanup()
    assert received[0] == {"type": "confirmation", "group_id": fake.group_id, "secret": "s3cret"}
    assert received[1]["object"]["message"]["text"] == "hi" and "secret" not in received[1]
    assert json.dumps(received[1])  # plain JSON, like VK sends
