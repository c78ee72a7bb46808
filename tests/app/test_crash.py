"""Issue 10, item 1: a real bot process killed with SIGKILL mid-stream, or stopped with SIGTERM
with a backlog, in every intake mode: after a restart every citizen message is answered, none
twice. 20 citizens write /menu three times each (60 messages); the process dies after the
first replies."""
from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest

from tests.app.crash_harness import MENU, BotProcess, Poster, free_port, kill_signal, tally, until
from tests.fakes.max_api import FakeMax
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.vk_api import FakeVK, post_event_to

CHATS = list(range(1001, 1021))
PER_CHAT = 3
TOTAL = len(CHATS) * PER_CHAT
FIRST = 6  # replies seen before the process is stopped
SECRET = "crash-test-secret"
RESULTS: dict[str, tuple[int, int]] = {}


async def crash_and_restart(tmp_path, env, how, replies, deliver=None) -> tuple[int, int]:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db", **env}
    first = BotProcess(tmp_path, env)
    await first.start()
    poster = asyncio.create_task(deliver()) if deliver else None
    try:
        await until(lambda: sum(replies().values()) >= FIRST, 90, "the first replies", first)
        await first.kill(kill_signal(how))
        second = BotProcess(tmp_path, env)
        await second.start()
        try:
            await until(lambda: sum(replies().values()) >= TOTAL, 60, "every reply", second)
        except AssertionError as e:
            raise AssertionError(f"(lost, answered twice) = {tally(replies(), PER_CHAT, CHATS)}: {e}") from None
        await asyncio.sleep(1.5)  # time for a duplicate to show up
        await second.kill(signal.SIGTERM)
        if poster:
            await asyncio.wait_for(poster, 10)
    finally:
        if poster and not poster.done():
            poster.cancel()
    return tally(replies(), PER_CHAT, CHATS)


def report(mode: str, how: str, lost: int, twice: int) -> None:
    RESULTS[f"{mode} {how}"] = (lost, twice)
    print(f"\n{mode}, {'kill -9' if how == 'kill' else 'SIGTERM'} after {FIRST} of {TOTAL}: "
          f"{lost} lost, {twice} answered twice")


def in_flight_bound(how: str) -> int:
    """Telegram and MAX have no idempotency key: a reply sent but not yet recorded as shown when the
    process dies is sent again after the restart (the replies in flight at that moment, one per
    busy chat at most). A graceful stop finishes what it sends: none."""
    return 0 if how == "term" else len(CHATS)


def tg_replies(tg: FakeTelegram):
    return lambda: Counter({c: sum(MENU in (m.text or "") for m in tg.sent_messages(c)) for c in CHATS})


def vk_replies(vk: FakeVK):
    return lambda: Counter({c: sum(MENU in m["text"] for m in vk.sent_messages(c)) for c in CHATS})


@pytest.mark.parametrize("how", ["kill", "term"])
async def test_telegram_polling_loses_nothing_on_a_crash(tmp_path, how):
    tg = FakeTelegram()
    await tg.start()
    try:
        for _ in range(PER_CHAT):
            for chat in CHATS:
                tg.queue_update(tg.message_update(chat, "/menu"))
        lost, twice = await crash_and_restart(
            tmp_path, {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url}, how, tg_replies(tg))
    finally:
        await tg.stop()
    report("Telegram polling", how, lost, twice)
    assert lost == 0 and twice <= in_flight_bound(how)


@pytest.mark.parametrize("how", ["kill", "term"])
async def test_telegram_webhook_loses_nothing_on_a_crash(tmp_path, how):
    tg = FakeTelegram()
    await tg.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    updates = {c: [tg._with_update_id(tg.message_update(c, "/menu")) for _ in range(PER_CHAT)] for c in CHATS}
    poster = Poster(lambda u: tg.post_update_to(url, u, SECRET))
    env = {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url,
           "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook", "TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
           "TELEGRAM_WEBHOOK_PORT": str(port), "TELEGRAM_WEBHOOK_SECRET": SECRET}
    try:
        lost, twice = await crash_and_restart(tmp_path, env, how, tg_replies(tg), lambda: poster.deliver(updates))
    finally:
        await tg.stop()
    report("Telegram webhook", how, lost, twice)
    assert lost == 0 and twice <= in_flight_bound(how)


def vk_env(vk: FakeVK) -> dict[str, str]:
    return {"VK_GROUP_TOKEN": vk.token, "VK_GROUP_ID": str(vk.group_id), "VK_API_URL": vk.api_url}


@pytest.mark.parametrize("how", ["kill", "term"])
async def test_vk_long_poll_loses_nothing_on_a_crash(tmp_path, how):
    vk = FakeVK()
    await vk.start()

    async def push_once_polling() -> None:  # a first start begins at VK's current ts
        await until(lambda: vk.lp_requests, 60, "long polling")
        for _ in range(PER_CHAT):
            for chat in CHATS:
                vk.push_message(chat, "/menu")

    try:
        lost, twice = await crash_and_restart(tmp_path, vk_env(vk), how, vk_replies(vk), push_once_polling)
    finally:
        await vk.stop()
    report("VK Long Poll", how, lost, twice)
    assert (lost, twice) == (0, 0)


@pytest.mark.parametrize("how", ["kill", "term"])
async def test_vk_callback_api_loses_nothing_on_a_crash(tmp_path, how):
    vk = FakeVK()
    await vk.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/vk/callback"
    events = {c: [vk.make_message_new(c, "/menu") for _ in range(PER_CHAT)] for c in CHATS}

    async def post(event):
        return (await post_event_to(url, event, SECRET))[0]

    env = {**vk_env(vk), "VK_CALLBACK_SECRET": SECRET, "VK_CONFIRMATION_CODE": "abc123",
           "VK_CALLBACK_HOST": "127.0.0.1", "VK_CALLBACK_PORT": str(port)}
    try:
        lost, twice = await crash_and_restart(tmp_path, env, how, vk_replies(vk), lambda: Poster(post).deliver(events))
    finally:
        await vk.stop()
    report("VK Callback API", how, lost, twice)
    assert (lost, twice) == (0, 0)


def max_replies(fake: FakeMax):
    return lambda: Counter({c: sum(MENU in (m.text or "") for m in fake.sent_messages(c)) for c in CHATS})


def max_env(fake: FakeMax) -> dict[str, str]:
    return {"MAX_BOT_TOKEN": fake.token, "MAX_API_URL": fake.base_url}


@pytest.mark.parametrize("how", ["kill", "term"])
async def test_max_polling_loses_nothing_on_a_crash(tmp_path, how):
    fake = FakeMax()
    await fake.start()
    try:
        for _ in range(PER_CHAT):
            for chat in CHATS:
                fake.queue_update(fake.message_created(chat, "/menu"))
        lost, twice = await crash_and_restart(tmp_path, max_env(fake), how, max_replies(fake))
    finally:
        await fake.stop()
    report("MAX polling", how, lost, twice)
    assert lost == 0 and twice <= in_flight_bound(how)


@pytest.mark.parametrize("how", ["kill", "term"])
async def test_max_webhook_loses_nothing_on_a_crash(tmp_path, how):
    fake = FakeMax(allow_http_webhooks=True)
    await fake.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/max/webhook"
    updates = {c: [fake.message_created(c, "/menu") for _ in range(PER_CHAT)] for c in CHATS}
    poster = Poster(lambda u: fake.post_update_to(url, u, SECRET))
    env = {**max_env(fake), "MAX_WEBHOOK_URL": url, "MAX_WEBHOOK_HOST": "127.0.0.1",
           "MAX_WEBHOOK_PORT": str(port), "MAX_WEBHOOK_SECRET": SECRET}
    try:
        lost, twice = await crash_and_restart(tmp_path, env, how, max_replies(fake), lambda: poster.deliver(updates))
    finally:
        await fake.stop()
    report("MAX webhook", how, lost, twice)
    assert lost == 0 and twice <= in_flight_bound(how)
