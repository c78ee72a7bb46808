"""Identification in the bot, end to end against the in-process fake OIDC provider: the link in
the chat, the routes mounted on an aiohttp application of our own, the verified name bound to
the citizen with a notice, and the next submission registered as an appeal.

59-FZ art. 4, 7 as amended by 547-FZ: an electronic appeal from an identified citizen. The
login attempts live in the database, so every test here runs on both databases."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import build_app
from storage.appeal_rules_models import LoginAttempt, Verification
from tests.conftest import Chat, make_settings
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider
from tests.journey import submit_appeal
from tests.outbox_helpers import appeal, outbox_rows
from web.identification import identification_routes

BASE = "https://bot.example.ru"
LINK_RE = re.compile(r"https://bot\.example\.ru(/id/start/\S+)")


@pytest.fixture
async def idp(clock):
    async with FakeOidcProvider(clock=clock) as fake:
        fake.add_user("ivanova", sub="esia-77", family_name="Иванова", given_name="Мария",
                      middle_name="Петровна", acr="urn:esia:loa:high")
        yield fake


@pytest.fixture
async def oidc_app(db_url, tmp_path, clock, idp):
    settings = make_settings(db_url, tmp_path, OIDC_ISSUER=idp.issuer, OIDC_CLIENT_ID=CLIENT_ID,
                             OIDC_CLIENT_SECRET=CLIENT_SECRET, PUBLIC_BASE_URL=BASE)
    application = await build_app(settings, clock=clock)
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
async def client(oidc_app):
    web_app = web.Application()
    assert identification_routes(web_app, oidc_app)
    c = TestClient(TestServer(web_app))
    await c.start_server()
    yield c
    await c.close()


async def link_from_settings(chat: Chat) -> str:
    await chat.command("start")
    await chat.press("Настройки")
    text = await chat.press("Подтвердить личность")
    found = LINK_RE.search(text)
    assert found, text
    return found.group(1)


async def log_in(client: TestClient, idp: FakeOidcProvider, path: str) -> dict:
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 302
    back = await idp.login(resp.headers["Location"], "ivanova")
    assert back.startswith(BASE + "/id/callback?")
    return dict(p.split("=", 1) for p in urlsplit(back).query.split("&"))


async def test_citizen_identifies_in_the_bot_and_the_next_submission_is_a_59_FZ_appeal(oidc_app, client, idp):
    chat = Chat(oidc_app, "1001", "telegram")
    path = await link_from_settings(chat)
    query = await log_in(client, idp, path)
    resp = await client.get("/id/callback", params=query)
    assert resp.status == 200 and "Личность подтверждена" in await resp.text()
    async with oidc_app.sessionmaker() as s:
        [row] = (await s.execute(select(Verification))).scalars().all()
    assert (row.full_name, row.assurance_level, row.subject) == ("Иванова Мария Петровна", "urn:esia:loa:high", "esia-77")
    [told] = [r for r in await outbox_rows(oidc_app) if r.kind == "citizen.identified"]
    assert (told.channel, told.address) == ("telegram", "1001")
    assert "Личность подтверждена: Иванова Мария Петровна (уровень учётной записи: urn:esia:loa:high)" in told.text
    await chat.press("Главное меню")
    text = await chat.press("Настройки")
    assert "Личность подтверждена: Иванова Мария Петровна." in text

    final = await submit_appeal(chat)
    assert "Это обращение по закону № 59-ФЗ" in final
    assert (await appeal(oidc_app)).kind == "appeal"


async def test_replayed_and_expired_links_are_refused_with_the_database_store(oidc_app, client, idp, clock):
    chat = Chat(oidc_app, "1001", "telegram")
    query = await log_in(client, idp, await link_from_settings(chat))
    assert (await client.get("/id/callback", params=query)).status == 200
    again = await client.get("/id/callback", params=query)
    assert again.status == 400 and "уже использована" in await again.text()

    path = await link_from_settings(chat)
    query = await log_in(client, idp, path)
    clock.now += timedelta(minutes=16)
    late = await client.get("/id/callback", params=query)
    assert late.status == 400 and "устарела" in await late.text()
    async with oidc_app.sessionmaker() as s:
        assert (await s.execute(select(LoginAttempt))).scalars().all() == []
        assert len((await s.execute(select(Verification))).scalars().all()) == 1


async def test_without_a_provider_the_feature_is_off_and_says_so(app):
    chat = Chat(app, "1001", "telegram")
    await chat.command("start")
    await chat.press("Настройки")
    text = await chat.press("Подтвердить личность")
    assert "эта возможность не подключена" in text and "Госуслугах" in text
    assert not identification_routes(web.Application(), app)
