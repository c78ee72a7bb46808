"""Reply -> what VK can show: text parts and keyboard JSON; our button payloads both ways.

A button's payload travels as our own JSON shape ``{"p": "<engine payload>"}`` (at most 255
characters). On the way back anything else — malformed JSON, a foreign shape — becomes a payload
no screen ever offers, so the engine answers "this button is out of date"; it never crashes.
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from core.events import Button, Reply, split_text

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_LABEL = 40
MAX_PAYLOAD = 255
MAX_PER_ROW = 5
INLINE_ROWS, INLINE_BUTTONS = 6, 10
PLAIN_ROWS, PLAIN_BUTTONS = 10, 40
# Engine payloads never start with this, so a foreign payload is always refused as stale.
FOREIGN = "!vk-foreign:"
START_PAYLOAD = {"command": "start"}  # the VK «Начать» button


@dataclass(frozen=True)
class ClientCaps:
    """What the person's VK client can show (from `client_info` of their last message)."""

    keyboard: bool = True
    inline: bool = False
    callback: bool = False

    @classmethod
    def from_client_info(cls, info: object) -> ClientCaps:
        if not isinstance(info, dict):
            return DEFAULT_CAPS
        actions = info.get("button_actions") or []
        return cls(keyboard=bool(info.get("keyboard", True)), inline=bool(info.get("inline_keyboard")),
                   callback=isinstance(actions, list) and "callback" in actions)

    @property
    def callback_buttons(self) -> bool:
        return self.keyboard and self.inline and self.callback


DEFAULT_CAPS = ClientCaps()  # unknown client: an ordinary keyboard works everywhere
CALLBACK_CAPS = ClientCaps(keyboard=True, inline=True, callback=True)


class CapsCache:
    """Last known client capabilities per peer (bounded, in memory)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[int, ClientCaps] = OrderedDict()

    def get(self, peer_id: int) -> ClientCaps:
        caps = self._items.get(peer_id)
        if caps is None:
            return DEFAULT_CAPS
        self._items.move_to_end(peer_id)
        return caps

    def put(self, peer_id: int, caps: ClientCaps) -> None:
        self._items[peer_id] = caps
        self._items.move_to_end(peer_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass(frozen=True)
class Part:
    """One messages.send: text, keyboard JSON (or None) and whether files go with it."""

    text: str
    keyboard: str | None = None
    last: bool = False


def encode_payload(payload: str) -> str | None:
    """Our JSON shape for a button payload; None when it would exceed VK's 255 characters."""
    raw = json.dumps({"p": payload}, ensure_ascii=False, separators=(",", ":"))
    return raw if len(raw) <= MAX_PAYLOAD else None


def decode_payload(raw: object) -> tuple[str, str]:
    """("button", payload) or ("command", name) from a VK payload (string or parsed JSON).
    Malformed or foreign payloads give a button payload the engine never offered."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return "button", FOREIGN + raw[:100]
    if isinstance(value, dict):
        if set(value) == {"p"} and isinstance(value["p"], str):
            return "button", value["p"]
        if value == START_PAYLOAD:
            return "command", "start"
    shown = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    return "button", FOREIGN + shown[:100]


def shorten(label: str, limit: int = MAX_LABEL) -> str:
    label = " ".join(label.split()) or "…"
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _fit_rows(rows: list[list[Button]], max_rows: int) -> list[list[Button]]:
    """Rows of at most 5; when there are too many rows, join the neighbours with fewest buttons."""
    rows = [row[i:i + MAX_PER_ROW] for row in rows if row for i in range(0, len(row), MAX_PER_ROW)]
    while len(rows) > max_rows:
        best = min(range(len(rows) - 1), key=lambda i: len(rows[i]) + len(rows[i + 1]))
        if len(rows[best]) + len(rows[best + 1]) > MAX_PER_ROW:
            break
        rows[best:best + 2] = [rows[best] + rows[best + 1]]
    return rows


def _button(b: Button, kind: str) -> dict | None:
    payload = encode_payload(b.payload)
    if payload is None:
        if kind == "callback":
            log.warning("button payload too long for VK, dropped: %r", b.payload[:60])
            return None
        # A text button without payload still works: the engine maps its typed label.
        return {"action": {"type": "text", "label": shorten(b.label)}}
    return {"action": {"type": kind, "label": shorten(b.label), "payload": payload}}


def keyboard(buttons: list[list[Button]], caps: ClientCaps) -> str | None:
    """VK keyboard JSON for rows of buttons; an empty ordinary keyboard hides a stale one.
    Built once per screen shape and client kind (the same screens recur)."""
    return _keyboard(tuple(tuple(row) for row in buttons), caps)


@lru_cache(maxsize=4096)
def _keyboard(buttons: tuple[tuple[Button, ...], ...], caps: ClientCaps) -> str | None:
    buttons = [list(row) for row in buttons]
    if not caps.keyboard:
        return None
    total = sum(len(r) for r in buttons)
    if not total:
        return None if caps.callback_buttons else json.dumps({"one_time": True, "buttons": []})
    inline = caps.callback_buttons and total <= INLINE_BUTTONS
    rows = _fit_rows(buttons, INLINE_ROWS if inline else PLAIN_ROWS)
    if inline and len(rows) > INLINE_ROWS:
        inline = False
        rows = _fit_rows(buttons, PLAIN_ROWS)
    limit_rows = INLINE_ROWS if inline else PLAIN_ROWS
    limit_total = INLINE_BUTTONS if inline else PLAIN_BUTTONS
    if len(rows) > limit_rows or total > limit_total:
        # Lay the buttons out evenly above the engine's last row (navigation), cut what cannot fit.
        source = [row for row in buttons if row]
        tail = source[-1][:MAX_PER_ROW]
        head = [b for row in source[:-1] for b in row][: limit_total - len(tail)]
        if len(head) + len(tail) < total:
            log.warning("keyboard of %d buttons cut to %d to fit VK limits", total, len(head) + len(tail))
        width = max(1, -(-len(head) // (limit_rows - 1)))
        rows = [*(head[i:i + width] for i in range(0, len(head), width)), tail]
    kind = "callback" if inline else "text"
    out = [[btn for b in row if (btn := _button(b, kind))] for row in rows]
    out = [row for row in out if row]
    if not out:
        return None
    kb = {"inline": True, "buttons": out} if inline else {"one_time": True, "buttons": out}
    return json.dumps(kb, ensure_ascii=False, separators=(",", ":"))


def _labels_as_text(buttons: list[list[Button]]) -> str:
    labels = [b.label for row in buttons for b in row]
    return "\n".join(f"— {label}" for label in labels)


def render(reply: Reply, caps: ClientCaps) -> list[Part]:
    """Text parts within 4096 characters; the keyboard goes with the last part."""
    text = reply.text or ""
    if reply.buttons and not caps.keyboard:  # no keyboard at all: the labels can be typed
        text = f"{text}\n\n{_labels_as_text(reply.buttons)}".strip()
    chunks = split_text(text, MAX_TEXT) if text else [""]
    kb = keyboard(reply.buttons, caps)
    return [Part(chunk or ("…" if not reply.files else ""), kb if i == len(chunks) - 1 else None,
                 i == len(chunks) - 1)
            for i, chunk in enumerate(chunks)]
