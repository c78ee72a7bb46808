"""E-mail mailings to those who consented (R-4.1, R-4.2).

A mailing gets one letter row per citizen with a mailing consent in force. The sender takes the
letters one by one: in one transaction it locks the next letter, re-reads the consent register
and either skips the letter (withdrawn, even a second before: R-4.1) or marks it `sending`; then
it sends and records the outcome. A letter found `sending` after a crash may already be with the
SMTP server, so it becomes `unknown` and is never sent again: nobody gets a letter twice.

Mailings do not use the outbox, so they never delay appeal notices (the outbox's MAILINGS lane
stays for short notices of this feature, such as the address confirmation code).

Each letter carries one-click unsubscribe (RFC 8058 over RFC 2369's List-Unsubscribe): a signed
token naming only the letter row, no personal data."""
from __future__ import annotations

import asyncio
import html
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import markdown
from itsdangerous import BadSignature, URLSafeSerializer

import texts as T
from core.clock import utc_now
from core.events import Reply
from core.ports import Deliverer, RetryLater, Unreachable
from services import citizens, notices
from services.addresses import parse_email
from services.profile import Profile
from storage.mailing_models import EmailConfirmation, Mailing, MailingLetter
from storage.repos import mailing as rows
from storage.repos import people

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a letter `sending` longer than this belongs to a stopped process
CODE_TTL = timedelta(hours=24)
CODE_ATTEMPTS = 5
MAX_ATTEMPTS = 5

notices.register_kind(notices.Kind("mailing.confirm_email", notices.MAILINGS), T.MAILING_NOTICES["mailing.confirm_email"])


# --- the consent register ---


async def subscribe(session, citizen_id: int, email: str, source: str, now: datetime) -> None:
    await citizens.grant(session, citizen_id, citizens.MAILING, source, now,
                         text_version=T.MAILING_CONSENT_VERSION, address=email)


async def unsubscribe(session, citizen_id: int, source: str, now: datetime) -> bool:
    return await citizens.withdraw(session, citizen_id, citizens.MAILING, now, source)


async def send_code(session, renderer: notices.Renderer, citizen_id: int, email: str, now: datetime) -> None:
    """A confirmation code for a new address, sent to it through the outbox."""
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(EmailConfirmation(citizen_id=citizen_id, email=email, code=code, created_at=now,
                                  expires_at=now + CODE_TTL, attempts=0))
    # No citizen on the row: if the address fails, the code must not fall back to another channel.
    notices.add(session, renderer, "mailing.confirm_email", targets=[("email", email)], citizen_id=None,
                params={"code": code, "agency": renderer.profile.agency.name}, not_before=now)
    await session.flush()


async def confirm_code(session, citizen_id: int, code: str, source: str, now: datetime) -> str:
    """'ok' (consent recorded for the confirmed address), 'wrong' or 'expired'."""
    pending = await rows.open_confirmation(session, citizen_id, now)
    if pending is None or pending.attempts >= CODE_ATTEMPTS:
        return "expired"
    if not secrets.compare_digest(pending.code, code.strip()):
        pending.attempts += 1
        await session.flush()
        return "wrong"
    pending.confirmed_at = now
    await subscribe(session, citizen_id, pending.email, source, now)
    return "ok"


def valid_email(text: str) -> str | None:
    result = parse_email(text)
    return result.address if result.ok else None


# --- tokens ---


class Tokens:
    """Signed unsubscribe tokens: the letter id only (itsdangerous, HMAC-SHA1 with our secret)."""

    def __init__(self, secret: str) -> None:
        self._s = URLSafeSerializer(secret, salt="unsubscribe")

    def make(self, letter_id: int) -> str:
        return self._s.dumps(letter_id)

    def letter_id(self, token: str) -> int | None:
        try:
            value = self._s.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, int) else None


class Unsubscriber:
    """What the web server needs for the unsubscribe endpoints."""

    def __init__(self, sessionmaker, secret: str, profile: Profile, clock=utc_now) -> None:
        self.sessionmaker, self.tokens, self.profile, self.clock = sessionmaker, Tokens(secret), profile, clock

    def valid(self, token: str) -> bool:
        return self.tokens.letter_id(token) is not None

    async def withdraw(self, token: str) -> bool | None:
        """None for a bad token; True when a consent was withdrawn, False when none was in force."""
        letter_id = self.tokens.letter_id(token)
        if letter_id is None:
            return None
        async with self.sessionmaker() as session, session.begin():
            letter = await session.get(MailingLetter, letter_id)
            if letter is None:
                return None
            return await unsubscribe(session, letter.citizen_id, "unsubscribe", self.clock())


# --- mailings and letters ---


async def create(session, subject: str, body: str, now: datetime) -> Mailing:
    mailing = Mailing(subject=subject.strip()[:200], body=body, status="draft", created_at=now)
    session.add(mailing)
    await session.flush()
    return mailing


async def stage(session, mailing_id: int) -> int:
    """Add a letter for everyone whose consent is in force now (each is checked again when sent)."""
    return await rows.add_letters(session, mailing_id, await rows.consenting(session, citizens.MAILING))


async def counts(session, mailing_id: int) -> dict[str, int]:
    return await rows.counts(session, mailing_id)


async def everything(session) -> list[Mailing]:
    return await rows.mailings(session)


async def letters(session, mailing_id: int, status: str | None = None) -> list[MailingLetter]:
    return await rows.letters(session, mailing_id, status)


@dataclass
class Letter:
    text: str
    html: str


def compose(profile: Profile, mailing: Mailing, unsubscribe_url: str) -> Letter:
    """Plain text and HTML from one Markdown (or plain text) source, with the agency's name."""
    agency = profile.agency.name
    text = f"{mailing.body.strip()}\n\n--\n{agency}\n{T.MAILING_FOOTER.format(agency=agency, url=unsubscribe_url)}"
    body = markdown.markdown(mailing.body, output_format="html")
    page = (f"<!doctype html><html lang=\"ru\"><body><p><b>{html.escape(agency)}</b></p>{body}"
            f"{T.MAILING_FOOTER_HTML.format(agency=html.escape(agency), url=html.escape(unsubscribe_url))}"
            "</body></html>")
    return Letter(text, page)


class MailingSender:
    """Sends one mailing's letters, one at a time, at most `rate` letters a second."""

    def __init__(self, sessionmaker, deliverer: Deliverer, profile: Profile, *, secret: str, base_url: str,
                 rate: float = 1.0, mailto: str | None = None, clock=utc_now, worker: str | None = None,
                 sleep=asyncio.sleep) -> None:
        self.sessionmaker, self.deliverer, self.profile = sessionmaker, deliverer, profile
        self.tokens, self.base_url, self.mailto = Tokens(secret), base_url.rstrip("/"), mailto
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.domain = urlsplit(self.base_url).hostname or "localhost"
        self._last = float("-inf")

    def unsubscribe_url(self, letter_id: int) -> str:
        return f"{self.base_url}/u/{self.tokens.make(letter_id)}"

    def headers(self, mailing: Mailing, letter_id: int) -> dict[str, str]:
        """RFC 2369 List-Unsubscribe (an HTTPS URL, a mailto where configured) and RFC 8058
        List-Unsubscribe-Post for one-click unsubscribe."""
        links = [f"<{self.unsubscribe_url(letter_id)}>"]
        if self.mailto:
            links.append(f"<mailto:{self.mailto}?subject=unsubscribe-{letter_id}>")
        return {
            "List-Unsubscribe": ", ".join(links),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"<mailing.{self.domain}>",
            "Precedence": "bulk",
            "Message-ID": f"<mailing-{mailing.id}-{letter_id}@{self.domain}>",
        }

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._last + 1.0 / self.rate - loop.time()
        if delay > 0:
            await self.sleep(delay)
        self._last = loop.time()

    async def send(self, mailing_id: int, progress=None) -> dict[str, int]:
        """Send every pending letter; `progress(status)` after each. Safe to call again after a
        crash or a stop: letters already sent, skipped or in doubt are not sent again."""
        async with self.sessionmaker() as session, session.begin():
            mailing = await session.get(Mailing, mailing_id)
            if mailing is None:
                raise LookupError(f"no mailing #{mailing_id}")
            lost = await rows.abandoned(session, mailing_id, self.clock())
            if lost:
                log.warning("mailing %s: %s letter(s) in doubt after a stop are not sent again", mailing_id, lost)
            if mailing.status == "draft":
                await stage(session, mailing_id)
                mailing.status, mailing.started_at = "sending", self.clock()
        pace = True
        while True:
            if pace:  # before the claim, so the consent is read right before the letter goes
                await self._pace()
            claimed = await self._claim(mailing)
            if claimed is None:
                break
            letter_id, address = claimed
            pace = address is not None  # a skipped letter sent nothing: the next one needs no wait
            if address is None:
                progress and progress("skipped")
                continue
            status = await self._deliver(mailing, letter_id, address)
            progress and progress(status)
            if status == "stopped":
                break
        async with self.sessionmaker() as session, session.begin():
            result = await rows.counts(session, mailing_id)
            if not result.get("pending") and not result.get("sending"):
                fresh = await session.get(Mailing, mailing_id)
                if fresh.status != "done":
                    fresh.status, fresh.finished_at = "done", self.clock()
        return result

    async def _claim(self, mailing: Mailing) -> tuple[int, str | None] | None:
        """The next letter and its address, or (id, None) when it was skipped for want of consent."""
        while True:
            async with self.sessionmaker() as session, session.begin():
                letter = await rows.next_letter(session, mailing.id)
                if letter is None:
                    return None
                consent = await people.active_consent(session, letter.citizen_id, citizens.MAILING, lock=True)
                address = consent.address if consent else None
                if address is None and consent is not None:  # an older grant without an address
                    citizen = await citizens.get(session, letter.citizen_id)
                    address = citizen.email if citizen else None
                if address is None:
                    if await rows.take(session, letter.id, "skipped",
                                       last_error="no mailing consent in force when sending (R-4.1)"):
                        return letter.id, None
                elif await rows.take(session, letter.id, "sending", address=address, claimed_by=self.worker,
                                     claimed_until=self.clock() + LEASE):
                    return letter.id, address

    async def _deliver(self, mailing: Mailing, letter_id: int, address: str) -> str:
        url = self.unsubscribe_url(letter_id)
        body = compose(self.profile, mailing, url)
        reply = Reply(body.text, subject=mailing.subject, html=body.html, headers=self.headers(mailing, letter_id))
        status, error = "sent", None
        try:
            await self.deliverer.deliver(address, reply, letter_id)
        except RetryLater as e:
            status, error = "retry", e.reason
        except Unreachable as e:
            status, error = "failed", e.reason
        async with self.sessionmaker() as session, session.begin():
            letter = await session.get(MailingLetter, letter_id)
            letter.attempts += 1
            letter.claimed_until = None
            if status == "retry":
                # The server is busy or away: the letter waits; this run stops and resumes later.
                letter.status = "failed" if letter.attempts >= MAX_ATTEMPTS else "pending"
                letter.last_error = error[:500]
                return "stopped" if letter.status == "pending" else "failed"
            letter.status, letter.last_error = status, error and error[:500]
            if status == "sent":
                letter.sent_at = self.clock()
        return status
