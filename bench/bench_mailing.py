"""Mailing benchmark: N consenting citizens (a tenth withdraw while the mailing runs), one
mailing through a real in-process SMTP server (aiosmtpd), on SQLite.

    .venv/bin/python -m bench.bench_mailing --count 1000 [--rate 50] [--crash-at 300]

Reports letters delivered, duplicates, letters sent to people after they had withdrawn (must be 0), achieved rate against MAILING_RATE, and after --crash-at a resume."""
from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import email  # noqa: E402
from email import policy  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from channels.email import EmailDeliverer, EmailSettings  # noqa: E402
from services import mailing  # noqa: E402
from storage.models import Citizen  # noqa: E402


class Inbox:
    def __init__(self) -> None:
        self.to: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.to.append(email.message_from_bytes(envelope.content, policy=policy.default)["To"])
        return "250 OK"


class Crash(BaseException):
    pass


class Wrapped:
    channel = "email"

    def __init__(self, inner, app, withdraw_every: int, crash_at: int | None) -> None:
        self.inner, self.app, self.every, self.crash_at, self.n = inner, app, withdraw_every, crash_at, 0
        self.withdrawn_at: dict[str, float] = {}
        self.sent_at: dict[str, float] = {}

    async def deliver(self, address, reply, key):
        self.sent_at[address] = time.monotonic()
        await self.inner.deliver(address, reply, key)
        self.n += 1
        target = key + 5  # the citizen five letters ahead withdraws now (letter ids follow citizen ids)
        if target % self.every == 0:
            async with self.app.sessionmaker() as s, s.begin():
                await mailing.unsubscribe(s, target, "bench", self.app.engine.deps.clock())
            self.withdrawn_at[f"p{target}@example.ru"] = time.monotonic()
        if self.crash_at and self.n == self.crash_at:
            self.crash_at = None
            raise Crash()


async def main(count: int, rate: float, crash_at: int | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        app = await build_app(Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/b.db",
                                       FILES_DIR=f"{tmp}/files"))
        try:
            async with app.sessionmaker() as s, s.begin():
                for i in range(1, count + 1):
                    s.add(Citizen(id=i, email=f"p{i}@example.ru"))
                await s.flush()
                for i in range(1, count + 1):
                    await mailing.subscribe(s, i, f"p{i}@example.ru", "bench", app.engine.deps.clock())
                m = await mailing.create(s, "Новости", "Текст **рассылки**.", app.engine.deps.clock())
            deliverer = EmailDeliverer(EmailSettings(_env_file=None, SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                                                     SMTP_SECURITY="none", SMTP_FROM="news@example.ru"))
            wrapped = Wrapped(deliverer, app, 10, crash_at)

            def sender():
                return mailing.MailingSender(app.sessionmaker, wrapped, app.profile, secret="bench",
                                             base_url="https://bot.example.ru", rate=rate)

            started = time.monotonic()
            try:
                await sender().send(m.id)
            except Crash:
                print(f"crashed after {len(inbox.to)} letters; resuming")
                async with app.sessionmaker() as s, s.begin():  # the lease of the dead process lapses
                    for letter in await mailing.letters(s, m.id, "sending"):
                        letter.claimed_until = None
                await sender().send(m.id)
            elapsed = time.monotonic() - started
            async with app.sessionmaker() as s:
                counts = await mailing.counts(s, m.id)
        finally:
            await app.close()
            controller.stop()
    dup = sum(n - 1 for n in Counter(inbox.to).values() if n > 1)
    to_withdrawn = [a for a in inbox.to if a in wrapped.withdrawn_at and wrapped.sent_at[a] > wrapped.withdrawn_at[a]]
    sent = counts.get("sent", 0)
    print(f"citizens {count}, letters delivered {len(inbox.to)}, duplicates {dup}, "
          f"to people who had withdrawn {len(to_withdrawn)}")
    print(f"outcomes {dict(sorted(counts.items()))}")
    print(f"{sent} sent in {elapsed:.1f} s: {sent / elapsed:.1f}/s against MAILING_RATE {rate}/s "
          f"({sent / elapsed / rate:.2f} of it)")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--crash-at", type=int, default=None)
    a = p.parse_args()
    asyncio.run(main(a.count, a.rate, a.crash_at))
