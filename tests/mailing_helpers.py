"""Helpers for mailing tests: a real in-process SMTP server, citizens with consents, a sender."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from channels.email import EmailDeliverer, EmailSettings
from services import mailing
from storage.models import Citizen
from tests.channels.email.test_email import Inbox

SECRET = "test-secret-not-for-production"
BASE = "https://bot.zhilnadzor.example"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def email_deliverer(port: int) -> EmailDeliverer:
    return EmailDeliverer(EmailSettings(_env_file=None, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none",
                                        SMTP_FROM="news@zhilnadzor.example"))


async def citizen_with(app, email: str, *, consent: bool = True, withdrawn: bool = False) -> int:
    async with app.sessionmaker() as session, session.begin():
        c = Citizen(full_name=f"Житель {email}", email=email)
        session.add(c)
        await session.flush()
        if consent:
            await mailing.subscribe(session, c.id, email, "telegram", app.engine.deps.clock())
        if withdrawn:
            await mailing.unsubscribe(session, c.id, "telegram", app.engine.deps.clock())
        return c.id


async def new_mailing(app, subject="Новости службы", body="# Приём граждан\n\nВ декабре приём **по записи**.") -> int:
    async with app.sessionmaker() as session, session.begin():
        return (await mailing.create(session, subject, body, app.engine.deps.clock())).id


def sender(app, deliverer, **kw) -> mailing.MailingSender:
    return mailing.MailingSender(app.sessionmaker, deliverer, app.profile, secret=SECRET, base_url=BASE,
                                 rate=kw.pop("rate", 1000.0), clock=app.engine.deps.clock, **kw)


def recipients(inbox) -> list[str]:
    return [m["To"] for m in inbox.messages]
