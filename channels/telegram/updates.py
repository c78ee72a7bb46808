"""Telegram Message / CallbackQuery -> Inbound (and what to download for it).

Only private chats are served: the citizen's user id is the chat id the outbox writes to.
"""
from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message, User

from core.events import Inbound

CHANNEL = "telegram"

# "/start appeal", "/status ЖН-2026-000001", "/menu@fake_citizen_bot"
COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.S)
FILE_CONTENT = {ContentType.PHOTO, ContentType.DOCUMENT, ContentType.VIDEO, ContentType.AUDIO, ContentType.ANIMATION}
# What a person can send that the assistant does not read: answered with a polite hint.
UNSUPPORTED_CONTENT = {
    ContentType.STICKER, ContentType.VOICE, ContentType.VIDEO_NOTE, ContentType.LOCATION, ContentType.VENUE,
    ContentType.CONTACT, ContentType.DICE, ContentType.POLL, ContentType.GAME, ContentType.STORY,
    ContentType.PAID_MEDIA, ContentType.CHECKLIST, ContentType.UNKNOWN,
    *(c for c in ("live_photo",) if c in ContentType._value2member_map_),  # newer Bot API types
}
MAX_ARGUMENT = 200


@dataclass(frozen=True)
class FileRef:
    """A file to fetch from Telegram before the engine sees the message."""

    kind: str  # photo | document (videos and audio go as documents: the engine checks the type)
    file_id: str
    file_name: str
    mime: str
    size: int | None


def display_name(user: User | None) -> str | None:
    return user.full_name[:200] if user else None


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str | None] | None:
    """("start", "appeal") for "/start appeal"; None when the text is not a command for us."""
    match = COMMAND_RE.match(text.strip())
    if not match:
        return None
    name, addressee, argument = match.groups()
    if addressee and bot_username and addressee.casefold() != bot_username.casefold():
        return None
    argument = " ".join((argument or "").split())[:MAX_ARGUMENT] or None
    return name.lower(), argument


def kind_of(message: Message) -> str:
    """text | files | unsupported | service"""
    content = message.content_type
    if content == ContentType.TEXT:
        return "text"
    if content in FILE_CONTENT:
        return "files"
    if content in UNSUPPORTED_CONTENT:
        return "unsupported"
    return "service"  # pinned messages, chat changes, payments…: nothing a citizen said


def _guess_mime(name: str | None, fallback: str = "application/octet-stream") -> str:
    return (mimetypes.guess_type(name)[0] if name else None) or fallback


def file_refs(message: Message) -> list[FileRef]:
    if message.photo:
        photo = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        return [FileRef("photo", photo.file_id, f"photo_{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size)]
    for media, default_name in ((message.document, "document"), (message.video, "video.mp4"),
                                (message.audio, "audio.mp3"), (message.animation, "animation.mp4")):
        if media is not None:
            name = getattr(media, "file_name", None) or default_name
            mime = getattr(media, "mime_type", None) or _guess_mime(name)
            return [FileRef("document", media.file_id, name[:255], mime, media.file_size)]
    return []


def message_inbound(message: Message, bot_username: str | None = None) -> Inbound:
    """A text or a command (files are added by the caller after downloading)."""
    user = str(message.from_user.id if message.from_user else message.chat.id)
    name = display_name(message.from_user)
    text = message.text if message.text is not None else message.caption
    if message.text is not None:
        command = parse_command(message.text, bot_username)
        if command:
            return Inbound(CHANNEL, user, command=command[0], argument=command[1], display_name=name)
    return Inbound(CHANNEL, user, text=text, display_name=name)


def callback_inbound(query: CallbackQuery, payload: str) -> Inbound:
    return Inbound(CHANNEL, str(query.from_user.id), button=payload, display_name=display_name(query.from_user))
