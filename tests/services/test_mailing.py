"""Mailings against a real in-process SMTP server (aiosmtpd): consent checked per letter at the
moment it is sent (R-4.1, R-4.2), resumable with nothing sent twice, RFC 8058 / RFC 2369 headers."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from services import mailing
from storage.mailing_models import MailingLetter
from storage.models import Consent
from tests.mailing_helpers import BASE, SECRET, citizen_with, email_deliverer, new_mailing, recipients, sender, smtp  # noqa: F401

TOKEN_URL = re.compile(rf"^<{re.escape(BASE)}/u/([A-Za-z0-9_.\-]+)>$")


async def test_only_consenting_citizens_get_the_letter_R_4_1(app, smtp):
    inbox, port = smtp
    await citizen_with(app, "yes@example.ru")
    await citizen_with(app, "gone@example.ru", withdrawn=True)
    await citizen_with(app, "never@example.ru", consent=False)
    await citizen_with(app, "also@example.ru")
    counts = await sender(app, email_deliverer(port)).send(await new_mailing(app))
    assert sorted(recipients(inbox)) == ["also@example.ru", "yes@example.ru"]
    assert counts == {"sent": 2}


async def test_letter_headers_are_exactly_as_rfc_8058_requires(app, smtp):
    """RFC 8058 section 3.1: List-Unsubscribe with one HTTPS URI and List-Unsubscribe-Post whose
    only value is List-Unsubscribe=One-Click; RFC 2369: URLs in angle brackets. The token carries
    no personal data (no address, no name)."""
    inbox, port = smtp
    await citizen_with(app, "ivanova@example.ru")
    await sender(app, email_deliverer(port)).send(await new_mailing(app))
    [msg] = inbox.messages
    assert msg.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    [value] = msg.get_all("List-Unsubscribe")
    token = TOKEN_URL.match(value).group(1)
    assert "ivanova" not in token and mailing.Tokens(SECRET).letter_id(token) is not None
    assert msg["Subject"] == "Новости службы"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "В декабре приём **по записи**." in plain and "Служба жилищного надзора" in plain
    assert "<strong>по записи</strong>" in html and "<h1>Приём граждан</h1>" in html
    assert f"{BASE}/u/{token}" in plain and f"{BASE}/u/{token}" in html


async def test_mailto_is_added_where_configured_rfc_2369(app, smtp):
    inbox, port = smtp
    await citizen_with(app, "ivanova@example.ru")
    await sender(app, email_deliverer(port), mailto="unsubscribe@zhilnadzor.example").send(await new_mailing(app))
    [value] = inbox.messages[0].get_all("List-Unsubscribe")
    https, mailto = value.split(", ")
    assert TOKEN_URL.match(https) and re.fullmatch(r"<mailto:unsubscribe@zhilnadzor\.example\?subject=unsubscribe-\d+>", mailto)


class WithdrawAfterFirst:
    """Delivers, and after the first letter the next recipient withdraws (one second later)."""

    def __init__(self, inner, app, citizen_id: int) -> None:
        self.inner, self.app, self.citizen_id, self.channel = inner, app, citizen_id, "email"

    async def deliver(self, address, reply, key):
        await self.inner.deliver(address, reply, key)
        if self.citizen_id:
            clock = self.app.engine.deps.clock
            clock.now += timedelta(seconds=1)
            async with self.app.sessionmaker() as session, session.begin():
                await mailing.unsubscribe(session, self.citizen_id, "unsubscribe", clock())
            self.citizen_id = 0


async def test_withdrawal_between_two_letters_is_honoured_R_4_1(app, smtp):
    """Recipients are decided per letter when it is sent: whoever withdrew a second before is skipped."""
    inbox, port = smtp
    await citizen_with(app, "first@example.ru")
    second = await citizen_with(app, "second@example.ru")
    await citizen_with(app, "third@example.ru")
    counts = await sender(app, WithdrawAfterFirst(email_deliverer(port), app, second)).send(await new_mailing(app))
    assert recipients(inbox) == ["first@example.ru", "third@example.ru"]
    assert counts == {"sent": 2, "skipped": 1}


class Crash(BaseException):
    """The process dies (kill -9 stands in): nothing after it runs."""


class CrashAfter:
    def __init__(self, inner, letters: int) -> None:
        self.inner, self.left, self.channel = inner, letters, "email"

    async def deliver(self, address, reply, key):
        await self.inner.deliver(address, reply, key)
        self.left -= 1
        if self.left == 0:
            raise Crash()


async def test_crash_mid_mailing_and_resume_sends_each_letter_once_R_4_2(app, smtp):
    inbox, port = smtp
    addresses = [f"person{i}@example.ru" for i in range(6)]
    for a in addresses:
        await citizen_with(app, a)
    mailing_id = await new_mailing(app)
    with pytest.raises(Crash):
        await sender(app, CrashAfter(email_deliverer(port), 3)).send(mailing_id)
    assert len(inbox.messages) == 3
    app.engine.deps.clock.now += timedelta(minutes=10)  # the dead process's claim has lapsed
    counts = await sender(app, email_deliverer(port)).send(mailing_id)
    assert sorted(recipients(inbox)) == sorted(addresses)  # each exactly once
    assert counts == {"sent": 5, "unknown": 1}  # the letter in flight at the crash is not repeated
    again = await sender(app, email_deliverer(port)).send(mailing_id)  # a second resume sends nothing
    assert len(inbox.messages) == 6 and again == counts


async def test_smtp_down_stops_and_resume_sends_the_rest(app, smtp):
    inbox, port = smtp
    for i in range(3):
        await citizen_with(app, f"p{i}@example.ru")
    mailing_id = await new_mailing(app)
    counts = await sender(app, email_deliverer(1)).send(mailing_id)  # nothing listens on port 1
    assert counts == {"pending": 3} and not inbox.messages
    counts = await sender(app, email_deliverer(port)).send(mailing_id)
    assert counts == {"sent": 3} and len(inbox.messages) == 3


async def test_rate_is_respected(app, smtp):
    inbox, port = smtp
    for i in range(4):
        await citizen_with(app, f"p{i}@example.ru")
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    await sender(app, email_deliverer(port), rate=2.0, sleep=sleep).send(await new_mailing(app))
    assert len(inbox.messages) == 4 and len(slept) >= 3 and all(0 < s <= 0.5 for s in slept)


async def test_every_grant_and_withdrawal_is_its_own_row_with_the_text_version(app):
    """152-FZ art. 9: a consent's proof (time, source, text version) is kept; nothing overwritten."""
    citizen = await citizen_with(app, "a@example.ru", withdrawn=True)
    async with app.sessionmaker() as session, session.begin():
        await mailing.subscribe(session, citizen, "a@example.ru", "vk", app.engine.deps.clock())
        rows = list((await session.execute(select(Consent).order_by(Consent.id))).scalars())
    assert [(r.withdrawal, r.source, r.text_version) for r in rows] == [
        (False, "telegram", "m-2026-12"), (True, "telegram", "m-2026-12"), (False, "vk", "m-2026-12")]
    assert rows[0].withdrawn_at is None


async def test_letters_are_recorded_with_their_outcome(app, smtp):
    inbox, port = smtp
    await citizen_with(app, "a@example.ru")
    mailing_id = await new_mailing(app)
    await sender(app, email_deliverer(port)).send(mailing_id)
    async with app.sessionmaker() as session:
        [letter] = (await session.execute(select(MailingLetter))).scalars()
    assert letter.status == "sent" and letter.address == "a@example.ru" and letter.sent_at is not None


async def test_two_senders_at_once_send_each_letter_once_R_4_2(app, smtp):
    """Two processes resuming the same mailing share the letters: none goes twice."""
    import asyncio

    inbox, port = smtp
    addresses = [f"p{i}@example.ru" for i in range(8)]
    for a in addresses:
        await citizen_with(app, a)
    mailing_id = await new_mailing(app)
    async with app.sessionmaker() as session, session.begin():
        await mailing.stage(session, mailing_id)
    await asyncio.gather(sender(app, email_deliverer(port), worker="a").send(mailing_id),
                         sender(app, email_deliverer(port), worker="b").send(mailing_id))
    assert sorted(recipients(inbox)) == sorted(addresses)
