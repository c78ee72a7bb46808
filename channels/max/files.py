"""Files both ways: citizens' images and documents downloaded into `Attachment`s (type and
declared size checked before any byte is fetched, the size again while reading), reply files
uploaded (POST /uploads, then the multipart field `data`) and sent as `file` attachments under
their own names (maxapi's InputMediaBuffer would append a guessed extension)."""
from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from urllib.parse import unquote, urlparse

import aiohttp
from maxapi.enums.upload_type import UploadType
from maxapi.types.attachments.upload import AttachmentPayload, AttachmentUpload

from core.events import Attachment, OutFile

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_read=30)
EXT_MIME = {"heic": "image/heic", "odt": "application/vnd.oasis.opendocument.text", "rtf": "application/rtf",
            "ics": "text/calendar", "webp": "image/webp"}


class TooBig(Exception):
    pass


class UploadError(Exception):
    """The upload server refused the file, or answered without a token."""


def mime_of(name: str, fallback: str = "application/octet-stream") -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return EXT_MIME.get(ext) or mimetypes.guess_type(name)[0] or fallback


def describe(raw: dict) -> tuple[str, str, str, int, str | None]:
    """(kind, file name, mime, declared size, url) of an image/file/video/audio attachment."""
    payload = raw.get("payload") or {}
    url = payload.get("url")
    kind = raw.get("type")
    if kind == "image":
        return "photo", f"photo_{payload.get('photo_id') or 'max'}.jpg", "image/jpeg", 0, url
    name = str(raw.get("filename") or "")
    if not name and url:
        name = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    name = (name or ("video.mp4" if kind == "video" else "audio.mp3" if kind == "audio" else "document"))[:255]
    mime = mime_of(name)
    size = int(raw.get("size") or 0)
    return ("photo" if mime.startswith("image/") else "document"), name, mime, size, url


async def download(session: aiohttp.ClientSession, url: str, limit: int) -> bytes:
    async with session.get(url, timeout=DOWNLOAD_TIMEOUT) as resp:
        if resp.status != 200:
            raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=resp.status,
                                              message="download failed")
        if resp.content_length is not None and resp.content_length > limit:
            raise TooBig(resp.content_length)
        data = bytearray()
        async for chunk in resp.content.iter_chunked(1 << 16):
            data += chunk
            if len(data) > limit:
                raise TooBig(len(data))
        return bytes(data)


async def fetch(session, raw: dict, max_bytes: int, allowed_mime: frozenset[str] | None) -> Attachment:
    """data=None when the type is not accepted, it is too big, or it could not be fetched: the
    engine then answers with the reason."""
    kind, name, mime, size, url = describe(raw)
    if (allowed_mime is not None and mime not in allowed_mime) or size > max_bytes or not url:
        return Attachment(kind, name, mime, size, None)
    try:
        data = await download(session, url, max_bytes)
    except TooBig as e:
        return Attachment(kind, name, mime, max(int(e.args[0]), max_bytes + 1), None)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as e:
        log.warning("max: attachment %s not downloaded: %s", name, type(e).__name__)
        return Attachment(kind, name, mime, size, None)
    return Attachment(kind, name, mime, len(data), data)


async def fetch_all(session, items: tuple[dict, ...], max_bytes: int,
                    allowed_mime: frozenset[str] | None) -> tuple[Attachment, ...]:
    return tuple(await asyncio.gather(*(fetch(session, raw, max_bytes, allowed_mime) for raw in items)))


async def upload(bot, session: aiohttp.ClientSession, f: OutFile) -> AttachmentUpload:
    """One reply file as a `file` attachment, ready for POST /messages."""
    endpoint = await bot.get_upload_url(UploadType.FILE)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("data", f.data, filename=f.name, content_type=f.mime)
    async with session.post(endpoint.url, data=form, timeout=DOWNLOAD_TIMEOUT) as resp:
        text = await resp.text()
        if resp.status >= 500 or resp.status == 429:
            raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=resp.status,
                                              message="upload failed")
    try:
        token = json.loads(text).get("token") or endpoint.token
    except (ValueError, AttributeError):
        token = endpoint.token
    if not token:
        raise UploadError(text[:200])
    return AttachmentUpload(type=UploadType.FILE, payload=AttachmentPayload(token=token))
