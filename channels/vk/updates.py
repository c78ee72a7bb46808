"""VK events (Bots Long Poll / Callback API, version 5.199) -> channel-neutral `Inbound`.

Pure parsing, no I/O: attachments are only described here and downloaded by `files.py`.
Typed commands (/start, /menu, /help, /status N, /link CODE) and the «Начать» button
(payload {"command": "start"}) become `Inbound.command`; button payloads pass through as
`Inbound.button` (see `render.decode_payload`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from channels.vk.render import CALLBACK_CAPS, ClientCaps, decode_payload
from core.events import Inbound

CHANNEL = "vk"

COMMANDS = {"start", "menu", "help", "status", "link"}
CHAT_PEER_MIN = 2_000_000_000  # group chats: the assistant talks to people one to one only


@dataclass(frozen=True)
class VKEvent:
    kind: str  # message | callback | allow | deny
    key: str  # the update key the engine records, so a repeat is handled once
    peer_id: int
    user_id: int
    inbound: Inbound | None = None
    caps: ClientCaps | None = None
    files: tuple[dict, ...] = field(default=())  # raw VK photo/doc attachments
    callback_id: str | None = None  # message_event's event_id, for sendMessageEventAnswer


def event_key(event: dict) -> str | None:
    """VK's event_id; older events without it fall back to the message or callback id."""
    if event.get("event_id"):
        return str(event["event_id"])
    obj = event.get("object") or {}
    if event.get("type") == "message_new":
        msg = obj.get("message") or {}
        if msg.get("id"):
            return f"m{msg['id']}"
    if event.get("type") == "message_event" and obj.get("event_id"):
        return f"c{obj['event_id']}"
    return None


def peer_of(event: dict) -> int | None:
    """The conversation an event belongs to (events of one peer are handled in order)."""
    obj = event.get("object")
    if not isinstance(obj, dict):
        return None
    if event.get("type") == "message_new":
        obj = obj.get("message") if isinstance(obj.get("message"), dict) else {}
    peer = obj.get("peer_id") or obj.get("user_id")
    try:
        return int(peer) if peer is not None else None
    except (TypeError, ValueError):
        return None


def text_event(user_id: str, text: str) -> Inbound:
    """Typed text, or a slash command."""
    stripped = text.strip()
    if stripped.startswith("/"):
        name, _, argument = stripped[1:].partition(" ")
        name = name.lower()
        if name in COMMANDS:
            return Inbound(CHANNEL, user_id, command=name, argument=argument.strip() or None)
    return Inbound(CHANNEL, user_id, text=text)


def _files(message: dict) -> tuple[dict, ...]:
    items = message.get("attachments") or []
    return tuple(a for a in items if isinstance(a, dict) and a.get("type") in ("photo", "doc")
                 and isinstance(a.get(a["type"]), dict))


def _message_new(event: dict, key: str) -> VKEvent | None:
    obj = event.get("object") or {}
    msg = obj.get("message")
    if not isinstance(msg, dict) or msg.get("out"):
        return None
    try:
        peer, user = int(msg["peer_id"]), int(msg["from_id"])
    except (KeyError, TypeError, ValueError):
        return None
    if user <= 0 or peer >= CHAT_PEER_MIN:
        return None
    uid = str(user)
    caps = ClientCaps.from_client_info(obj.get("client_info"))
    files = _files(msg)
    if msg.get("payload"):
        kind, value = decode_payload(msg["payload"])
        inbound = (Inbound(CHANNEL, uid, command=value) if kind == "command"
                   else Inbound(CHANNEL, uid, button=value))
    else:
        text = msg.get("text") or ""
        inbound = text_event(uid, text) if text and not files else Inbound(CHANNEL, uid, text=text or None)
    return VKEvent("message", key, peer, user, inbound, caps, files)


def _message_event(event: dict, key: str) -> VKEvent | None:
    obj = event.get("object") or {}
    try:
        peer, user = int(obj["peer_id"]), int(obj["user_id"])
    except (KeyError, TypeError, ValueError):
        return None
    if user <= 0 or peer >= CHAT_PEER_MIN:
        return None
    kind, value = decode_payload(obj.get("payload"))
    uid = str(user)
    inbound = Inbound(CHANNEL, uid, command=value) if kind == "command" else Inbound(CHANNEL, uid, button=value)
    return VKEvent("callback", key, peer, user, inbound, CALLBACK_CAPS, callback_id=obj.get("event_id"))


def _permission(event: dict, key: str, kind: str) -> VKEvent | None:
    obj = event.get("object") or {}
    try:
        user = int(obj["user_id"])
    except (KeyError, TypeError, ValueError):
        return None
    return VKEvent(kind, key, user, user)


def parse(event: object) -> VKEvent | None:
    """A VKEvent for the kinds the assistant handles; None for anything else."""
    if not isinstance(event, dict):
        return None
    key = event_key(event)
    if key is None:
        return None
    kind = event.get("type")
    if kind == "message_new":
        return _message_new(event, key)
    if kind == "message_event":
        return _message_event(event, key)
    if kind == "message_allow":
        return _permission(event, key, "allow")
    if kind == "message_deny":
        return _permission(event, key, "deny")
    return None
