"""MAX updates (the raw dicts of GET /updates or a webhook body) -> channel-neutral `Inbound`.

Pure parsing, no I/O: attachments are only described here and downloaded by `files.py`.
Only dialogs are served (a group chat is ignored). MAX updates carry no id, so the key the
engine records is the message id, the callback id, or user and time for bot_started/stopped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.events import Inbound

CHANNEL = "max"
COMMANDS = {"start", "menu", "help", "status", "link"}
COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(.*))?$", re.S)
MAX_ARGUMENT = 200
FILE_TYPES = ("image", "file", "video", "audio")
# What a person can send that the assistant does not read: answered with a polite hint.
UNSUPPORTED_TYPES = ("sticker", "location", "contact", "share", "inline_keyboard")


@dataclass(frozen=True)
class MaxEvent:
    kind: str  # message | callback | started | stopped
    key: str
    user_id: int
    chat_id: int | None = None
    inbound: Inbound | None = None
    files: tuple[dict, ...] = field(default=())  # raw image/file/video/audio attachments
    callback_id: str | None = None
    pressed_mid: str | None = None  # the bot message whose button was pressed
    mid: str | None = None  # the citizen's message


def _user(obj: object) -> tuple[int, str | None] | None:
    if not isinstance(obj, dict) or obj.get("is_bot"):
        return None
    try:
        uid = int(obj["user_id"])
    except (KeyError, TypeError, ValueError):
        return None
    name = obj.get("name") or " ".join(p for p in (obj.get("first_name"), obj.get("last_name")) if p) or None
    return (uid, name[:200] if name else None) if uid > 0 else None


def parse_command(text: str) -> tuple[str, str | None] | None:
    match = COMMAND_RE.match(text.strip())
    if not match or match[1].lower() not in COMMANDS:
        return None
    argument = " ".join((match[2] or "").split())[:MAX_ARGUMENT] or None
    return match[1].lower(), argument


def text_inbound(uid: str, text: str | None, name: str | None) -> Inbound:
    if text:
        command = parse_command(text)
        if command:
            return Inbound(CHANNEL, uid, command=command[0], argument=command[1], display_name=name)
    return Inbound(CHANNEL, uid, text=text or None, display_name=name)


def _message_created(update: dict) -> MaxEvent | None:
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    recipient = message.get("recipient") or {}
    if recipient.get("chat_type") not in (None, "dialog"):
        return None
    who = _user(message.get("sender"))
    body = message.get("body") or {}
    if who is None or not body.get("mid"):
        return None
    uid, name = who
    items = [a for a in body.get("attachments") or [] if isinstance(a, dict)]
    files = tuple(a for a in items if a.get("type") in FILE_TYPES and isinstance(a.get("payload"), dict))
    text = body.get("text")
    if files:
        inbound = Inbound(CHANNEL, str(uid), text=text or None, display_name=name)
    elif not text and any(a.get("type") in UNSUPPORTED_TYPES for a in items):
        inbound = Inbound(CHANNEL, str(uid), unsupported=True, display_name=name)
    else:
        inbound = text_inbound(str(uid), text, name)
    return MaxEvent("message", f"m:{body['mid']}", uid, recipient.get("chat_id"), inbound, files, mid=body["mid"])


def _message_callback(update: dict) -> MaxEvent | None:
    callback = update.get("callback")
    if not isinstance(callback, dict) or not callback.get("callback_id"):
        return None
    who = _user(callback.get("user"))
    if who is None:
        return None
    uid, name = who
    message = update.get("message") if isinstance(update.get("message"), dict) else {}
    recipient = message.get("recipient") or {}
    if recipient.get("chat_type") not in (None, "dialog"):
        return None
    mid = (message.get("body") or {}).get("mid")
    inbound = Inbound(CHANNEL, str(uid), button=str(callback.get("payload") or ""), display_name=name)
    return MaxEvent("callback", f"c:{callback['callback_id']}", uid, recipient.get("chat_id"), inbound,
                    callback_id=str(callback["callback_id"]), pressed_mid=mid)


def _started(update: dict, kind: str) -> MaxEvent | None:
    who = _user(update.get("user"))
    if who is None:
        return None
    uid, name = who
    key = f"{kind[0]}:{uid}:{update.get('timestamp')}"
    inbound = None
    if kind == "started":  # a deep link https://max.ru/<bot>?start=appeal gives payload "appeal"
        payload = " ".join(str(update.get("payload") or "").split())[:MAX_ARGUMENT] or None
        inbound = Inbound(CHANNEL, str(uid), command="start", argument=payload, display_name=name)
    return MaxEvent(kind, key, uid, update.get("chat_id"), inbound)


def parse(update: object) -> MaxEvent | None:
    """A MaxEvent for the kinds the assistant handles; None for anything else."""
    if not isinstance(update, dict):
        return None
    kind = update.get("update_type")
    if kind == "message_created":
        return _message_created(update)
    if kind == "message_callback":
        return _message_callback(update)
    if kind == "bot_started":
        return _started(update, "started")
    if kind == "bot_stopped":
        return _started(update, "stopped")
    return None


def user_of(update: object) -> int | None:
    """Whose update it is (one person's updates are handled in order)."""
    ev = parse(update)
    return ev.user_id if ev else None
