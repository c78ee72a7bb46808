"""The fake MAX Bot API (tests/fakes/max_api.py): strict like the real one, and the REAL
``maxapi`` client works against it (see docs/max_client_notes.md)."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from aiohttp import web
from maxapi import Bot, Dispatcher
from maxapi.client import DefaultConnectionProperties
from maxapi.enums.upload_type import UploadType
from maxapi.exceptions import DownloadFileError, InvalidToken, MaxApiError, MaxConnection
from maxapi.types import MessageCreated
from maxapi.types.attachments.buttons.callback_button import CallbackButton
from maxapi.types.attachments.buttons.link_button import LinkButton
from maxapi.types.input_media import InputMediaBuffer
from maxapi.types.updates import UpdateUnionAdapter
from maxapi.types.updates.message_callback import MessageForCallback
from maxapi.utils.inline_keyboard import InlineKeyboardBuilder
from maxapi.webhook.aiohttp import AiohttpMaxWebhook

from tests.fakes import max_schema
from tests.fakes.max_api import DROP, LOST, FakeMax

USER = 1001
SPEC_TEXT_MAX = max_schema.schema("NewMessageBody")["properties"]["text"]["maxLength"]
BUTTON_TEXT_MAX = max_schema.schema("Button")["properties"]["text"]["maxLength"]
PAYLOAD_MAX = max_schema.schema("CallbackButton")["allOf"][1]["properties"]["payload"]["maxLength"]


@pytest.fixture
async def fake():
    async with FakeMax() as server:
        yield server


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


class Api:
    """Raw HTTP calls to the fake: ``await api("POST", "/messages", json=..., params=...)``."""

    def __init__(self, fake: FakeMax, session: aiohttp.ClientSession) -> None:
        self.fake, self.session = fake, session

    async def __call__(self, method: str, path: str, *, token: str | None = "", **kw) -> tuple[int, dict]:
        token = self.fake.token if token == "" else token
        headers = {"Authorization": token} if token is not None else {}
        async with self.session.request(method, self.fake.base_url + path, headers=headers, **kw) as resp:
            return resp.status, await resp.json(content_type=None)

    async def send(self, body: dict, user_id: int = USER) -> tuple[int, dict]:
        return await self("POST", "/messages", params={"user_id": user_id}, json=body)


@pytest.fixture
async def api(fake, http):
    fake.queue_update(fake.bot_started(USER))  # the user has a dialog with the bot
    return Api(fake, http)


def keyboard(rows: list[list[dict]]) -> dict:
    return {"type": "inline_keyboard", "payload": {"buttons": rows}}


def callback(text: str = "Да", payload: str = "yes") -> dict:
    return {"type": "callback", "text": text, "payload": payload}


def assert_error(result: tuple[int, dict], status: int, code: str, words: str = "") -> None:
    got_status, body = result
    assert (got_status, body.get("code")) == (status, code), body
    assert set(body) == {"code", "message"} and words in body["message"], body


# ------------------------------------------------------------------ routing and authorisation
async def test_unknown_paths_and_methods(api):
    assert_error(await api("GET", "/frobnicate"), 404, "not.found", "/frobnicate")
    assert_error(await api("GET", "/chats/12/extra/path"), 404, "not.found")
    assert_error(await api("PATCH", "/messages", json={}), 405, "method.not.allowed")
    assert_error(await api("POST", "/me"), 405, "method.not.allowed")
    # in the spec but not implemented by the fake: a loud 501, never a silent success
    assert_error(await api("GET", "/chats"), 501, "not.implemented", "GET /chats")


async def test_token_in_authorization_header_only(api, fake):
    assert_error(await api("GET", "/me", token=None), 401, "verify.token")
    assert_error(await api("GET", "/me", token="wrong"), 401, "verify.token")
    assert_error(await api("GET", "/me", token="Bearer " + fake.token), 401, "verify.token")
    # the spec's securitySchemes still shows ?access_token=, which MAX no longer accepts
    assert_error(await api("GET", "/me", token=None, params={"access_token": fake.token}), 401, "verify.token")
    assert_error(await api("POST", "/messages", token="wrong", params={"user_id": USER}, json={"text": "x"}),
                 401, "verify.token")
    status, me = await api("GET", "/me")
    assert status == 200 and me["user_id"] == fake.bot_id and me["is_bot"] is True
    max_schema.validate(me, "BotInfo")
    assert fake.sent_messages() == []


# ------------------------------------------------------------------ message bodies
async def test_text_length_limit_comes_from_the_spec(api, fake):
    assert SPEC_TEXT_MAX == 4000
    assert (await api.send({"text": "я" * SPEC_TEXT_MAX}))[0] == 200
    assert_error(await api.send({"text": "я" * (SPEC_TEXT_MAX + 1)}), 400, "proto.payload", "text: length 4001")
    # counted in UTF-16 units: an emoji takes two
    assert_error(await api.send({"text": "я" * (SPEC_TEXT_MAX - 1) + "🙂"}), 400, "proto.payload", "maxLength")
    assert len(fake.sent_messages(USER)) == 1


async def test_keyboard_counts(api, fake):
    limits = max_schema.keyboard_limits()
    full = [[callback(f"{r}.{b}", f"p{r}.{b}") for b in range(limits["per_row"])] for r in range(limits["rows"])]
    assert sum(map(len, full)) == limits["total"] == 210
    assert (await api.send({"text": "all", "attachments": [keyboard(full)]}))[0] == 200
    too_many_rows = [[callback()] for _ in range(limits["rows"] + 1)]
    assert_error(await api.send({"text": "t", "attachments": [keyboard(too_many_rows)]}), 400, "proto.payload", "rows")
    long_row = [callback("x", "y") for _ in range(limits["per_row"] + 1)]
    assert_error(await api.send({"text": "t", "attachments": [keyboard([long_row])]}), 400, "proto.payload", "in a row")
    links = [{"type": "link", "text": f"L{i}", "url": "https://max.ru"} for i in range(limits["per_row_wide"] + 1)]
    assert_error(await api.send({"text": "t", "attachments": [keyboard([links])]}), 400, "proto.payload", "link")
    assert (await api.send({"text": "t", "attachments": [keyboard([links[:-1]])]}))[0] == 200
    assert_error(await api.send({"text": "t", "attachments": [keyboard([])]}), 400, "proto.payload", "minItems")
    assert_error(await api.send({"text": "t", "attachments": [keyboard([[]])]}), 400, "proto.payload", "row")
    two = [keyboard([[callback()]]), keyboard([[callback()]])]
    assert_error(await api.send({"text": "t", "attachments": two}), 400, "proto.payload", "one inline keyboard")
    assert len(fake.sent_messages(USER)) == 2


async def test_button_fields_from_the_spec(api, fake):
    def send_button(button: dict):
        return api.send({"text": "t", "attachments": [keyboard([[button]])]})

    assert_error(await send_button(callback("x" * (BUTTON_TEXT_MAX + 1))), 400, "proto.payload", "text: length")
    assert_error(await send_button(callback("")), 400, "proto.payload", "minLength")
    assert_error(await send_button(callback("ok", "p" * (PAYLOAD_MAX + 1))), 400, "proto.payload", "payload")
    assert_error(await send_button({"type": "callback", "text": "no payload"}), 400, "proto.payload",
                 "payload: is required")
    assert_error(await send_button({"type": "link", "text": "no url"}), 400, "proto.payload", "url: is required")
    assert_error(await send_button({"type": "teleport", "text": "x"}), 400, "proto.payload", "'teleport'")
    assert (await send_button(callback("ok", "p" * PAYLOAD_MAX)))[0] == 200
    # unknown properties pass: no schema forbids them, and maxapi always sends "intent"
    assert (await send_button({**callback(), "intent": "positive"}))[0] == 200
    [long_payload, with_intent] = fake.sent_messages(USER)
    assert long_payload.buttons[0][0]["payload"] == "p" * PAYLOAD_MAX
    assert with_intent.buttons == [[{**callback(), "intent": "positive"}]]


async def test_bodies_queries_and_recipients(api, fake, http):
    assert_error(await api.send({"text": "t", "format": "bbcode"}), 400, "proto.payload", "format")
    assert_error(await api.send({"text": 5}), 400, "proto.payload", "must be string")
    assert_error(await api.send({"text": "t", "attachments": {"type": "image"}}), 400, "proto.payload", "array")
    assert_error(await api.send({"text": "t", "notify": "yes"}), 400, "proto.payload", "boolean")
    assert_error(await api.send({"text": "t", "link": {"type": "quote", "mid": "m"}}), 400, "proto.payload", "link.type")
    assert_error(await api.send({"text": "t", "link": {"type": "reply", "mid": "mid.nope"}}), 400, "proto.payload",
                 "not found")
    incoming = fake.message_created(USER, "вопрос")["message"]
    status, reply = await api.send({"text": "ответ", "link": {"type": "reply", "mid": incoming["body"]["mid"]}})
    assert status == 200 and reply["message"]["link"]["message"]["text"] == "вопрос"
    assert_error(await api.send({}), 400, "proto.payload", "text or attachments")
    assert_error(await api.send({"text": None, "attachments": []}), 400, "proto.payload", "text or attachments")
    assert_error(await api("POST", "/messages", data=b"{not json", params={"user_id": USER}), 400, "proto.payload",
                 "deserialize")
    assert_error(await api("POST", "/messages", params={"user_id": USER}), 400, "proto.payload", "body is required")
    assert_error(await api("POST", "/messages", json={"text": "t"}), 400, "proto.payload", "user_id or chat_id")
    assert_error(await api("POST", "/messages", params={"user_id": "abc"}, json={"text": "t"}), 400, "proto.payload",
                 "not an integer")
    assert_error(await api("POST", "/messages", params={"userId": USER}, json={"text": "t"}), 400, "proto.payload",
                 "userId: unknown parameter")
    assert_error(await api.send({"text": "t"}, user_id=999), 404, "not.found")
    # a dialog's chat_id is not the user id
    assert_error(await api("POST", "/messages", params={"chat_id": USER}, json={"text": "t"}), 404, "not.found")
    status, result = await api("POST", "/messages", params={"chat_id": fake.dialog_id(USER), "v": "0.0.32"},
                               json={"text": "<b>Запись</b> на &laquo;среду&raquo;", "format": "html"})
    assert status == 200
    max_schema.validate(result, "SendMessageResult")
    [_, sent] = fake.sent_messages(USER)
    assert sent.text == "Запись на «среду»" and sent.raw_text.startswith("<b>")
    assert result["message"]["recipient"] == {"chat_id": fake.dialog_id(USER), "chat_type": "dialog", "user_id": USER}


async def test_blocked_user_and_bot_stopped(api, fake):
    fake.queue_update(fake.bot_stopped(USER))
    assert_error(await api.send({"text": "t"}), 403, "chat.denied")
    fake.queue_update(fake.bot_started(USER))
    assert (await api.send({"text": "t"}))[0] == 200


# ------------------------------------------------------------------ edits, deletes, callbacks
async def test_edit_delete_and_answer(api, fake):
    _, sent = await api.send({"text": "Подтвердить?", "attachments": [keyboard([[callback()]])]})
    mid = sent["message"]["body"]["mid"]
    assert_error(await api("PUT", "/messages", json={"text": "x"}), 400, "proto.payload", "message_id: is required")
    assert_error(await api("PUT", "/messages", params={"message_id": "mid.nope"}, json={"text": "x"}), 404,
                 "not.found")
    incoming = fake.message_created(USER, "hi")["message"]["body"]["mid"]
    assert_error(await api("PUT", "/messages", params={"message_id": incoming}, json={"text": "x"}), 403,
                 "access.denied")
    # attachments null/absent keep the keyboard, [] removes it (NewMessageBody.attachments)
    assert (await api("PUT", "/messages", params={"message_id": mid}, json={"text": "Точно?"}))[1] == {"success": True}
    [msg] = fake.sent_messages(USER)
    assert (msg.text, msg.edits, len(msg.buttons[0])) == ("Точно?", 1, 1)

    press = fake.queue_update(fake.message_callback(USER, "yes"))
    max_schema.validate(press, "Update")
    with pytest.raises(ValueError):
        fake.message_callback(USER, "no-such-button")
    callback_id = press["callback"]["callback_id"]
    assert_error(await api("POST", "/answers", params={"callback_id": callback_id}, json={}), 400, "proto.payload")
    assert_error(await api("POST", "/answers", params={"callback_id": "cb.nope"}, json={"notification": "x"}),
                 404, "not.found")
    answer = {"notification": "Готово", "message": {"text": "Подтверждено", "attachments": []}}
    assert (await api("POST", "/answers", params={"callback_id": callback_id}, json=answer))[1] == {"success": True}
    assert fake.answers[0]["notification"] == "Готово" and fake.answers[0]["user_id"] == USER
    assert (msg.text, msg.buttons, msg.edits) == ("Подтверждено", [], 2)

    assert (await api("DELETE", "/messages", params={"message_id": mid}))[1] == {"success": True}
    assert fake.sent_messages(USER) == [] and fake.sent_messages(USER, include_deleted=True)[0].deleted
    assert_error(await api("DELETE", "/messages", params={"message_id": mid}), 404, "not.found")


# ------------------------------------------------------------------ long polling
async def test_marker_semantics(api, fake):
    fake.reset()
    for text in ("a", "b", "c"):
        fake.queue_update(fake.message_created(USER, text))

    async def poll(**params):
        status, body = await api("GET", "/updates", params={"timeout": 0, **params})
        assert status == 200, body
        max_schema.validate(body, "UpdateList")
        return [u["message"]["body"]["text"] for u in body["updates"]], body["marker"]

    assert await poll() == (["a", "b", "c"], 4)
    assert await poll() == (["a", "b", "c"], 4)  # nothing is read until a marker comes back
    assert await poll(limit=1) == (["a"], 2)
    assert await poll(marker=2) == (["b", "c"], 4)  # "a" is now read
    assert await poll(marker=2) == (["b", "c"], 4)  # the same marker again: redelivered
    assert await poll() == (["b", "c"], 4)
    assert await poll(marker=4) == ([], 4)
    assert await poll() == ([], 4)  # "b" and "c" were read by marker 4
    fake.queue_update(fake.bot_started(USER, payload="deep"))
    fake.queue_update(fake.message_created(USER, "d"))
    status, body = await api("GET", "/updates", params={"timeout": 0, "marker": 4, "types": "bot_started"})
    assert [u["update_type"] for u in body["updates"]] == ["bot_started"]
    assert body["marker"] == 6  # the marker passes the filtered-out "d" too...
    assert await poll(marker=5, types="message_created,message_callback") == (["d"], 6)  # ...but only sent back it reads
    assert_error(await api("GET", "/updates", params={"timeout": 91}), 400, "proto.payload", "timeout")
    assert_error(await api("GET", "/updates", params={"limit": 0}), 400, "proto.payload", "limit")
    assert_error(await api("GET", "/updates", params={"marker": "x"}), 400, "proto.payload", "marker")


async def test_long_poll_waits_for_an_update(api, fake):
    fake.reset()
    start = time.monotonic()
    task = asyncio.create_task(api("GET", "/updates", params={"timeout": 10}))
    async with asyncio.timeout(5):
        while fake.polls_waiting == 0:
            await asyncio.sleep(0.01)
    fake.queue_update(fake.message_created(USER, "wake up"))
    status, body = await task
    assert status == 200 and body["updates"][0]["message"]["body"]["text"] == "wake up"
    assert time.monotonic() - start < 5
    start = time.monotonic()
    status, body = await api("GET", "/updates", params={"timeout": 1, "marker": body["marker"]})
    assert body["updates"] == [] and 0.9 < time.monotonic() - start < 3
    task = asyncio.create_task(api("GET", "/updates", params={"timeout": 30, "marker": body["marker"]}))
    async with asyncio.timeout(5):
        while fake.polls_waiting == 0:
            await asyncio.sleep(0.01)
        fake.release_long_polls()
        assert (await task)[1]["updates"] == []


async def test_update_builders_follow_the_spec(fake):
    pdf = fake.file_attachment(b"%PDF-1.4 fake", "act.pdf")
    photo = fake.image_attachment()
    updates = [fake.bot_started(USER, payload="appeal-42"), fake.message_created(USER, "see", [pdf, photo]),
               fake.message_created(USER, None, [photo]), fake.bot_stopped(USER)]
    for update in updates:
        max_schema.validate(update, "Update")
    assert updates[0]["chat_id"] == fake.dialog_id(USER) != USER
    # MAX drops a deep-link payload longer than the spec allows instead of cutting it
    limit = max_schema.schema("BotStartedUpdate")["allOf"][1]["properties"]["payload"]["maxLength"]
    assert fake.bot_started(USER, "p" * limit)["payload"] == "p" * limit
    assert fake.bot_started(USER, "p" * (limit + 1))["payload"] is None
    # the validator is not a rubber stamp
    broken = {k: v for k, v in updates[0].items() if k != "user"}
    with pytest.raises(max_schema.SchemaError, match="user: is required"):
        max_schema.validate(broken, "Update")
    with pytest.raises(max_schema.SchemaError, match="update_type"):
        max_schema.validate({**updates[0], "update_type": "nonsense"}, "Update")


def test_keyboard_counts_are_not_in_the_spec_file():
    """If a new openapi.json gains maxItems for keyboards, keyboard_limits() switches to them."""
    buttons = max_schema.schema("InlineKeyboardAttachmentRequestPayload")["properties"]["buttons"]
    assert "maxItems" not in buttons and "maxItems" not in buttons["items"]
    assert max_schema.keyboard_limits() == max_schema.DOCUMENTED_KEYBOARD


# ------------------------------------------------------------------ webhooks
async def receiver(statuses: list[int] | None = None):
    """A local webhook endpoint; answers the given statuses in turn, then 200."""
    got: list[tuple[dict, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        got.append((await request.json(), request.headers.get("X-Max-Bot-Api-Secret")))
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}/hook", got, runner


async def test_webhook_subscription_and_delivery(api, fake):
    url, got, runner = await receiver([500])
    try:
        assert_error(await api("POST", "/subscriptions", json={"url": url}), 400, "proto.payload", "https://")
        fake.allow_http_webhooks = True
        assert_error(await api("POST", "/subscriptions", json={"url": url, "secret": "no spaces!"}), 400,
                     "proto.payload", "secret")
        assert_error(await api("POST", "/subscriptions", json={"url": url, "update_types": ["bot_dancing"]}), 400,
                     "proto.payload", "bot_dancing")
        body = {"url": url, "secret": "s3cret-Value_1", "update_types": ["message_created"]}
        assert await api("POST", "/subscriptions", json=body) == (200, {"success": True})
        status, subs = await api("GET", "/subscriptions")
        assert [s["url"] for s in subs["subscriptions"]] == [url] and "secret" not in subs["subscriptions"][0]
        max_schema.validate(subs, "GetSubscriptionsResult")
        assert_error(await api("GET", "/updates", params={"timeout": 0}), 405, "method.not.allowed", "webhook")

        fake.queue_update(fake.message_created(USER, "по вебхуку"))
        fake.queue_update(fake.bot_started(USER))  # not in update_types: never posted
        assert await fake.deliver_webhooks() == [500]  # a failed delivery stays queued
        assert await fake.deliver_webhooks() == [200]
        assert await fake.deliver_webhooks() == []
        assert [(u["message"]["body"]["text"], secret) for u, secret in got] == [("по вебхуку", "s3cret-Value_1")] * 2

        assert await api("DELETE", "/subscriptions", params={"url": url}) == (200, {"success": True})
        assert (await api("DELETE", "/subscriptions", params={"url": url}))[1]["success"] is False
        assert (await api("GET", "/updates", params={"timeout": 0}))[0] == 200
    finally:
        await runner.cleanup()


async def test_webhook_retries_only_the_subscriber_that_failed(fake):
    fake.allow_http_webhooks = True
    (good, got_good, runner1), (flaky, got_flaky, runner2) = await receiver(), await receiver([503])
    try:
        for url in (good, flaky):
            fake.subscriptions.append({"url": url, "time": 0, "update_types": None, "secret": None})
        fake.queue_update(fake.bot_started(USER, payload="ref"))
        assert sorted(await fake.deliver_webhooks()) == [200, 503]
        assert await fake.deliver_webhooks() == [200]
        assert (len(got_good), len(got_flaky)) == (1, 2) and got_good[0][1] is None  # no secret, no header
        assert fake.pending_updates() == []
    finally:
        await runner1.cleanup()
        await runner2.cleanup()


# ------------------------------------------------------------------ uploads
async def upload(api, http, kind: str, data: bytes, filename: str = "visit.ics") -> tuple[dict, dict | str]:
    status, endpoint = await api("POST", "/uploads", params={"type": kind})
    assert status == 200, endpoint
    max_schema.validate(endpoint, "UploadEndpoint")
    form = aiohttp.FormData()
    form.add_field("data", data, filename=filename, content_type="application/octet-stream")
    async with http.post(endpoint["url"], data=form) as resp:
        assert resp.status == 200
        text = await resp.text()
    return endpoint, (json.loads(text) if text.startswith("{") else text)


async def test_uploads(api, fake, http):
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    endpoint, answer = await upload(api, http, "file", ics)
    assert "token" not in endpoint and set(answer) == {"token"}
    status, result = await api.send({"text": "Запись", "attachments": [{"type": "file", "payload": answer}]})
    assert status == 200
    [att] = fake.sent_messages(USER)[0].attachments
    assert (att["filename"], att["size"]) == ("visit.ics", len(ics))
    async with http.get(att["payload"]["url"]) as resp:
        assert await resp.read() == ics
    async with http.post(endpoint["url"], data={"data": "again"}) as resp:  # one file per upload URL
        assert resp.status == 400

    _, photos = await upload(api, http, "image", b"\xff\xd8\xff\xe0jpeg", "p.jpg")
    [(photo_id, image_token)] = photos["photos"].items()
    assert (await api.send({"attachments": [{"type": "image", "payload": {"photos": photos["photos"]}}]}))[0] == 200
    assert fake.sent_messages(USER)[1].attachments[0]["payload"]["photo_id"] == int(photo_id)
    assert_error(await api.send({"attachments": [{"type": "file", "payload": image_token}]}), 400, "proto.payload",
                 "image used as file")
    assert_error(await api.send({"attachments": [{"type": "file", "payload": {"token": "forged"}}]}), 400,
                 "proto.payload", "unknown token")
    two_files = [{"type": "file", "payload": answer}] * 2
    assert_error(await api.send({"attachments": two_files}), 400, "proto.payload", "only one file")
    assert_error(await api("POST", "/uploads", params={"type": "photo"}), 400, "proto.payload", "type")

    token = (await api("POST", "/uploads", params={"type": "video"}))[1]["token"]  # given before the upload
    assert_error(await api.send({"attachments": [{"type": "video", "payload": {"token": token}}]}), 400,
                 "attachment.not.ready")
    fake.attachment_not_ready()
    assert_error(await api.send({"attachments": [{"type": "file", "payload": answer}]}), 400, "attachment.not.ready")
    assert (await api.send({"attachments": [{"type": "file", "payload": answer}]}))[0] == 200


async def test_failure_injection(api, fake, http):
    fake.fail_next("POST /messages", 429)
    assert_error(await api.send({"text": "t"}), 429, "too.many.requests")
    assert (await api.send({"text": "t"}))[0] == 200
    fake.fail_next("*", 503, count=2)
    assert_error(await api("GET", "/me"), 503, "service.unavailable")
    assert_error(await api.send({"text": "t"}), 503, "service.unavailable")
    fake.fail_next("GET /me", DROP, count=2)  # aiohttp itself retries a GET once
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api("GET", "/me")
    assert (await api("GET", "/me"))[0] == 200
    fake.fail_next("POST /messages", DROP)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.send({"text": "dropped"})
    fake.fail_next("POST /messages", LOST)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.send({"text": "lost answer"})
    assert [m.text for m in fake.sent_messages(USER)] == ["t", "lost answer"]  # sent, though the bot saw an error
    url = fake.add_file(b"data", "a.txt")
    fake.fail_next_download(404)
    async with http.get(url) as resp:
        assert resp.status == 404
    async with http.get(url) as resp:
        assert await resp.read() == b"data"
    assert [c.status for c in fake.calls_to("POST /messages")] == [429, 200, 503, DROP, LOST]


# ------------------------------------------------------------------ the real maxapi client


def make_bot(fake: FakeMax, token: str | None = None, **kwargs) -> Bot:
    bot = Bot(token or fake.token, after_input_media_delay=0.01, after_upload_retry_delay=0.01,
              default_connection=DefaultConnectionProperties(max_retries=2, retry_backoff_factor=0.01), **kwargs)
    bot.set_api_url(fake.base_url)  # the only URL setting; upload and file URLs come from the API
    return bot


@pytest.fixture
async def bot(fake):
    fake.queue_update(fake.bot_started(USER))
    client = make_bot(fake)
    yield client
    await client.close_session()


async def test_maxapi_sends_edits_answers_and_deletes(fake, bot):
    assert (await bot.get_me()).user_id == fake.bot_id
    kb = InlineKeyboardBuilder().row(CallbackButton(text="Да", payload="yes"), CallbackButton(text="Нет", payload="no"))
    kb.row(LinkButton(text="Сайт", url="https://max.ru"))
    sent = await bot.send_message(user_id=USER, text="<b>Подтвердить</b>?", format="html",
                                  attachments=[kb.as_markup()])
    [msg] = fake.sent_messages(USER)
    assert sent.message.body.mid == msg.mid and msg.text == "Подтвердить?"
    assert [[b["text"] for b in row] for row in msg.buttons] == [["Да", "Нет"], ["Сайт"]]
    assert fake.calls_to("POST /messages")[0].query == {"user_id": str(USER)}

    # maxapi always sends "attachments": [] on edit, so a text-only edit drops the keyboard
    await bot.edit_message(message_id=msg.mid, text="Точно?")
    assert (msg.text, msg.buttons, fake.calls_to("PUT /messages")[0].body["attachments"]) == ("Точно?", [], [])
    await bot.edit_message(message_id=msg.mid, text="Точно?", attachments=[kb.as_markup()])
    assert len(msg.buttons) == 2

    press = fake.queue_update(fake.message_callback(USER, "yes"))
    raw = await bot.get_updates(timeout=0)
    event = UpdateUnionAdapter.validate_python(raw["updates"][-1])  # typed, without any HTTP call
    assert (event.callback.callback_id, event.callback.payload) == (press["callback"]["callback_id"], "yes")
    await bot.send_callback(callback_id=event.callback.callback_id, notification="Принято",
                            message=MessageForCallback(text="Подтверждено", attachments=[]))
    assert fake.answers[-1]["notification"] == "Принято" and (msg.text, msg.buttons) == ("Подтверждено", [])

    deleted = await bot.delete_message(message_id=msg.mid)
    assert deleted.success and fake.sent_messages(USER) == []


async def test_maxapi_uploads_sends_and_downloads_files(fake, bot):
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    await bot.send_message(user_id=USER, text="Запись",
                           attachments=[InputMediaBuffer(ics, filename="visit", type=UploadType.FILE)])
    [att] = fake.sent_messages(USER)[0].attachments
    # upload_file_buffer appends the extension it detects: pass the name without one
    assert (att["type"], att["filename"], att["size"]) == ("file", "visit.ics", len(ics))
    assert await bot.download_bytes(att["payload"]["url"]) == ics
    await bot.send_message(user_id=USER, attachments=[InputMediaBuffer(ics, filename="visit.ics", type="file")])
    assert fake.sent_messages(USER)[1].attachments[0]["filename"] == "visit.ics.ics"
    # upload once, send later (the token does not expire); the server may still be processing it
    uploaded = await bot.upload_media(InputMediaBuffer(b"\xff\xd8\xff\xe0" + b"0" * 64, filename="photo"))
    assert uploaded.type == UploadType.IMAGE
    fake.attachment_not_ready()
    await bot.send_message(user_id=USER, attachments=[uploaded])  # maxapi retries attachment.not.ready
    assert [c.code for c in fake.calls_to("POST /messages")] == [None, None, "attachment.not.ready", None]
    assert fake.sent_messages(USER)[2].attachments[0]["type"] == "image"

    pdf = fake.file_attachment(b"%PDF-1.4 act", "act.pdf")
    fake.queue_update(fake.message_created(USER, "акт", [pdf]))
    raw = await bot.get_updates(timeout=0)
    [incoming] = [u for u in raw["updates"] if u["update_type"] == "message_created"]
    url = incoming["message"]["body"]["attachments"][0]["payload"]["url"]
    assert await bot.download_bytes(url) == b"%PDF-1.4 act"
    fake.fail_next_download(404)
    with pytest.raises(DownloadFileError):
        await bot.download_bytes(url)


async def test_maxapi_errors(fake, bot):
    wrong = make_bot(fake, token="wrong-token")
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await wrong.close_session()
    # maxapi refuses text of exactly the spec's maxLength itself (len(text) < 4000); the fake accepts it
    with pytest.raises(ValueError):
        await bot.send_message(user_id=USER, text="я" * SPEC_TEXT_MAX)
    long_label = InlineKeyboardBuilder().row(CallbackButton(text="x" * (BUTTON_TEXT_MAX + 1), payload="p"))
    with pytest.raises(MaxApiError) as caught:
        await bot.send_message(user_id=USER, text="t", attachments=[long_label.as_markup()])
    assert caught.value.code == 400 and caught.value.raw["code"] == "proto.payload"

    fake.fail_next("POST /messages", 429)
    with pytest.raises(MaxApiError) as caught:
        await bot.send_message(user_id=USER, text="t")
    assert (caught.value.code, caught.value.raw["code"]) == (429, "too.many.requests")
    fake.fail_next("POST /messages", 500)
    with pytest.raises(MaxApiError):
        await bot.send_message(user_id=USER, text="t")
    assert [c.status for c in fake.calls_to("POST /messages")] == [400, 429, 500]  # none of these retried

    fake.fail_next("POST /messages", 503, count=3)  # 502/503/504 are retried max_retries times
    with pytest.raises(MaxApiError) as caught:
        await bot.send_message(user_id=USER, text="t")
    assert caught.value.code == 503 and len(fake.calls_to("POST /messages")) == 6
    fake.fail_next("GET /me", DROP, count=6)  # aiohttp retries each GET once, maxapi 2 more times
    with pytest.raises(MaxConnection):
        await bot.get_me()
    # a retried POST whose answer was lost is sent twice: the API has no idempotency key
    fake.fail_next("POST /messages", LOST)
    await bot.send_message(user_id=USER, text="дважды")
    assert [m.text for m in fake.sent_messages(USER)] == ["дважды", "дважды"]
    # a request timeout is a bare TimeoutError, neither retried nor wrapped
    slow = Bot(fake.token, default_connection=DefaultConnectionProperties(timeout=0.5))
    slow.set_api_url(fake.base_url)
    with pytest.raises(TimeoutError):
        await slow.get_updates(timeout=5, marker=10**6)
    await slow.close_session()


async def test_maxapi_query_parameter_not_in_the_spec(fake):
    """Bot(disable_link_preview=...) adds it to POST /answers too, where the spec has no such parameter."""
    bot = make_bot(fake, disable_link_preview=True)
    fake.queue_update(fake.bot_started(USER))
    await bot.send_message(user_id=USER, text="https://max.ru")  # fine on POST /messages
    press = fake.queue_update(fake.message_callback(USER, "x", check_button=False))
    with pytest.raises(MaxApiError, match="disable_link_preview: unknown parameter"):
        await bot.send_callback(callback_id=press["callback"]["callback_id"], notification="ok")
    await bot.close_session()


async def test_own_poll_loop_commits_the_marker_after_handling(fake, bot):
    fake.reset()
    for text in ("one", "two"):
        fake.queue_update(fake.message_created(USER, text))
    first = await bot.get_updates(timeout=0, limit=100)
    assert [u["message"]["body"]["text"] for u in first["updates"]] == ["one", "two"]
    # crash before handling: a restarted client with the saved marker (none yet) gets them again
    restarted = make_bot(fake)
    again = await restarted.get_updates(timeout=0, marker=None)
    assert again["updates"] == first["updates"]
    # handled and saved: sending the marker back reads them
    fake.queue_update(fake.message_created(USER, "three"))
    after = await restarted.get_updates(timeout=0, marker=first["marker"])
    assert [u["message"]["body"]["text"] for u in after["updates"]] == ["three"]
    assert fake.calls_to("GET /updates")[-1].query == {"marker": str(first["marker"]), "timeout": "0"}
    await restarted.close_session()


async def test_dispatcher_commits_the_marker_even_when_a_handler_fails(fake, bot):
    dp = Dispatcher()
    seen: list[str] = []

    @dp.message_created()
    async def handler(event: MessageCreated) -> None:
        seen.append(event.message.body.text)
        if event.message.body.text == "boom":
            raise RuntimeError("handler failed")
        await event.message.answer(f"echo: {event.message.body.text}")

    fake.queue_update(fake.message_created(USER, "boom"))
    fake.queue_update(fake.message_created(USER, "hi"))
    task = asyncio.create_task(dp.start_polling(bot))
    await fake.wait_for_messages(1, USER)
    async with asyncio.timeout(5):
        while fake.polls_waiting == 0:
            await asyncio.sleep(0.01)
    await dp.stop_polling()
    await asyncio.wait_for(task, 5)
    assert seen == ["boom", "hi"] and [m.text for m in fake.sent_messages(USER)] == ["echo: hi"]
    routes = [c.route for c in fake.calls]
    assert routes[:3] == ["GET /subscriptions", "GET /me", "GET /updates"]
    # auto_requests: one GET /chats per event (bot_started from the fixture, boom, hi)
    assert routes.count(f"GET /chats/{fake.dialog_id(USER)}") == 3
    polls = [c.query.get("marker") for c in fake.calls_to("GET /updates")]
    assert polls[0] is None and polls[1] == "4"  # the failed "boom" is read all the same
    assert fake.pending_updates() == []


async def test_maxapi_webhook_receives_what_the_fake_posts(fake, bot):
    fake.allow_http_webhooks = True
    dp = Dispatcher()
    seen: list[str] = []

    @dp.message_created()
    async def handler(event: MessageCreated) -> None:
        seen.append(event.message.body.text)

    hook = AiohttpMaxWebhook(dp=dp, bot=bot, secret="s3cret-Value_1")
    runner = web.AppRunner(hook.create_app(path="/hook"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        with pytest.warns(UserWarning):  # maxapi warns about a plain http:// URL
            await bot.subscribe_webhook(url=url, update_types=["message_created"], secret="s3cret-Value_1")
        assert [s.url for s in (await bot.get_subscriptions()).subscriptions] == [url]
        fake.queue_update(fake.message_created(USER, "через вебхук"))
        assert await fake.deliver_webhooks() == [200]
        assert await fake.post_update_to(url, fake.message_created(USER, "forged"), secret="wrong-secret") == 403
        assert seen == ["через вебхук"]
        await bot.delete_webhook()
        assert fake.subscriptions == []
    finally:
        await runner.cleanup()
