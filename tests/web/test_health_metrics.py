"""/health, /ready and /metrics of the assistant's web server over real HTTP on 127.0.0.1
(issue 17 item 4): readiness names what is not ready, the metrics count what the engine and the
outbox really did, and no label or value carries a person's data."""
from __future__ import annotations

import asyncio
import itertools
import socket
from datetime import timedelta

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_app
from bot.runner import build_web, make_sender, run_channels
from channels.telegram import TelegramChannel
from storage import migrate
from tests.channels.vk.test_vk_channel import wait_until
from tests.conftest import Chat, make_settings
from tests.consult_helpers import add_member
from tests.fakes.telegram_api import FakeTelegram
from tests.journey import ROOF_TEXT, submit_appeal
from web.server import serve

NAME, EMAIL = "Иванова Мария Петровна", "ivanova@example.ru"
LABELS = {"channel", "lane", "outcome", "status", "le"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostChat(Chat):
    """A person whose every event enters through App.handle, the adapters' host entry, with an
    update id as a platform gives one."""

    ids = itertools.count(1)

    async def _send(self, *, update_key: str | None = None, **kw):
        from core.events import Inbound

        key = update_key or f"{self.channel}-{next(self.ids)}"
        self.keys = [*getattr(self, "keys", []), key]
        replies = await self.app.handle(Inbound(self.channel, self.user_id, **kw), update_key=key)
        if replies is not None:
            self.last, self.all = replies[-1], replies
        return replies


class Site:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    async def get(self, path: str) -> tuple[int, str, str]:
        async with ClientSession() as http, http.get(self.base + path) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.text()

    async def json(self, path: str) -> tuple[int, dict]:
        async with ClientSession() as http, http.get(self.base + path) as r:
            return r.status, await r.json()


async def started(app) -> tuple[Site, asyncio.Event, asyncio.Task]:
    """The runner's web application (build_web) served on 127.0.0.1 as the runner serves it."""
    stop, up = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(build_web(app), "127.0.0.1", app.settings.http_port, stop, up))
    await asyncio.wait_for(up.wait(), 10)
    return Site(app.settings.http_port), stop, task


@pytest.fixture
async def web_app(db_url, tmp_path, clock):
    application = await build_app(make_settings(db_url, tmp_path, HTTP_PORT=free_port()), clock=clock)
    site, stop, task = await started(application)
    try:
        yield application, site
    finally:
        stop.set()
        await task
        await application.close()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


async def test_health_is_liveness_only(web_app):
    """Issue 17 item 4: /health answers 200 «ok» whatever the readiness."""
    app, site = web_app
    app.readiness.expect("vk")  # not ready, yet alive
    assert (await site.get("/health"))[::2] == (200, "ok")


async def test_ready_when_the_database_is_at_head_and_not_when_a_channel_has_not_started(web_app):
    """Issue 17 item 4: /ready is 200 at the head migration with every channel serving, and 503
    naming the channel that has not started or has stopped."""
    app, site = web_app
    status, body = await site.json("/ready")
    assert status == 200, body
    assert body["ready"] is True and body["database"] == "ok" and body["migrations"] == "ok"

    app.readiness.expect("telegram")
    status, body = await site.json("/ready")
    assert status == 503
    assert body["not_ready"] == ["channel telegram"] and body["channels"] == {"telegram": "not started"}

    running = [True]
    app.readiness.serving("telegram", lambda: running[0])
    assert (await site.json("/ready"))[0] == 200
    running[0] = False  # its task ended
    status, body = await site.json("/ready")
    assert status == 503 and body["channels"] == {"telegram": "stopped"}


async def test_not_ready_while_the_migrations_are_behind(tmp_path, clock):
    """Issue 17 item 4: a database one migration behind the code is not ready, and the body says
    at which revision it is and which is the head."""
    app = await build_app(make_settings(f"sqlite+aiosqlite:///{tmp_path}/behind.db", tmp_path,
                                        HTTP_PORT=free_port()), clock=clock)
    site, stop, task = await started(app)
    try:
        assert (await site.json("/ready"))[0] == 200
        await migrate.downgrade(app.db, "-1")
        status, body = await site.json("/ready")
        assert status == 503 and body["not_ready"] == ["migrations"] and body["database"] == "ok"
        [head] = migrate.heads()
        assert body["migrations"].endswith(f"head {head}") and not body["migrations"].startswith(f"at {head}")
        await migrate.upgrade(app.db)
        assert (await site.json("/ready"))[0] == 200
    finally:
        stop.set()
        await task
        await app.close()


async def test_not_ready_when_the_database_does_not_answer(tmp_path, clock):
    """Issue 17 item 4: a PostgreSQL that does not answer: 503 «database», and no host or user
    name from the driver's message in the body."""
    dead = f"postgresql+asyncpg://assistant:secret-pw@127.0.0.1:{free_port()}/assistant"
    app = await build_app(make_settings(dead, tmp_path, HTTP_PORT=free_port()), upgrade=False, clock=clock)
    site, stop, task = await started(app)
    try:
        status, body = await site.json("/ready")
        assert status == 503 and body["not_ready"] == ["database"]
        assert body["database"].startswith("unreachable") and "secret" not in str(body) and "assistant" not in str(body)
        assert (await site.get("/health"))[0] == 200
        status, _, text = await site.get("/metrics")  # the counters are served without the database
        assert status == 200 and "assistant_scrape_errors_total 1.0" in text
    finally:
        stop.set()
        await task
        await app.close()


async def test_ready_under_the_runner_names_its_channels(tmp_path, monkeypatch, clock):
    """Issue 17 item 4: under `python -m bot run` (bot/runner.py) /ready lists the channels the
    runner started and answers 200 while they serve."""
    monkeypatch.chdir(tmp_path)
    tg = FakeTelegram()
    await tg.start()
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/run.db", tmp_path, TELEGRAM_BOT_TOKEN=tg.token,
                             TELEGRAM_API_URL=tg.base_url, HTTP_PORT=free_port())
    app = await build_app(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_channels(app, stop))
    site = Site(settings.http_port)
    try:
        await wait_until(lambda: any(c.method == "getUpdates" for c in tg.requests), what="polling")
        for _ in range(200):
            try:
                status, body = await site.json("/ready")
                break
            except OSError:
                await asyncio.sleep(0.05)
        assert status == 200, body
        assert body["channels"] == {"telegram": "serving"}
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await app.close()
        await tg.stop()


async def test_metrics_count_real_events_and_carry_no_personal_data(web_app, clock, tmp_path):
    """Issue 17 item 4: after an appeal, a duplicate update, a citizen waiting for a specialist, a
    429 from Telegram and a retry, /metrics gives the counts per channel, the latency histogram,
    the outbox depth per channel and lane, the oldest due notice's age, open consultations and
    overdue appeals — and neither the name, the e-mail, the text nor a user id appears."""
    app, site = web_app
    officer = HostChat(app, "9002", "telegram")
    await add_member(app, "Сидоров Б. Б.", "telegram", "9002")
    await officer.command("start")
    await officer.press("Встать на линию")
    citizen = HostChat(app, "1001", "telegram")
    await submit_appeal(citizen, name=NAME, email=EMAIL)
    events = len(officer.keys) + len(citizen.keys)
    assert await citizen._send(command="menu", update_key=citizen.keys[0]) is None  # a platform's resend
    waiting = HostChat(app, "1002", "vk")
    await waiting.command("start")
    assert "ваш номер — 1" in (await waiting.press("Связаться со специалистом"))
    # The officer is told in Telegram through the outbox; Telegram answers 429 first.
    fake = FakeTelegram()
    await fake.start()
    for chat_id in (9002, 1001):
        fake.add_chat(chat_id)
    channel = TelegramChannel(app, make_settings(app.settings.database_url, tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                                                 TELEGRAM_API_URL=fake.base_url).channel("telegram"))
    try:
        sender = make_sender(app, {"telegram": channel.deliverer})
        fake.fail_next("sendMessage", 429, retry_after=2)
        await sender.drain()
        clock.now += timedelta(seconds=3)
        await sender.drain()
        assert fake.sent_messages(9002)
    finally:
        await channel.bot.session.close()
        await fake.stop()
    clock.now += timedelta(days=40)  # the appeal's deadline (02.04.2026) has passed

    status, content_type, text = await site.get("/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    found = samples(text)
    assert value(found, "assistant_updates_total", channel="telegram", outcome="ok") == events
    assert value(found, "assistant_updates_total", channel="telegram", outcome="duplicate") == 1
    assert value(found, "assistant_updates_total", channel="vk", outcome="ok") == 2
    assert value(found, "assistant_update_seconds_count", channel="telegram") == events + 1
    assert value(found, "assistant_update_seconds_bucket", channel="vk", le="+Inf") == 2
    assert value(found, "assistant_rate_limited_total", channel="telegram") == 1
    assert value(found, "assistant_outbox_deliveries_total", channel="telegram", outcome="retried") == 1
    assert value(found, "assistant_outbox_deliveries_total", channel="telegram", outcome="sent") >= 1
    # The registration's copy to the e-mail address waits: SMTP is not configured here.
    email_rows = {labels: v for (name, labels), v in found.items()
                  if name == "assistant_outbox_pending" and ("channel", "email") in labels}
    assert sum(email_rows.values()) >= 1
    assert value(found, "assistant_outbox_oldest_due_seconds", channel="email") >= 40 * 86400
    assert value(found, "assistant_consultations_open", channel="vk", status="waiting") == 1
    assert value(found, "assistant_appeals_overdue") == 1

    used = {name for (_, labels) in found for name, _ in labels}
    assert used <= LABELS, used
    label_values = {v for (_, labels) in found for _, v in labels}
    assert not label_values & {"1001", "1002", "9002", NAME, EMAIL}
    for secret in (NAME, "Иванова", EMAIL, ROOF_TEXT[:30]):
        assert secret not in text
