"""One-click unsubscribe over real HTTP (RFC 8058, RFC 2369; R-4.1; 152-FZ art. 9 part 2:
withdrawal stops the processing at once) and the page in a real headless browser."""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from services import citizens, mailing
from tests.mailing_helpers import BASE, SECRET, citizen_with, new_mailing, sender
from web.server import make_app

CHROMIUM = "/usr/bin/chromium"


class Replies:
    channel = "email"

    def __init__(self) -> None:
        self.sent = []

    async def deliver(self, address, reply, key):
        self.sent.append((address, reply, key))


async def letter_path(app) -> tuple[int, str]:
    """A citizen who got one mailing letter, and the path of its unsubscribe URL."""
    citizen = await citizen_with(app, "ivanova@example.ru")
    recorder = Replies()
    await sender(app, recorder).send(await new_mailing(app))
    [(_, reply, _)] = recorder.sent
    url = reply.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith(BASE)
    return citizen, url[len(BASE):]


@pytest.fixture
async def web(app):
    unsub = mailing.Unsubscriber(app.sessionmaker, SECRET, app.profile, clock=app.engine.deps.clock)
    server = TestServer(make_app(unsubscriber=unsub, max_body=4096, read_timeout=0.5), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def subscribed(app, citizen: int) -> bool:
    async with app.sessionmaker() as session:
        return await citizens.active_consent(session, citizen, citizens.MAILING) is not None


async def test_one_click_post_withdraws_at_once_and_answers_2xx_rfc_8058(app, web):
    citizen, path = await letter_path(app)
    async with ClientSession() as http:
        resp = await http.post(web.make_url(path), data="List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 200 and "Вы отписаны" in await resp.text()
        assert not await subscribed(app, citizen)
        again = await http.post(web.make_url(path), data={"List-Unsubscribe": "One-Click"})
        assert again.status == 200 and "уже отписаны" in await again.text()
    async with app.sessionmaker() as session:
        history = await citizens.consent_history(session, citizen)
    assert [(c.withdrawal, c.source) for c in history] == [(False, "telegram"), (True, "unsubscribe")]


async def test_get_shows_a_page_with_a_button_and_does_not_withdraw_rfc_8058(app, web):
    """Mail scanners follow links: a GET never withdraws."""
    citizen, path = await letter_path(app)
    async with ClientSession() as http:
        resp = await http.get(web.make_url(path))
        body = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "Отписаться от рассылки новостей Служба жилищного надзора" in body
    assert 'name="List-Unsubscribe" value="One-Click"' in body and 'method="post"' in body
    assert await subscribed(app, citizen)


async def test_forged_token_and_bare_post_change_nothing(app, web):
    citizen, path = await letter_path(app)
    async with ClientSession() as http:
        forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
        assert (await http.get(web.make_url(forged))).status == 404
        assert (await http.post(web.make_url(forged), data={"List-Unsubscribe": "One-Click"})).status == 404
        assert (await http.post(web.make_url(path), data={"something": "else"})).status == 400
        assert (await http.post(web.make_url(path), data={"List-Unsubscribe": "x" * 10000})).status == 413
    assert await subscribed(app, citizen)


async def test_aborted_request_is_one_log_line(app, web, caplog):
    _, path = await letter_path(app)
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 "Content-Length: 500\r\n\r\nList-Unsub".encode())
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()
    await asyncio.sleep(0.6)
    assert not [r for r in caplog.records if r.exc_info], "no traceback for an aborted request"
    assert any("aborted" in r.getMessage() or "did not arrive" in r.getMessage() for r in caplog.records)


def chromium() -> str | None:
    """Debian's chromium; installed here when missing and we may (root with apt-get)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, timeout=900)
    return CHROMIUM if os.path.exists(CHROMIUM) else None


async def test_the_page_in_a_real_browser_unsubscribes_with_one_button_R_4_1(app, web):
    if "postgresql" in app.settings.database_url:
        pytest.skip("the browser test runs once, on SQLite: the page does not depend on the database")
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    browser_path = chromium()
    if browser_path is None:
        pytest.skip("no browser: /usr/bin/chromium is missing and could not be installed (apt-get chromium)")
    citizen, path = await letter_path(app)
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.goto(str(web.make_url(path)))
            assert await page.title() == "Отписка от рассылки"
            assert await subscribed(app, citizen)  # opening the page withdrew nothing
            await page.get_by_role("button", name="Отписаться").click()
            await page.wait_for_selector("text=Вы отписаны")
        finally:
            await browser.close()
    assert not await subscribed(app, citizen)
