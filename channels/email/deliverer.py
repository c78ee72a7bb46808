"""The e-mail channel: SMTP via aiosmtplib, plain text with an HTML alternative."""
from __future__ import annotations

import html
from pathlib import Path
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from channels.email.settings import EmailSettings as Settings
from core.ports import RetryLater, Unreachable
from core.events import Reply


# Headers are folded only past RFC 5322's 998 characters, so a List-Unsubscribe URL stays on one line.
LONG_LINES = policy.default.clone(max_line_length=998)
WIRE = policy.SMTP.clone(max_line_length=998)


def build_message(settings: Settings, to: str, reply: Reply, subject: str, key: int,
                  unsubscribe: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=LONG_LINES)
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    # Stable per outbox row, so a resend after a crash can be recognised as the same letter.
    msg["Message-ID"] = f"<outbox-{key}@{domain}>" if key else make_msgid(domain=domain)
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    for name, value in reply.headers.items():  # List-Unsubscribe, List-Unsubscribe-Post (RFC 2369, 8058)
        del msg[name]
        msg[name] = value
    msg.set_content(reply.text)
    if reply.html:
        msg.add_alternative(reply.html, subtype="html")
    else:
        paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in reply.text.split("\n\n"))
        msg.add_alternative(f"<!doctype html><html lang=\"ru\"><body>{paragraphs}</body></html>", subtype="html")
    for f in reply.files:
        maintype, _, subtype = f.mime.partition("/")
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype or "octet-stream", filename=f.name)
    return msg


DKIM_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe", b"list-unsubscribe-post")


def wire_bytes(settings: Settings, message: EmailMessage) -> bytes:
    """The message as sent: CRLF lines, long headers kept whole; DKIM-signed where configured."""
    raw = message.as_bytes(policy=WIRE)
    return dkim_signed(settings, message, raw) if settings.smtp_dkim_key_file else raw


def dkim_signed(settings: Settings, message: EmailMessage, raw: bytes) -> bytes:
    """The message with a DKIM-Signature covering List-Unsubscribe and List-Unsubscribe-Post
    (RFC 8058 section 4 asks for both to be signed)."""
    import dkim

    key = Path(settings.smtp_dkim_key_file).read_bytes()
    domain = settings.smtp_dkim_domain or settings.smtp_from.rpartition("@")[2]
    present = [h for h in DKIM_HEADERS if message.get(h.decode()) is not None]
    signature = dkim.sign(raw, settings.smtp_dkim_selector.encode(), domain.encode(), key, include_headers=present)
    return signature + raw


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
                wire_bytes(s, message), sender=s.smtp_from, recipients=[external_id],
                hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user,
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
