"""Log formats: text lines, or one JSON object a line (LOG_FORMAT=json), with the channel and
update id of the update being handled (bound by App.handle), and the step and duration where a
line gives them. The standard library only: a Formatter is all it takes."""
from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from datetime import datetime, timezone

# At WARNING: request URLs with the bot token (aiohttp.access), a line per update or job run,
# SQL statements (SQLAlchemy's own default, kept whatever LOG_LEVEL says).
QUIET = ("aiohttp.access", "apscheduler", "alembic", "aiogram.event", "sqlalchemy")
# At INFO even with LOG_LEVEL=DEBUG: their DEBUG lines carry values (SQL parameters, request and
# update bodies: names, e-mails, texts).
NO_DEBUG = ("aiosqlite", "asyncio", "aiohttp", "aiogram", "vkbottle", "maxapi", "aiosmtplib",
            "matplotlib", "PIL")
FIELDS = ("channel", "update_id", "step", "duration_ms")
_context: ContextVar[dict] = ContextVar("log_context", default={})


def bind(**values) -> Token:
    """Fields added to every line logged in this task until `unbind`."""
    return _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})


def unbind(token: Token) -> None:
    _context.reset(token)


def fields_of(record: logging.LogRecord) -> dict:
    found = dict(_context.get())
    for name in FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            found[name] = value
    return found


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                **fields_of(record)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = fields_of(record)
        if not extra:
            return text
        first, nl, rest = text.partition("\n")
        return first + " [" + " ".join(f"{k}={v}" for k, v in extra.items()) + "]" + nl + rest
