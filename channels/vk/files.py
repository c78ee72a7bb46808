"""Files both ways: citizens' photos and documents downloaded into `Attachment`s (the size is
checked before the download), reply files uploaded as VK documents for messages.send."""
from __future__ import annotations

import asyncio
import logging
import mimetypes
from typing import Any

import aiohttp

from core.events import Attachment, OutFile

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_read=30)
EXT_MIME = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
    "heic": "image/heic", "gif": "image/gif", "pdf": "application/pdf", "txt": "text/plain",
    "doc": "application/msword", "rtf": "application/rtf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text", "ics": "text/calendar",
}


class TooBig(Exception):
    pass


def mime_for_ext(ext: str) -> str:
    ext = (ext or "").lower().lstrip(".")
    return EXT_MIME.get(ext) or mimetypes.guess_type(f"file.{ext}")[0] or "application/octet-stream"


def largest_photo(photo: dict) -> str | None:
    """URL of the biggest size of a VK photo."""
    sizes = [s for s in photo.get("sizes") or [] if isinstance(s, dict) and s.get("url")]
    if not sizes:
        return photo.get("orig_photo", {}).get("url") if isinstance(photo.get("orig_photo"), dict) else None
    best = max(sizes, key=lambda s: (int(s.get("width") or 0) * int(s.get("height") or 0), s.get("type", "")))
    return best["url"]


async def download(http, url: str, limit: int) -> bytes:
    """The body of `url`; TooBig as soon as it is known to exceed `limit` bytes."""
    async with http.request(url, "GET", timeout=DOWNLOAD_TIMEOUT) as resp:
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


async def fetch(http, raw: dict, max_bytes: int) -> Attachment | None:
    """One VK photo/doc attachment as an `Attachment`: data=None when too big or not received."""
    kind = raw.get("type")
    item = raw.get(kind) or {}
    if kind == "photo":
        url, declared = largest_photo(item), 0
        name, mime, att_kind = f"photo_{item.get('id', 'vk')}.jpg", "image/jpeg", "photo"
    elif kind == "doc":
        url, declared = item.get("url"), int(item.get("size") or 0)
        ext = str(item.get("ext") or "")
        name = str(item.get("title") or f"document.{ext or 'bin'}")[:255]
        if ext and not name.lower().endswith("." + ext.lower()):
            name = f"{name}.{ext}"
        mime = mime_for_ext(ext or name.rsplit(".", 1)[-1])
        att_kind = "photo" if mime.startswith("image/") else "document"
    else:
        return None
    if declared > max_bytes:  # refused by the engine with a clear reason; never downloaded
        return Attachment(att_kind, name, mime, declared, None)
    if not url:
        return Attachment(att_kind, name, mime, declared, None)
    try:
        data = await download(http, url, max_bytes)
    except TooBig as e:
        return Attachment(att_kind, name, mime, max(int(e.args[0]), max_bytes + 1), None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
        log.warning("VK attachment %s not downloaded: %s", name, type(e).__name__)
        return Attachment(att_kind, name, mime, declared, None)
    return Attachment(att_kind, name, mime, len(data), data)


async def fetch_all(http, items: tuple[dict, ...], max_bytes: int) -> tuple[Attachment, ...]:
    got = await asyncio.gather(*(fetch(http, raw, max_bytes) for raw in items))
    return tuple(a for a in got if a is not None)


class UploadError(Exception):
    """The upload server refused the file (its answer had no `file`)."""


async def upload_doc(call, http, peer_id: int, f: OutFile) -> str:
    """docs.getMessagesUploadServer + upload + docs.save -> "doc<owner>_<id>" for `attachment`.
    `call(method, params)` is the sender's API call with retries."""
    server: dict[str, Any] = await call("docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer_id})
    form = aiohttp.FormData()
    form.add_field("file", f.data, filename=f.name, content_type=f.mime)
    answer = await http.request_json(server["upload_url"], method="POST", data=form, timeout=DOWNLOAD_TIMEOUT)
    if not isinstance(answer, dict) or not answer.get("file"):
        raise UploadError(str(answer.get("error") if isinstance(answer, dict) else answer)[:200])
    saved = await call("docs.save", {"file": answer["file"], "title": f.name})
    doc = saved["doc"] if isinstance(saved, dict) and "doc" in saved else saved[0]
    return f"doc{doc['owner_id']}_{doc['id']}"
