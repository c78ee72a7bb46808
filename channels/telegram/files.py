"""Downloads of citizens' files, with the checks done before any byte is fetched.

A file of a type the agency does not accept, or larger than MAX_FILE_MB, or beyond Telegram's
own 20 MB getFile limit, is not downloaded: it is passed with data=None, and the engine answers
with the reason (type, size) or "could not receive it, send it again".
"""
from __future__ import annotations

import asyncio
import io
import logging

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from channels.telegram.updates import FileRef
from core.events import Attachment

log = logging.getLogger(__name__)

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files
DOWNLOAD_TIMEOUT = 60


async def fetch(bot: Bot, ref: FileRef, *, max_bytes: int, allowed_mime: frozenset[str] | None = None) -> Attachment:
    def skipped(size: int | None) -> Attachment:
        return Attachment(ref.kind, ref.file_name, ref.mime, size if size is not None else 0, None)

    if allowed_mime is not None and ref.mime not in allowed_mime:
        return skipped(ref.size)
    if ref.size is not None and (ref.size > max_bytes or ref.size > TELEGRAM_DOWNLOAD_LIMIT):
        return skipped(ref.size)
    try:
        info = await bot.get_file(ref.file_id)
        size = info.file_size if info.file_size is not None else ref.size
        if size is not None and size > max_bytes:
            return skipped(size)
        if not info.file_path:
            return skipped(size)
        buffer = io.BytesIO()
        await bot.download_file(info.file_path, destination=buffer, timeout=DOWNLOAD_TIMEOUT)
        data = buffer.getvalue()
    except (TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
        # The message may contain the download URL (and so the token): the log filter masks it.
        log.warning("telegram: could not download %s %s: %s: %s", ref.kind, ref.file_id, type(e).__name__, e)
        return skipped(ref.size)
    return Attachment(ref.kind, ref.file_name, ref.mime, len(data), data)
