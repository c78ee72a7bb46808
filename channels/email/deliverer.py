"""The e-mail channel: SMTP via aiosmtplib, plain text with an HTML alternative."""
from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from channels.email.settings import EmailSettings as Settings
from core.ports import RetryLater, Unreachable
from core.events import Reply


def build_message(settings: Settings, to: str, reply: Reply, subject: str, key: int,
                  unsubscribe: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    # Stable per outbox row, so a resend after a crash can be recognised as the same letter.
    msg["Message-ID"] = f"<outbox-{key}@{domain}>" if key else make_msgid(domain=domain)
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg.set_content(reply.text)
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in reply.text.split("\n\n"))
    msg.add_alternative(f"<!doctype html><html lang=\"ru\"><body>{paragraphs}</body></html>", subtype="html")
    for f in reply.files:
        maintype, _, subtype = f.mime.partition("/")
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype or "octet-stream", filename=f.name)
    return msg


class EmailDeliverer:
    channel = "email"

    def __init__(self, settings: Settings, default_subject: str = "Уведомление") -> None:
        if hasattr(settings, "channel"):  # the program's settings: take the e-mail block
            settings = settings.channel("email")
        self.settings = settings
        self.default_subject = default_subject

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        s = self.settings
        if not s.smtp_host:
            raise RetryLater("SMTP is not configured", 300)
        message = build_message(s, external_id, reply, reply.subject or self.default_subject, key)
        try:
            await aiosmtplib.send(
                message, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_security == "tls", start_tls=True if s.smtp_security == "starttls" else False,
                timeout=s.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [err.code for err in e.recipients]
            if all(500 <= c < 600 for c in codes):
                raise Unreachable(f"address refused: {codes}") from e
            raise RetryLater(f"address deferred: {codes}", 300) from e
        except aiosmtplib.SMTPResponseException as e:
            if 500 <= e.code < 600 and e.code not in (530, 535):  # auth problems are ours: retry
                raise Unreachable(f"SMTP {e.code}: {e.message}") from e
            raise RetryLater(f"SMTP {e.code}: {e.message}", 120) from e
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise RetryLater(f"SMTP unavailable: {type(e).__name__}", 60) from e
