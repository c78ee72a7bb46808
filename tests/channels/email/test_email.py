"""The e-mail channel against a real SMTP server in-process (aiosmtpd)."""
from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from core.ports import RetryLater, Unreachable
from channels.email import EmailDeliverer, EmailSettings
from core.events import Reply


class Inbox:
    def __init__(self) -> None:
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's controller cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def settings(port: int | None) -> EmailSettings:
    return EmailSettings(_env_file=None, SMTP_HOST="127.0.0.1" if port else None, SMTP_PORT=port or 25,
                    SMTP_SECURITY="none", SMTP_FROM="noreply@zhilnadzor.example")


async def test_answer_letter_has_plain_and_html_parts_R_3_8(smtp):
    inbox, port = smtp
    reply = Reply("Ответ на обращение ЖН-2026-000001:\n\n<Крышу> починят.\n\nОцените: https://survey.example/1",
                  subject="Обращение ЖН-2026-000001: дан ответ")
    await EmailDeliverer(settings(port)).deliver("ivanova@example.ru", reply, 42)
    [msg] = inbox.messages
    assert msg["To"] == "ivanova@example.ru"
    assert msg["Subject"] == "Обращение ЖН-2026-000001: дан ответ"
    assert msg["Message-ID"] == "<outbox-42@zhilnadzor.example>"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "<Крышу> починят." in plain
    assert "&lt;Крышу&gt; починят." in html and "https://survey.example/1" in html


async def test_refused_address_is_unreachable_and_no_server_is_retry(smtp):
    inbox, port = smtp
    inbox.refuse.add("nobody@example.ru")
    with pytest.raises(Unreachable, match="550"):
        await EmailDeliverer(settings(port)).deliver("nobody@example.ru", Reply("x", subject="s"), 1)
    with pytest.raises(RetryLater):
        await EmailDeliverer(settings(None)).deliver("a@example.ru", Reply("x"), 1)
    closed = settings(port)
    closed.smtp_port = 1  # nothing listens there
    with pytest.raises(RetryLater):
        await EmailDeliverer(closed).deliver("a@example.ru", Reply("x"), 1)
