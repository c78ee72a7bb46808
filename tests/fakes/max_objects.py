"""Objects of the fake MAX Bot API: users, dialogs, the updates they cause, sent messages.

``MaxObjects`` is the half of ``FakeMax`` (max_api.py) that builds what the API returns; the
shapes follow ``components.schemas`` of the spec (tests check them with ``max_schema``).
It uses the state that ``FakeMax.reset`` sets up.
"""

from __future__ import annotations

import copy
import html
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from tests.fakes import max_schema

DIALOG_BASE = 5_000_000_000


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SentMessage:
    """A message the bot sent; ``message`` is the live Message object (edits update it)."""

    chat_id: int
    user_id: int
    message: dict
    request: dict            # the NewMessageBody as sent (last edit included)
    raw_text: str | None = None
    edits: int = 0
    deleted: bool = False
    history: list[dict] = field(default_factory=list)

    @property
    def mid(self) -> str:
        return self.message["body"]["mid"]

    @property
    def text(self) -> str | None:
        """Text as the user sees it (markdown/html markers removed, roughly)."""
        return self.message["body"]["text"]

    @property
    def attachments(self) -> list[dict]:
        return self.message["body"]["attachments"] or []

    @property
    def buttons(self) -> list[list[dict]]:
        """Rows of the inline keyboard, or []."""
        return next((a["payload"]["buttons"] for a in self.attachments if a["type"] == "inline_keyboard"), [])


def visible_text(text: str | None, fmt: str | None) -> str | None:
    """What the user sees: tags or the usual markdown markers removed (approximately)."""
    if text is None or fmt is None:
        return text
    if fmt == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#+\s+", "", text, flags=re.M)
    return re.sub(r"\*\*|__|~~|\+\+|\^\^|`", "", text)


class MaxObjects:
    """Users, dialogs, update and attachment builders (state lives in FakeMax)."""

    bot_id: int
    bot_username: str
    base_url: str
    users: dict[int, dict]
    _dialogs: dict[int, int]
    _incoming: dict[str, dict]
    _callbacks: dict[str, dict]
    _sent: list[SentMessage]
    _files: dict[str, tuple[bytes, str]]
    _ids: itertools.count

    def add_user(self, user_id: int, first_name: str = "Тест", last_name: str | None = "Пользователь",
                 username: str | None = None) -> dict:
        name = " ".join(p for p in (first_name, last_name) if p)
        self.users[user_id] = {"user_id": user_id, "first_name": first_name, "last_name": last_name,
                               "username": username, "is_bot": False, "last_activity_time": now_ms(), "name": name}
        return self.users[user_id]

    def user(self, user_id: int) -> dict:
        return self.users.get(user_id) or self.add_user(user_id)

    def dialog_id(self, user_id: int) -> int:
        """chat_id of the bot's dialog with the user (not equal to the user id, as in MAX)."""
        if user_id not in self._dialogs:
            self.user(user_id)
            self._dialogs[user_id] = DIALOG_BASE + len(self._dialogs) + 1
        return self._dialogs[user_id]

    @property
    def bot_user(self) -> dict:
        return {"user_id": self.bot_id, "first_name": "Fake Bot", "last_name": None, "username": self.bot_username,
                "is_bot": True, "last_activity_time": now_ms(), "name": "Fake Bot"}

    def bot_started(self, user_id: int, payload: str | None = None, *, user_locale: str = "ru") -> dict:
        """The user pressed Start, possibly through a deep link ``https://max.ru/<bot>?start=<payload>``.
        Like MAX, a payload longer than the spec's maxLength is dropped, not cut."""
        limit = max_schema.schema("BotStartedUpdate")["allOf"][1]["properties"]["payload"]["maxLength"]
        if payload is not None and len(payload) > limit:
            payload = None
        return {"update_type": "bot_started", "timestamp": now_ms(), "chat_id": self.dialog_id(user_id),
                "user": self.user(user_id), "payload": payload, "user_locale": user_locale}

    def bot_stopped(self, user_id: int, *, user_locale: str = "ru") -> dict:
        return {"update_type": "bot_stopped", "timestamp": now_ms(), "chat_id": self.dialog_id(user_id),
                "user": self.user(user_id), "user_locale": user_locale}

    def message_created(self, user_id: int, text: str | None = None, attachments: list[dict] | None = None,
                        *, user_locale: str = "ru") -> dict:
        """A message from the user in the dialog; ``attachments`` from file_attachment/image_attachment."""
        message = {"sender": self.user(user_id),
                   "recipient": {"chat_id": self.dialog_id(user_id), "chat_type": "dialog", "user_id": self.bot_id},
                   "timestamp": now_ms(),
                   "body": {"mid": self._mid(), "seq": next(self._ids), "text": text,
                            "attachments": attachments or [], "markup": []}}
        self._incoming[message["body"]["mid"]] = message
        return {"update_type": "message_created", "timestamp": message["timestamp"], "message": message,
                "user_locale": user_locale}

    def message_callback(self, user_id: int, payload: str, *, message: SentMessage | None = None,
                         check_button: bool = True, user_locale: str = "ru") -> dict:
        """A press of a callback button; ``message`` is the bot message that carries it (default: the
        user's latest). With ``check_button`` the message must have a button with that payload."""
        if message is None:
            message = next((s for s in reversed(self._sent) if s.user_id == user_id and not s.deleted), None)
        if message is not None and check_button:
            payloads = [b.get("payload") for row in message.buttons for b in row if b.get("type") == "callback"]
            if payload not in payloads:
                raise ValueError(f"message {message.mid} has no callback button with payload {payload!r}")
        callback_id = "cb." + secrets.token_hex(12)
        self._callbacks[callback_id] = {"user_id": user_id, "mid": message.mid if message else None}
        return {"update_type": "message_callback", "timestamp": now_ms(),
                "callback": {"timestamp": now_ms(), "callback_id": callback_id, "payload": payload,
                             "user": self.user(user_id)},
                "message": copy.deepcopy(message.message) if message else None, "user_locale": user_locale}

    def add_file(self, data: bytes, filename: str = "file.bin", content_type: str = "application/octet-stream") -> str:
        """Serve ``data`` from the fake (no token needed, like MAX's file links); returns its URL."""
        file_id = secrets.token_hex(8)
        self._files[file_id] = (data, content_type)
        return f"{self.base_url}/files/{file_id}/{quote(filename)}"

    def file_attachment(self, data: bytes, filename: str = "document.pdf",
                        content_type: str = "application/pdf") -> dict:
        token = secrets.token_urlsafe(16)
        return {"type": "file", "payload": {"url": self.add_file(data, filename, content_type), "token": token},
                "filename": filename, "size": len(data)}

    def image_attachment(self, data: bytes = b"\xff\xd8\xff\xe0fake-jpeg", filename: str = "photo.jpg") -> dict:
        return {"type": "image", "payload": {"photo_id": next(self._ids) + 900_000, "token": secrets.token_urlsafe(16),
                                             "url": self.add_file(data, filename, "image/jpeg")}}

    def _mid(self) -> str:
        return "mid." + secrets.token_hex(16)
