"""The VK channel end to end: the real vkbottle client against the strict fake VK
(tests/fakes/vk_api.py), the real engine and a SQLite database, in Bots Long Poll and Callback
API mode. The fixtures and the `VKChat` driver here are shared by the other tests/test_vk_*.py."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import build_app
from channels.vk import VKChannel
from channels.vk.callback import CallbackConfigError
from core.events import Inbound
from storage.models import Appeal, ChannelCursor, Identity, ProcessedUpdate
from tests.conftest import make_settings
from tests.fakes.vk_api import FakeVK, post_event_to
from tests.journey import NUMBER_RE, ROOF_TEXT, submit_appeal

USER = 1001
SECRET = "cb-secret-9f2"
CONFIRMATION = "a1b2c3d4"
PLAIN_CLIENT = {"button_actions": ["text"], "keyboard": True, "inline_keyboard": False}


# ------------------------------------------------------------------ fixtures
@pytest.fixture
async def fake(tmp_path, monkeypatch):
    # vkbottle's BotPolling would write ./.vkbottle/ — run in tmp_path and check it never does.
    monkeypatch.chdir(tmp_path)
    vk = FakeVK()
    await vk.start()
    yield vk
    await vk.stop()
    assert not (tmp_path / ".vkbottle").exists(), "the channel wrote vkbottle's ts file"


def vk_settings(db_url: str, tmp_path: Path, fake: FakeVK, **extra):
    return make_settings(db_url, tmp_path, VK_GROUP_TOKEN=fake.token, VK_GROUP_ID=fake.group_id,
                         VK_API_URL=fake.api_url, **extra)


@pytest.fixture
def vk_extra():
    """Extra settings for the app (override in a test module or with indirect parametrisation)."""
    return {}


@pytest.fixture
async def vk_app(db_url, tmp_path, fake, clock, vk_extra):
    """The application on SQLite and on PostgreSQL (skipped with the reason when not reachable)."""
    application = await build_app(vk_settings(db_url, tmp_path, fake, **vk_extra), clock=clock)
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
    """A VKChannel in long-poll mode, as a task."""

    def __init__(self, channel: VKChannel, fake: FakeVK) -> None:
        self.channel, self.fake = channel, fake
        self.task: asyncio.Task | None = None

    async def start(self) -> Running:
        polls = len(self.fake.lp_requests)
        self.task = asyncio.create_task(self.channel.run_polling())
        await wait_until(lambda: len(self.fake.lp_requests) > polls or self.task.done(), what="first a_check")
        return self

    async def stop(self) -> None:
        await self.channel.stop()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def polling(vk_app, fake):
    running = await Running(VKChannel(vk_app, wait=5), fake).start()
    yield running.channel
    await running.stop()


class CallbackServer:
    """The channel's Callback API app served on 127.0.0.1."""

    def __init__(self, channel: VKChannel) -> None:
        self.channel = channel
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> CallbackServer:
        self.runner = web.AppRunner(self.channel.callback_app())
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{self.channel.settings.vk_callback_path}"
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()  # on_cleanup stops the channel


@pytest.fixture
async def callback(vk_app, fake):
    vk_app.channel_settings("vk").vk_callback_secret = SecretStr(SECRET)
    vk_app.channel_settings("vk").vk_confirmation_code = CONFIRMATION
    server = await CallbackServer(VKChannel(vk_app)).start()
    yield server
    await server.stop()


class VKChat:
    """A VK user driving the bot: same interface as tests.conftest.Chat, so tests/journey.py runs
    over VK. Buttons are pressed the way the VK client does: a callback button sends a
    message_event with its payload, a text button a message with its label and payload; with
    `typed=True` the label is typed without a payload (a client without keyboards)."""

    def __init__(self, fake: FakeVK, channel: VKChannel, user_id: int = USER, *, client_info: dict | None = None,
                 callback_url: str | None = None, typed: bool = False) -> None:
        self.fake, self.channel, self.user_id = fake, channel, user_id
        self.client_info, self.callback_url, self.typed = client_info, callback_url, typed
        self.replies: list[dict] = []  # messages sent in answer to the last action
        self.presses = 0

    # -- sending
    async def push(self, event: dict) -> list[dict]:
        before = len(self.fake.sent_messages(self.user_id))
        target = self.channel.stats.handled + 1
        if self.callback_url:
            status, body = await post_event_to(self.callback_url, event, SECRET)
            assert (status, body) == (200, "ok")
        else:
            self.fake.push_event(event)
        await wait_until(lambda: self.channel.stats.handled >= target, what=f"event {event['type']} handled")
        self.replies = self.fake.sent_messages(self.user_id)[before:]
        return self.replies

    async def send(self, text: str = "", payload=None, attachments: list | None = None) -> str:
        await self.push(self.fake.make_message_new(self.user_id, text, payload, attachments, self.client_info))
        return self.text

    async def command(self, name: str, argument: str | None = None) -> str:
        return await self.send(f"/{name}" + (f" {argument}" if argument else ""))

    async def say(self, text: str) -> str:
        return await self.send(text)

    def button(self, label: str) -> tuple[dict, dict]:
        for msg in reversed(self.fake.sent_messages(self.user_id)):
            if msg["keyboard"] and msg["keyboard"]["buttons"]:
                for row in msg["keyboard"]["buttons"]:
                    for b in row:
                        if b["action"]["label"] == label or b["action"]["label"].startswith(label):
                            return msg, b["action"]
                raise AssertionError(f"no button {label!r} in {self.labels}")
        raise AssertionError("no keyboard yet")

    async def press(self, label: str) -> str:
        msg, action = self.button(label)
        self.presses += 1
        if self.typed:
            return await self.send(action["label"])
        if action["type"] == "callback":
            event = self.fake.make_callback(self.user_id, msg["peer_id"], json.loads(action["payload"]),
                                            msg["conversation_message_id"])
            await self.push(event)
            return self.text
        return await self.send(action["label"], payload=action.get("payload"))

    async def press_payload(self, payload) -> str:
        """A callback press with any payload (forged or stale)."""
        msg = self.fake.sent_messages(self.user_id)[-1]
        await self.push(self.fake.make_callback(self.user_id, msg["peer_id"], payload, msg["conversation_message_id"]))
        return self.text

    # -- what the user sees
    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.replies)

    @property
    def keyboard(self) -> dict | None:
        for msg in reversed(self.fake.sent_messages(self.user_id)):
            if msg["keyboard"] is not None:
                return msg["keyboard"]
        return None

    @property
    def labels(self) -> list[str]:
        kb = self.keyboard
        return [b["action"]["label"] for row in (kb["buttons"] if kb else []) for b in row]


async def rows(app, stmt):
    async with app.sessionmaker() as s:
        return (await s.execute(stmt)).scalars().all()


def assert_sent_properly(fake: FakeVK) -> None:
    """Every message carried its own non-zero random_id; no keyboard broke VK's limits."""
    sent = fake.sent_messages()
    assert sent and all(m["random_id"] > 0 for m in sent)
    assert len({(m["peer_id"], m["random_id"]) for m in sent}) == len(sent)
    assert all(len(m["text"]) <= 4096 for m in sent)
    for m in sent:
        for row in (m["keyboard"] or {}).get("buttons", []):
            for b in row:
                assert len(b["action"]["label"]) <= 40
                assert len(b["action"].get("payload", "")) <= 255


# ------------------------------------------------------------------ the appeal journey
async def check_registered(app, chat: VKChat, final: str) -> Appeal:
    assert "Обращение зарегистрировано" in final, final
    assert NUMBER_RE.search(final)
    [appeal] = await rows(app, select(Appeal))
    assert appeal.text == ROOF_TEXT and appeal.source_channel == "vk" and appeal.extra_channel == "vk"
    [identity] = await rows(app, select(Identity))
    assert (identity.channel, identity.external_id) == ("vk", str(USER))
    return appeal


async def test_appeal_journey_long_poll_with_callback_buttons_R_2_1_R_2_2(fake, vk_app, polling):
    """R-2.1, R-2.2: the whole appeal from VK, the answer to e-mail (the mandatory channel) and VK,
    the messenger written from, as the additional one.
    Inline keyboards with callback buttons; each press answered with sendMessageEventAnswer."""
    chat = VKChat(fake, polling)
    final = await submit_appeal(chat)
    await check_registered(vk_app, chat, final)
    keyboards = [m["keyboard"] for m in fake.sent_messages() if m["keyboard"]]
    assert keyboards and all(kb.get("inline") for kb in keyboards)
    assert {b["action"]["type"] for kb in keyboards for row in kb["buttons"] for b in row} == {"callback"}
    assert len(fake.event_answers) == chat.presses  # every spinner stopped
    assert len(fake.calls_to("messages.send")) == len(fake.sent_messages())  # no retries needed
    assert_sent_properly(fake)
    assert chat.channel.stats.errors == 0


async def test_appeal_journey_plain_keyboard_client_typing_labels_R_2_1(fake, vk_app, polling):
    """R-2.1: a client without inline/callback support gets ordinary one-time keyboards with text
    buttons; typing a button's label works like pressing it."""
    chat = VKChat(fake, polling, client_info=PLAIN_CLIENT, typed=True)
    final = await submit_appeal(chat)
    await check_registered(vk_app, chat, final)
    keyboards = [m["keyboard"] for m in fake.sent_messages() if m["keyboard"] and m["keyboard"]["buttons"]]
    assert keyboards and all(kb.get("one_time") and not kb.get("inline") for kb in keyboards)
    assert {b["action"]["type"] for kb in keyboards for row in kb["buttons"] for b in row} == {"text"}
    assert fake.event_answers == []
    assert_sent_properly(fake)


async def test_plain_keyboard_buttons_carry_payloads(fake, vk_app, polling):
    """A text button press arrives as a message with our payload: the label does not matter."""
    chat = VKChat(fake, polling, client_info=PLAIN_CLIENT)
    await chat.command("start")
    text = await chat.press("Подать обращение")
    assert "Шаг 1 из 8" in text
    msg, action = chat.button("Содержание дома")
    text = await chat.send("совсем другой текст", payload=action["payload"])
    assert "Шаг 2 из 8" in text


async def test_appeal_journey_callback_api_R_2_1(fake, vk_app, callback):
    """R-2.1: the same journey with VK posting events to our Callback API endpoint."""
    chat = VKChat(fake, callback.channel, callback_url=callback.url)
    final = await submit_appeal(chat)
    await check_registered(vk_app, chat, final)
    assert fake.lp_requests == []  # no long poll in this mode
    assert len(fake.event_answers) == chat.presses
    assert_sent_properly(fake)


# ------------------------------------------------------------------ Callback API
async def test_callback_api_confirmation_and_secret(fake, vk_app, callback):
    status, body = await post_event_to(callback.url, fake.confirmation_event(), SECRET)
    assert (status, body) == (200, CONFIRMATION)
    assert (await post_event_to(callback.url, fake.confirmation_event(), "wrong"))[0] == 403
    for secret in ("wrong", None):
        status, body = await post_event_to(callback.url, fake.make_message_new(USER, "/start"), secret)
        assert status == 403 and body != "ok"
    other_group = {**fake.make_message_new(USER, "/start"), "group_id": fake.group_id + 1}
    assert (await post_event_to(callback.url, other_group, SECRET))[0] == 403
    async with aiohttp.ClientSession() as s, s.post(callback.url, data=b"not json") as resp:
        assert resp.status == 403  # no secret in it: refused before parsing
    async with aiohttp.ClientSession() as s, s.post(callback.url, data=f"not json {SECRET}".encode()) as resp:
        assert resp.status == 400
    await asyncio.sleep(0.1)
    assert callback.channel.stats.received == 0 and fake.sent_messages() == []
    assert await rows(vk_app, select(ProcessedUpdate)) == []
    status, body = await post_event_to(callback.url, fake.make_message_new(USER, "/start"), SECRET)
    assert (status, body) == (200, "ok")
    await wait_until(lambda: len(fake.sent_messages(USER)) == 1)
    assert "Здравствуйте" in fake.sent_messages(USER)[0]["text"]


async def test_callback_api_answers_ok_before_handling(fake, vk_app, callback, monkeypatch):
    """The answer does not wait for the engine, so VK never times out."""
    gate = asyncio.Event()
    real = vk_app.engine.handle

    async def slow(*a, **kw):
        await gate.wait()
        return await real(*a, **kw)

    monkeypatch.setattr(vk_app.engine, "handle", slow)
    status, body = await asyncio.wait_for(post_event_to(callback.url, fake.make_message_new(USER, "/start"), SECRET), 2)
    assert (status, body) == (200, "ok") and fake.sent_messages() == []
    gate.set()
    await wait_until(lambda: len(fake.sent_messages(USER)) == 1)


async def test_callback_mode_refuses_to_start_without_secret(fake, vk_app):
    channel = VKChannel(vk_app)
    vk_app.channel_settings("vk").vk_confirmation_code = CONFIRMATION
    with pytest.raises(CallbackConfigError, match="VK_CALLBACK_SECRET"):
        channel.callback_app()
    vk_app.channel_settings("vk").vk_callback_secret = SecretStr(SECRET)
    vk_app.channel_settings("vk").vk_confirmation_code = None
    with pytest.raises(CallbackConfigError, match="VK_CONFIRMATION_CODE"):
        channel.callback_app()
    await channel.stop()


# ------------------------------------------------------------------ once and only once
async def test_repeated_event_id_is_processed_once_long_poll(fake, vk_app, polling):
    event = fake.make_message_new(USER, "/start")
    fake.push_event(event)
    fake.push_event(event)
    await wait_until(lambda: polling.stats.handled + polling.stats.repeats >= 2)
    await asyncio.sleep(0.1)
    assert len(fake.sent_messages(USER)) == 1
    assert len(await rows(vk_app, select(ProcessedUpdate))) == 1


async def test_repeated_event_id_is_processed_once_callback_api(fake, vk_app, callback):
    event = fake.make_message_new(USER, "/start")
    for _ in range(3):  # VK retries when it thinks we did not answer
        assert await post_event_to(callback.url, event, SECRET) == (200, "ok")
    await wait_until(lambda: callback.channel.stats.handled >= 1)
    await asyncio.sleep(0.1)
    assert len(fake.sent_messages(USER)) == 1 and callback.channel.stats.repeats == 2


async def test_repeat_after_restart_is_refused_by_the_database(fake, vk_app):
    """A second process (no in-memory memory of the id) still handles the event once."""
    event = fake.make_message_new(USER, "/start")
    for _ in range(2):
        channel = VKChannel(vk_app)
        channel.accept(event)
        await channel.idle()
        await channel.stop()
    assert len(fake.sent_messages(USER)) == 1
    assert channel.stats.repeats == 1


# ------------------------------------------------------------------ buttons and commands
@pytest.mark.parametrize("payload", [
    {"p": "sum:send"},  # a real payload shape, but not offered on this screen
    {"cmd": "buy"},  # a foreign shape
    "not json at all",
    {"p": 12},
])
async def test_forged_or_malformed_payload_is_out_of_date(fake, vk_app, polling, payload):
    chat = VKChat(fake, polling)
    await chat.command("start")
    await chat.press("Подать обращение")
    text = await chat.press_payload(payload)
    assert "Эта кнопка устарела" in text
    assert "Шаг 1 из 8" in text and "Содержание дома" in chat.labels  # the current step again
    text = await chat.send("", payload=payload if isinstance(payload, str) else json.dumps(payload))
    assert "Эта кнопка устарела" in text
    assert await rows(vk_app, select(Appeal)) == []
    assert polling.stats.errors == 0


async def test_commands_and_the_start_button(fake, vk_app, polling):
    chat = VKChat(fake, polling)
    assert "Здравствуйте" in await chat.send("Начать", payload={"command": "start"})
    assert "Здравствуйте" in await chat.command("start")
    assert "Шаг 1 из 8" in await chat.command("start", "appeal")
    assert "Что вы хотите сделать?" in await chat.command("menu")
    assert "Команды:" in await chat.command("help")
    await submit_appeal(chat)
    [appeal] = await rows(vk_app, select(Appeal))
    assert "Статус: зарегистрировано" in await chat.send(f"/STATUS {appeal.number.lower()}")
    assert "Что вы хотите сделать?" in await chat.send("/menu")
    text = await chat.send("/unknown thing")  # an unknown command gets a hint, never becomes text
    assert "Такой команды нет" in text


async def test_help_screen_with_many_rows_fits_the_inline_limits(fake, vk_app, polling):
    """The help screen has more rows than an inline keyboard allows (6): rows are joined."""
    chat = VKChat(fake, polling)
    await chat.command("start")
    await chat.press("Справка и контакты")
    kb = chat.keyboard
    assert kb["inline"] and len(kb["buttons"]) <= 6
    assert len(chat.labels) == len(vk_app.profile.faq) + 2
    text = await chat.press(vk_app.profile.faq[0].question)
    assert vk_app.profile.faq[0].answer[:30] in text


# ------------------------------------------------------------------ order and errors
async def test_events_of_one_peer_in_order_other_peers_concurrently(fake, vk_app, polling):
    chat = VKChat(fake, polling)
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    others = [fake.make_message_new(2000 + i, "/start") for i in range(20)]
    mine = [fake.make_message_new(USER, f"часть {i}") for i in range(1, 6)]
    start = polling.stats.handled
    for i, event in enumerate(others):
        fake.push_event(event)
        if i < len(mine):
            fake.push_event(mine[i])
    await wait_until(lambda: polling.stats.handled >= start + 25)
    await chat.press("Далее")
    await chat.say("Иванова Мария")
    await chat.press("Электронная почта")
    await chat.say("a@example.ru")
    await chat.press("Да, дублировать сюда")
    text = await chat.press("Понятно, дальше")
    assert "часть 1\n\nчасть 2\n\nчасть 3\n\nчасть 4\n\nчасть 5" in text
    assert all(len(fake.sent_messages(2000 + i)) == 1 for i in range(20))


async def test_engine_error_is_logged_with_event_id_and_apologised(fake, vk_app, polling, monkeypatch, caplog):
    chat = VKChat(fake, polling)
    await chat.command("start")
    real = vk_app.engine.handle

    async def broken(event, **kw):
        if event.text == "boom":
            raise RuntimeError("engine exploded")
        return await real(event, **kw)

    monkeypatch.setattr(vk_app.engine, "handle", broken)
    event = fake.make_message_new(USER, "boom")
    with caplog.at_level(logging.ERROR):
        await chat.push(event)
    assert "Извините, что-то пошло не так" in chat.text and "Что вы хотите сделать?" in chat.text
    assert "Подать обращение" in chat.labels
    assert event["event_id"] in caplog.text and "engine exploded" in caplog.text
    assert polling.stats.errors == 1
    assert "Шаг 1 из 8" in await chat.press("Подать обращение")  # the bot carries on


# ------------------------------------------------------------------ no lost messages
async def test_restart_processes_messages_written_while_down(fake, vk_app):
    """The long-poll ts lives in the database (channel_cursors), not in ./.vkbottle/."""
    first = await Running(VKChannel(vk_app, wait=5), fake).start()
    chat = VKChat(fake, first.channel)
    await chat.command("start")
    await chat.press("Подать обращение")
    await first.stop()
    [cursor] = await rows(vk_app, select(ChannelCursor))
    assert (cursor.channel, cursor.name) == ("vk", "lp_ts") and int(cursor.value) == fake._next_ts

    waiting = [fake.push_message(USER, "/menu"), fake.push_message(USER + 1, "/start"),
               fake.push_message(USER + 2, "/help")]
    sent_before = len(fake.sent_messages())
    second = await Running(VKChannel(vk_app, wait=5), fake).start()
    await wait_until(lambda: second.channel.stats.handled >= len(waiting))
    texts = [m["text"] for m in fake.sent_messages()[sent_before:]]
    assert len(texts) == 3 and any("Команды:" in t for t in texts)
    await second.stop()
    [cursor] = await rows(vk_app, select(ChannelCursor))
    assert int(cursor.value) == fake._next_ts


async def test_first_start_saves_the_position_at_once(fake, vk_app):
    """Even if the first run stops before any message, what is written afterwards is not skipped."""
    first = await Running(VKChannel(vk_app, wait=5), fake).start()
    await wait_until(lambda: first.channel.runner.saved_ts is not None)
    await first.stop()
    fake.push_message(USER, "/start")
    second = await Running(VKChannel(vk_app, wait=5), fake).start()
    await wait_until(lambda: len(fake.sent_messages(USER)) == 1)
    await second.stop()


@pytest.mark.parametrize("code", [1, 2, 3])
async def test_long_poll_failures_are_recovered(fake, vk_app, polling, code):
    chat = VKChat(fake, polling)
    assert "Здравствуйте" in await chat.command("start")
    polls = len(fake.calls_to("groups.getLongPollServer"))
    fake.lp_fail_next(code)
    fake.release_long_polls()
    await wait_until(lambda: not fake._lp_failures)
    assert "Что вы хотите сделать?" in await chat.command("menu")
    assert len(fake.calls_to("groups.getLongPollServer")) == polls + (code != 1)


async def test_vk_unreachable_at_start_is_retried(fake, vk_app):
    fake.fail_next("groups.getLongPollServer", 10, count=2)
    running = await Running(VKChannel(vk_app, wait=5), fake).start()
    chat = VKChat(fake, running.channel)
    assert "Здравствуйте" in await chat.command("start")
    await running.stop()


# ------------------------------------------------------------------ linking
async def test_linking_telegram_and_vk_with_a_code_R_2_1(fake, vk_app, polling):
    """R-2.1: one person, two messengers: a code shown in Telegram and typed as /link CODE in VK
    joins the identities; the VK side then sees the Telegram appeals."""
    await vk_app.engine.handle(Inbound("telegram", "555", command="start"))
    await vk_app.engine.handle(Inbound("telegram", "555", button="menu:settings"))
    [shown] = await vk_app.engine.handle(Inbound("telegram", "555", button="set:link"))
    code = shown.text.split("/link ", 1)[1].split()[0]
    assert len(code.replace("-", "")) == 8

    chat = VKChat(fake, polling)
    assert "Связать этот чат (ВКонтакте)" in await chat.command("link", code)
    text = await chat.say("Связать")
    assert "мессенджеры связаны" in text and "Telegram" in text and "ВКонтакте" in text
    identities = await rows(vk_app, select(Identity).order_by(Identity.channel))
    assert [i.channel for i in identities] == ["telegram", "vk"]
    assert identities[0].citizen_id == identities[1].citizen_id
    assert "не подошёл" in await chat.command("link", code)  # one use only
