"""Reply -> what Telegram shows: plain-text parts and an inline keyboard.

Text goes as plain text (no parse_mode), so nothing a citizen typed can break the markup or
inject formatting. Parts stay within 4096 characters, split at paragraph boundaries; the
keyboard rides on the last part. Button payloads become callback_data as they are when they fit
Telegram's 64 bytes; a longer one is replaced by a short token kept in memory (and logged),
and an unknown token coming back is passed on as is, so the engine calls it out of date.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.events import Button, Reply, split_text

log = logging.getLogger(__name__)

from channels.telegram import CAPABILITIES  # noqa: E402
MAX_TEXT = CAPABILITIES.max_text
MAX_LABEL = CAPABILITIES.max_button_label
MAX_CALLBACK_BYTES = CAPABILITIES.max_payload_bytes
MAX_PER_ROW = 8
TOKEN_PREFIX = "~"  # engine payloads never start with it


class PayloadCodec:
    """Engine payload <-> callback_data (at most 64 bytes)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._long: OrderedDict[str, str] = OrderedDict()  # token -> payload

    @staticmethod
    def fits(payload: str) -> bool:
        return len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(TOKEN_PREFIX)

    def encode(self, payload: str) -> str:
        if self.fits(payload):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        token = TOKEN_PREFIX + base64.urlsafe_b64encode(digest[:18]).decode("ascii")
        if token not in self._long:
            log.warning("button payload longer than %d bytes mapped to a server-side token: %r…",
                        MAX_CALLBACK_BYTES, payload[:40])
        self._long[token] = payload
        self._long.move_to_end(token)
        while len(self._long) > self.size:
            self._long.popitem(last=False)
        return token

    def decode(self, data: str) -> str:
        if data.startswith(TOKEN_PREFIX):
            return self._long.get(data, data)  # unknown: a payload no screen offered -> stale
        return data


@dataclass(frozen=True)
class Part:
    text: str
    markup: InlineKeyboardMarkup | None = None


def label(text: str) -> str:
    text = " ".join(text.split()) or "…"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def keyboard(rows: list[list[Button]], codec: PayloadCodec) -> InlineKeyboardMarkup | None:
    """Rows as the engine gave them (a row longer than Telegram's 8 buttons wraps)."""
    shape = tuple(tuple((label(b.label), codec.encode(b.payload)) for b in row[i:i + MAX_PER_ROW])
                  for row in rows for i in range(0, len(row), MAX_PER_ROW))
    return _markup(shape) if shape else None


@lru_cache(maxsize=4096)
def _markup(shape: tuple) -> InlineKeyboardMarkup:
    """The same screen's keyboard is built once (the objects are only read when sent)."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)
                                                  for text, data in row] for row in shape])


def text_parts(text: str) -> list[str]:
    """Non-empty parts within Telegram's limit."""
    text = (text or "").strip()
    return [p for p in split_text(text, MAX_TEXT) if p.strip()] if text else []


def render(reply: Reply, codec: PayloadCodec) -> list[Part]:
    """Text parts; the keyboard goes on the last one. Files are sent by the sender after them
    (and then carry the keyboard themselves), so a reply of files only has no text parts."""
    parts = text_parts(reply.text)
    markup = keyboard(reply.buttons, codec)
    if not parts and not reply.files:
        parts = ["…"]  # Telegram refuses an empty message
    if reply.files:
        return [Part(p) for p in parts]
    return [Part(p, markup if i == len(parts) - 1 else None) for i, p in enumerate(parts)]
