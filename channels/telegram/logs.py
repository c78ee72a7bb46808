"""Secrets never reach the logs.

The Bot API puts the token in every request URL (``/bot<token>/sendMessage``, and file
downloads ``/file/bot<token>/…``). aiogram wraps most client errors without the URL, but not
all: an aiohttp ``ClientResponseError`` from a failed download prints the full URL, and the
polling loop logs whatever error text it gets. So every log record is scrubbed when it is
created, whoever logs it: a log record factory replaces each registered secret (and its
URL-encoded form, and the part of a token after the colon) with ``[redacted]`` in the message
and in the formatted traceback.
"""
from __future__ import annotations

import logging
import threading
import traceback
from urllib.parse import quote

MASK = "[redacted]"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def forms(secret: str) -> set[str]:
    """The spellings of a secret that may appear in text."""
    out = {secret, quote(secret, safe=""), quote(secret)}
    if ":" in secret:  # a bot token: the part after the colon is the secret half
        tail = secret.split(":", 1)[1]
        if len(tail) >= 16:
            out.add(tail)
    return {s for s in out if len(s) >= 8}


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def protect(*secrets: str | None) -> None:
    """Register secrets to scrub from every log record (idempotent, process-wide)."""
    global _installed
    with _lock:
        for secret in secrets:
            if secret:
                _secrets.update(forms(secret))
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _secrets:
                _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to logging's own error reporting
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:
            record.exc_text = clean  # Formatter uses the cached text instead of formatting again
