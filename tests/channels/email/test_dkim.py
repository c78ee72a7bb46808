"""Optional DKIM signing (dkimpy): the signature covers List-Unsubscribe and
List-Unsubscribe-Post, as RFC 8058 section 4 asks, and verifies against the public key."""
from __future__ import annotations

import base64
import shutil
import socket
import subprocess

import dkim
import pytest
from aiosmtpd.controller import Controller

from channels.email import EmailDeliverer, EmailSettings
from core.events import Reply


class Raw:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test key")
async def test_dkim_signature_covers_the_unsubscribe_headers_rfc_8058(tmp_path):
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    inbox = Raw()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = EmailSettings(_env_file=None, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none",
                                 SMTP_FROM="news@zhilnadzor.example", SMTP_DKIM_KEY_FILE=str(key),
                                 SMTP_DKIM_SELECTOR="mail")
        reply = Reply("Новости", subject="Новости службы", headers={
            "List-Unsubscribe": "<https://bot.zhilnadzor.example/u/MQ.abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        await EmailDeliverer(settings).deliver("ivanova@example.ru", reply, 7)
    finally:
        controller.stop()
    [raw] = inbox.raw
    signature = raw.split(b"\r\n\r\n", 1)[0].decode()
    signed = signature.split(" h=", 1)[1].split(";", 1)[0].replace("\r\n", "").replace(" ", "").split(":")
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= set(signed)

    def dns(name, timeout=5):
        assert name == b"mail._domainkey.zhilnadzor.example."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
