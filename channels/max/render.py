"""Reply -> what MAX shows: plain-text parts and an inline keyboard within MAX's limits.

Text goes without `format`, so nothing a citizen typed is read as markup. Parts stay within
3999 characters (maxapi refuses 4000), split at paragraphs; the keyboard rides on the last part.
Keyboards: at most 30 rows, 7 buttons a row, 210 in all (dev.max.ru, «Клавиатура»); labels up
to 128 characters and payloads up to 1024 (openapi.json). A payload that does not fit is
replaced by a short token kept in memory, and an unknown token coming back is passed on as is,
so the engine calls it out of date.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass

from channels.max import CAPABILITIES
from core.events import Button, Reply, split_text

log = logging.getLogger(__name__)

MAX_TEXT = CAPABILITIES.max_text
MAX_LABEL = CAPABILITIES.max_button_label
MAX_PAYLOAD = CAPABILITIES.max_payload_bytes
MAX_ROWS, MAX_PER_ROW, MAX_BUTTONS = 30, 7, 210
TOKEN_PREFIX = "~"  # engine payloads never start with it


class PayloadCodec:
    """Engine payload <-> callback button payload (at most 1024 characters)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._long: OrderedDict[str, str] = OrderedDict()  # token -> payload

    @staticmethod
    def fits(payload: str) -> bool:
        return utf16_len(payload) <= MAX_PAYLOAD and not payload.startswith(TOKEN_PREFIX)

    def encode(self, payload: str) -> str:
        if self.fits(payload):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        token = TOKEN_PREFIX + base64.urlsafe_b64encode(digest[:18]).decode("ascii")
        if token not in self._long:
            log.warning("max: button payload longer than %d characters mapped to a token: %r…", MAX_PAYLOAD, payload[:40])
        self._long[token] = payload
        self._long.move_to_end(token)
        while len(self._long) > self.size:
            self._long.popitem(last=False)
        return token

    def decode(self, data: str) -> str:
        if data.startswith(TOKEN_PREFIX):
            return self._long.get(data, data)
        return data


def label(text: str) -> str:
    text = " ".join(text.split()) or "…"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def layout(rows: list[list[Button]]) -> list[list[Button]]:
    """The engine's rows within 7 a row and 30 rows (210 buttons): long rows wrap; when there
    are too many rows, the buttons above the last row (navigation) are packed 7 a row."""
    wrapped = [row[i:i + MAX_PER_ROW] for row in rows if row for i in range(0, len(row), MAX_PER_ROW)]
    if len(wrapped) <= MAX_ROWS:
        return wrapped
    source = [row for row in rows if row]
    tail = source[-1][:MAX_PER_ROW]
    head = [b for row in source[:-1] for b in row][: MAX_BUTTONS - len(tail)]
    total = sum(map(len, source))
    if len(head) + len(tail) < total:
        log.warning("max: keyboard of %d buttons cut to %d", total, len(head) + len(tail))
    packed = [head[i:i + MAX_PER_ROW] for i in range(0, len(head), MAX_PER_ROW)]
    return [*packed[: MAX_ROWS - 1], tail]


def keyboard(rows: list[list[Button]], codec: PayloadCodec) -> dict | None:
    """The inline_keyboard attachment (a plain dict, as the API takes it), or None."""
    out = [[{"type": "callback", "text": label(b.label), "payload": codec.encode(b.payload)} for b in row]
           for row in layout(rows)]
    return {"type": "inline_keyboard", "payload": {"buttons": out}} if out else None


@dataclass(frozen=True)
class Part:
    text: str
    keyboard: dict | None = None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # how MAX counts (characters beyond the BMP count twice)


def text_parts(text: str) -> list[str]:
    text = (text or "").strip()
    if not text:
        return []
    parts = [p for p in split_text(text, MAX_TEXT) if p.strip()]
    out: list[str] = []
    for p in parts:  # emoji count twice: split such a part again, smaller
        out.extend(split_text(p, MAX_TEXT // 2) if utf16_len(p) > MAX_TEXT else [p])
    return out


def render(reply: Reply, codec: PayloadCodec) -> list[Part]:
    """Text parts; the keyboard on the last one, unless files follow (then the last file
    carries it). A reply of files only has no text parts."""
    parts = text_parts(reply.text)
    kb = keyboard(reply.buttons, codec)
    if not parts and not reply.files:
        parts = ["…"]
    if reply.files:
        return [Part(p) for p in parts]
    return [Part(p, kb if i == len(parts) - 1 else None) for i, p in enumerate(parts)]
