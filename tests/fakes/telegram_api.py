"""Strict fake Telegram Bot API server for tests (aiohttp on 127.0.0.1).

The real aiogram ``Bot``/``Dispatcher`` talk to it over HTTP::

    fake = FakeTelegram()                      # or: async with FakeTelegram() as fake:
    await fake.start()
    bot = Bot(fake.token, session=AiohttpSession(
        api=TelegramAPIServer.from_base(fake.base_url)))
    fake.queue_update(fake.message_update(42, "/start"))
    ...run dp.start_polling(bot, handle_signals=False) in a task...
    [reply] = await fake.wait_for_messages(chat_id=42)
    assert "Здравствуйте" in reply.text
    await bot.session.close()
    await fake.stop()

Strictness: every call is checked against ``tests/data/specs/telegram-bot-api.json``
(unknown method -> 404; unknown, missing or mistyped parameter -> 400; JSON objects such as
reply_markup are checked field by field), plus the documented limits (4096/1024 characters
after entity parsing, 1-64 byte callback_data, 200-character callback answers) with
Telegram's own error wording where known. Chats must be known first (an update mentioning
them, or ``add_chat``), otherwise "chat not found". Spec methods the fake does not
implement answer 501, so a test notices. Failure injection: ``fail_next``, ``block_chat``,
``delay_next``, ``fail_next_download``; flood limits: ``FakeTelegram(enforce_limits=True)``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import mimetypes
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "specs" / "telegram-bot-api.json"
_SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8"))  # loaded once per process
METHODS: dict[str, dict] = {name.lower(): m for name, m in _SPEC["methods"].items()}
TYPES: dict[str, dict] = _SPEC["types"]

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456789"
# Parameters that aiogram still models but that left the spec in Bot API 7.0 (Telegram itself
# still accepts them; pass allow_deprecated=True to tolerate them).
DEPRECATED_PARAMS = {
    "reply_to_message_id": "reply_parameters",
    "allow_sending_without_reply": "reply_parameters",
    "disable_web_page_preview": "link_preview_options (aiogram adds this parameter for "
    "DefaultBotProperties(link_preview_is_disabled=True); use link_preview=LinkPreviewOptions(is_disabled=True))",
}
MISSING_WORDING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "document": "there is no document in the request",
    "photo": "there is no photo in the request",
}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a content and reply markup of the current content and reply markup of the message"
)
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
BUTTON_NON_ACTION = {"text", "icon_custom_emoji_id", "style"}
UPDATE_KINDS = {f["name"] for f in TYPES["Update"]["fields"]} - {"update_id"}
# What getUpdates delivers when allowed_updates is [] or was never given.
DEFAULT_ALLOWED = UPDATE_KINDS - {"chat_member", "message_reaction", "message_reaction_count"}
MAX_UPLOAD, MAX_DOWNLOAD = 50 * 2**20, 20 * 2**20


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status == error_code."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def payload(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


@dataclass
class ApiCall:
    """One HTTP call the bot made. ``params`` are decoded (JSON parsed, numbers as int)."""

    method: str
    params: dict[str, Any]
    status: int | None = None  # None while the call is still being answered
    description: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class SentMessage:
    """A message the bot sent; ``message`` is the live Message dict (edits update it)."""

    chat_id: int
    message_id: int
    kind: str  # "text", "document", "photo"
    message: dict
    params: dict  # the request parameters of the send
    reply_markup: dict | None = None  # as sent (reply keyboards too); None after removal
    edits: int = 0
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """Text (or caption) as the user sees it: entities already parsed out."""
        return self.message.get("text", self.message.get("caption"))

    @property
    def buttons(self) -> list[dict]:
        """Inline keyboard buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    mime_type: str
    file_name: str | None
    file_path: str


# ----------------------------------------------------------------- spec-driven validation
class _Invalid(Exception):
    """Validation failure; ``depth`` picks the most specific error among union members."""

    def __init__(self, message: str | None, depth: int, json_error: bool = False) -> None:
        super().__init__(message)
        self.message, self.depth, self.json_error = message, depth, json_error


def _loads(value: Any, depth: int) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise _Invalid(None, depth, json_error=True) from None


def _coerce(value: Any, types: list[str], depth: int = 0) -> Any:
    """Convert a form/JSON value to one of the spec ``types`` or raise _Invalid."""
    best: _Invalid | None = None
    for type_name in types:
        try:
            return _coerce_one(value, type_name, depth)
        except _Invalid as error:
            if best is None or error.depth > best.depth:
                best = error
    assert best is not None
    raise best


def _coerce_one(value: Any, type_name: str, depth: int) -> Any:  # noqa: C901, PLR0911, PLR0912
    if type_name.startswith("Array of "):
        value = _loads(value, depth)
        if not isinstance(value, list):
            raise _Invalid(None, depth)
        return [_coerce_one(item, type_name[len("Array of "):], depth + 1) for item in value]
    if type_name in ("String", "InputFile"):  # InputFile: "attach://<part>", a file_id or a URL
        if isinstance(value, str):
            return value
        raise _Invalid(None, depth)
    if type_name == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise _Invalid(None, depth)
    if type_name == "Float":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _Invalid(None, depth)
        try:
            return float(value)
        except ValueError:
            raise _Invalid(None, depth) from None
    if type_name == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise _Invalid(None, depth)
    spec = TYPES.get(type_name)
    if spec is None:  # a type the spec does not describe: accept as is
        return value
    value = _loads(value, depth)
    if not isinstance(value, dict):
        raise _Invalid(None, depth)
    if "subtypes" in spec:
        return _coerce(value, spec["subtypes"], depth)
    fields = {f["name"]: f for f in spec.get("fields", [])}
    for key in value:
        if key not in fields:
            raise _Invalid(f"can't parse {type_name}: unexpected field \"{key}\"", depth)
    for name, f in fields.items():
        if f["required"] and name not in value:
            raise _Invalid(f"can't parse {type_name}: field \"{name}\" must be present", depth)
    result = {}
    for key, item in value.items():
        types = fields[key]["types"]
        try:
            result[key] = _coerce(item, types, depth + 1)
        except _Invalid as error:
            if error.message:
                raise
            wanted = " or ".join(types)
            raise _Invalid(f"can't parse {type_name}: Field \"{key}\" must be of type {wanted}", depth + 1) from None
    literal = re.search(r"must be \*?([a-z_]+)\*?\s*$", fields.get("type", {}).get("description", ""))
    if literal and result.get("type") != literal.group(1):  # discriminator of union subtypes
        raise _Invalid(f"can't parse {type_name}: type must be \"{literal.group(1)}\"", depth)
    return result


def _coerce_param(name: str, value: Any, types: list[str]) -> Any:
    try:
        return _coerce(value, types)
    except _Invalid as error:
        if error.message:
            raise _bad(error.message) from None
        if error.json_error:
            what = {"reply_markup": "reply keyboard markup", "entities": "entities",
                    "caption_entities": "entities"}.get(name, name)
            raise _bad(f"can't parse {what} JSON object") from None
        raise _bad(f"wrong type of parameter \"{name}\": expected {' or '.join(types)}") from None


def check_update(update: dict) -> dict:
    """Validate a test-built update against the spec's Update type (ValueError if wrong)."""
    try:
        return _coerce(update, ["Update"])
    except _Invalid as error:
        raise ValueError(f"invalid update {update!r}: {error.message or 'wrong field type'}") from None


# ----------------------------------------------------------------- formatting (parse_mode)
def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entity_error(message: str) -> ApiError:
    return _bad(f"can't parse entities: {message}")


HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
HTML_ENTITY = re.compile(r"&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
HTML_ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def parse_html(src: str) -> tuple[str, list[dict]]:
    """Telegram's HTML mode: returns (plain text, entities with UTF-16 offsets)."""
    out: list[str] = []
    pos = 0  # UTF-16 length of ``out``
    stack: list[tuple[str, dict, int]] = []  # (tag, attributes, start)
    entities: list[dict] = []
    i = 0
    while i < len(src):
        char = src[i]
        if char == "&":  # only numeric and lt/gt/amp/quot entities; anything else is literal
            match = HTML_ENTITY.match(src, i)
            piece = "&"
            if match and match.group(3):
                piece = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[match.group(3)]
            elif match:
                code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
                if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    piece = chr(code)
                else:
                    match = None
            out.append(piece)
            pos += _u16(piece)
            i = match.end() if match else i + 1
            continue
        if char != "<":
            out.append(char)
            pos += _u16(char)
            i += 1
            continue
        offset = _byte_offset(src, i)
        if src.startswith("</", i):
            end = src.find(">", i)
            if end < 0:
                raise _entity_error(f"Unclosed end tag at byte offset {offset}")
            name = src[i + 2:end].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {offset}")
            tag, attrs, start = stack.pop()
            if name != tag:
                raise _entity_error(f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"')
            language = (attrs.get("class") or "").removeprefix("language-")
            if tag == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
                stack[-1][1]["_language"] = language  # <pre><code class="language-x"> is one entity
            elif pos > start:
                entity: dict[str, Any] = {"type": HTML_TAGS[tag], "offset": start, "length": pos - start}
                if tag == "a":
                    entity["url"] = attrs.get("href", "")
                elif tag == "pre" and attrs.get("_language"):
                    entity["language"] = attrs["_language"]
                elif tag == "tg-emoji":
                    entity["custom_emoji_id"] = attrs.get("emoji-id", "")
                elif tag == "blockquote" and "expandable" in attrs:
                    entity["type"] = "expandable_blockquote"
                if not (tag == "a" and not entity["url"]):
                    entities.append(entity)
        else:  # like TDLib: the tag name runs to a space or ">", then attributes up to ">"
            name = re.match(r"[^\s>]*", src[i + 1:]).group(0)
            end = src.find(">", i + 1 + len(name))
            if i + 1 + len(name) >= len(src):
                raise _entity_error(f"Unclosed start tag at byte offset {offset}")
            name = name.lower()
            if name not in HTML_TAGS:
                raise _entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
            if end < 0:
                raise _entity_error(f"Unclosed start tag at byte offset {offset}")
            attrs = {m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "")
                     for m in HTML_ATTR.finditer(src[i + 1 + len(name):end])}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
            stack.append((name, attrs, pos))
        i = end + 1
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


MD_ENTITIES = {"*": ("bold", "Bold"), "_": ("italic", "Italic"), "__": ("underline", "Underline"),
               "~": ("strikethrough", "Strikethrough"), "||": ("spoiler", "Spoiler"), "[": ("text_link", "TextUrl")}
MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _find_close(src: str, token: str, start: int, v2: bool) -> int:
    i = start
    while i < len(src):
        if v2 and src[i] == "\\":
            i += 2
            continue
        if src.startswith(token, i):
            return i
        i += 1
    return -1


def parse_markdown(src: str, v2: bool) -> tuple[str, list[dict]]:  # noqa: C901, PLR0912
    """MarkdownV2 (``v2``) or legacy Markdown, simplified after TDLib's parser."""
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, int, int]] = []  # (marker, start, index in src)
    entities: list[dict] = []

    def unclosed(marker: str, index: int) -> ApiError:
        if v2:
            return _entity_error(f"Can't find end of {MD_ENTITIES.get(marker, ('', marker))[1]} entity at byte offset {_byte_offset(src, index)}")
        return _entity_error(f"Can't find end of the entity starting at byte offset {_byte_offset(src, index)}")

    i = 0
    while i < len(src):
        char = src[i]
        if char == "\\" and i + 1 < len(src) and (ord(src[i + 1]) <= 126 if v2 else src[i + 1] in "_*`["):
            out.append(src[i + 1])
            pos += 1
            i += 2
            continue
        if char == "`":
            fence = "```" if src.startswith("```", i) else "`"
            end = _find_close(src, fence, i + len(fence), v2)
            if end < 0:
                raise unclosed("Pre" if fence == "```" else "Code", i)
            body, extra = src[i + len(fence):end], {}
            if fence == "```" and "\n" in body and body.split("\n", 1)[0].strip():
                extra["language"], body = body.split("\n", 1)
            if v2:
                body = re.sub(r"\\([\\`])", r"\1", body)
            if body:
                entities.append({"type": "pre" if fence == "```" else "code", "offset": pos, "length": _u16(body), **extra})
            out.append(body)
            pos += _u16(body)
            i = end + len(fence)
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            if not src.startswith("(", i + 1) or (close := _find_close(src, ")", i + 2, v2)) < 0:
                raise unclosed("[", stack[-1][2])
            url = re.sub(r"\\(.)", r"\1", src[i + 2:close]) if v2 else src[i + 2:close]
            _, start, _ = stack.pop()
            if pos > start:
                entities.append({"type": "text_link", "offset": start, "length": pos - start, "url": url})
            i = close + 1
            continue
        marker = next((m for m in ("__", "||") if v2 and src.startswith(m, i)), char)
        if marker in MD_ENTITIES and (v2 or marker in "*_["):
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if pos > start:
                    entities.append({"type": MD_ENTITIES[marker][0], "offset": start, "length": pos - start})
            elif not v2 and stack:  # legacy Markdown does not nest: literal inside an entity
                out.append(marker)
                pos += 1
            elif any(m == marker for m, _, _ in stack):
                raise unclosed(stack[-1][0], stack[-1][2])
            else:
                stack.append((marker, pos, i))
            i += len(marker)
            continue
        if v2 and char == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # blockquote line marker: accepted, the entity is not modelled
            continue
        if v2 and char in MD2_RESERVED:
            raise _entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        out.append(char)
        pos += _u16(char)
        i += 1
    if stack:
        raise unclosed(stack[-1][0], stack[-1][2])
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_entities(text: str, parse_mode: str) -> tuple[str, list[dict]]:
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("markdown", "markdownv2"):
        return parse_markdown(text, v2=mode == "markdownv2")
    raise _bad("unsupported parse_mode")


def check_reply_markup(markup: dict | None) -> None:
    """Semantic checks the spec types cannot express (buttons)."""
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if not button["text"]:
                raise _bad("can't parse InlineKeyboardButton: Text must be non-empty")  # wording guessed
            actions = [k for k, v in button.items() if k not in BUTTON_NON_ACTION and v != ""]
            if not actions:
                raise _bad("can't parse InlineKeyboardButton: Text buttons are not allowed in the inline keyboard")
            if "callback_data" in button and len(button["callback_data"].encode("utf-8")) > 64:
                raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://\S+$", button["url"]):
                raise _bad("BUTTON_URL_INVALID")
    for row in (markup or {}).get("keyboard", []):
        for button in row:
            if not button["text"]:
                raise _bad("can't parse KeyboardButton: Text must be non-empty")  # wording guessed


def _inline(markup: dict | None) -> dict | None:
    """Only inline keyboards are echoed back in Message.reply_markup."""
    return markup if markup and "inline_keyboard" in markup else None


def _frozen(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


# ----------------------------------------------------------------- the fake server
class FakeTelegram:
    """The fake Bot API server plus its test-control API (all control methods are sync
    unless marked async; call them from the event loop thread)."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = "fake_citizen_bot",
                 enforce_limits: bool = False, global_rate: int = 30, chat_rate: float = 1.0,
                 chat_burst: int = 3, allow_deprecated: bool = False) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": "Fake Bot", "username": bot_username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False, "can_connect_to_business": False,
                         "has_main_web_app": False}
        self.enforce_limits, self.global_rate = enforce_limits, global_rate
        self.chat_rate, self.chat_burst = chat_rate, chat_burst
        self.allow_deprecated = allow_deprecated
        self.base_url = ""
        self.requests: list[ApiCall] = []
        self.callback_answers: list[dict] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}  # (scope JSON, language) -> commands
        self.webhook: dict[str, Any] = {}
        self.limit_hits = 0  # 429s answered by enforce_limits
        self.files: dict[str, StoredFile] = {}
        self._chats: dict[int, dict] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], dict] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: list[SentMessage] = []
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._callbacks: set[str] = set()  # unanswered callback query ids
        self._updates: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._failures: dict[str, deque] = {}
        self._download_failures: deque[int] = deque()
        self._delays: dict[str, deque] = {}
        self._global_window: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}  # chat -> (tokens, timestamp)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD + 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = "http://127.0.0.1:%d" % self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._wake()  # release long polls and injected delays
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------- test controls
    def add_chat(self, chat_id: int, *, type: str | None = None, title: str | None = None,  # noqa: A002
                 username: str | None = None, first_name: str | None = None) -> dict:
        """Make a chat known (private for positive ids, (super)group for negative ones)."""
        if chat_id in self._chats:
            return self._chats[chat_id]
        kind = type or ("private" if chat_id > 0 else "supergroup" if str(chat_id).startswith("-100") else "group")
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = first_name or f"User{chat_id}"
        else:
            chat["title"] = title or f"Chat {chat_id}"
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        return chat

    def block_chat(self, chat_id: int) -> None:
        """Every call addressed to this chat now fails with 403 (user blocked the bot)."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def fail_next(self, method: str, status: int = 500, description: str | None = None,
                  retry_after: int | None = None, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` ("*" = any) answer this error."""
        if status == 429 and retry_after is None:
            retry_after = 1
        default = {429: f"Too Many Requests: retry after {retry_after}", 403: "Forbidden: bot was blocked by the user",
                   400: "Bad Request", 500: "Internal Server Error", 502: "Bad Gateway"}
        error = ApiError(status, description or default.get(status, "Error"), retry_after)
        self._failures.setdefault(method.lower(), deque()).extend([error] * count)

    def fail_next_download(self, status: int = 500, count: int = 1) -> None:
        """The next ``count`` file downloads (``/file/bot<token>/<path>``) answer this status."""
        self._download_failures.extend([status] * count)

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` answers of ``method`` ("*" = any) for ``seconds``."""
        self._delays.setdefault(method.lower(), deque()).extend([seconds] * count)

    def add_file(self, data: bytes, mime_type: str = "application/octet-stream",
                 file_name: str | None = None, *, kind: str = "document") -> str:
        """Register downloadable bytes; returns the file_id (getFile/download work for it)."""
        number = next(self._ids)
        ext = Path(file_name).suffix if file_name else (mimetypes.guess_extension(mime_type) or "")
        stored = StoredFile(f"FAKE-{kind}-{number:06d}", f"U{number:06d}", data, mime_type, file_name,
                            f"{kind}s/file_{number}{ext}")
        self.files[stored.file_id] = stored
        return stored.file_id

    def queue_update(self, update: dict) -> dict:
        """Queue an update for getUpdates (adds update_id when absent); returns it."""
        update = self._with_update_id(update)
        check_update(update)
        self._updates.append(update)
        self._wake()
        return update

    def message_update(self, chat_id: int, text: str, *, user: dict | int | None = None,
                       entities: list[dict] | None = None) -> dict:
        """Build (not queue) an update with an incoming text message; "/cmd" gets its entity."""
        content: dict[str, Any] = {"text": text}
        if entities is None and text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": _u16(text.split()[0])}]
        if entities:
            content["entities"] = entities
        return {"message": self._incoming(chat_id, user, content)}

    def photo_update(self, chat_id: int, data: bytes = b"\xff\xd8\xff\xe0fake-jpeg", *,
                     caption: str | None = None, user: dict | int | None = None,
                     width: int = 1280, height: int = 960) -> dict:
        file_id = self.add_file(data, "image/jpeg", kind="photo")
        stored = self.files[file_id]
        content: dict[str, Any] = {"photo": [{"file_id": file_id, "file_unique_id": stored.file_unique_id,
                                              "width": width, "height": height, "file_size": len(data)}]}
        if caption is not None:
            content["caption"] = caption
        return {"message": self._incoming(chat_id, user, content)}

    def document_update(self, chat_id: int, data: bytes, file_name: str = "document.pdf",
                        mime_type: str | None = None, *, caption: str | None = None,
                        user: dict | int | None = None) -> dict:
        mime_type = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        file_id = self.add_file(data, mime_type, file_name)
        content: dict[str, Any] = {"document": self._document(self.files[file_id])}
        if caption is not None:
            content["caption"] = caption
        return {"message": self._incoming(chat_id, user, content)}

    def content_update(self, chat_id: int, content: dict, *, user: dict | int | None = None) -> dict:
        """Build an update with an incoming message of any other content, given as its Message
        fields (checked against the spec when queued), e.g. ``{"location": {"latitude": 46.3,
        "longitude": 48.0}}`` or ``{"sticker": {...}}``."""
        return {"message": self._incoming(chat_id, user, dict(content))}

    def callback_update(self, chat_id: int, data: str, *, message_id: int | None = None,
                        user: dict | int | None = None, check_button: bool = True) -> dict:
        """Build a press of a button on a bot message (default: the bot's latest message in the
        chat that shows this callback_data). ``check_button=False`` allows stale/forged data."""
        chat = self._known_chat(chat_id)
        if message_id is None:
            mine = self.sent_messages(chat_id)[::-1]
            pick = next((s for s in mine if data in [b.get("callback_data") for b in s.buttons]), None)
            pick = pick or (None if check_button or not mine else mine[0])
            if pick is None:
                raise ValueError(f"no bot message in chat {chat_id} has a button with callback_data {data!r}")
            message_id = pick.message_id
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if check_button:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if data not in [b.get("callback_data") for row in rows for b in row]:
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(4_000_000 + next(self._ids))
        self._callbacks.add(query_id)
        return {"callback_query": {"id": query_id, "from": self._user(user, chat), "message": _frozen(message),
                                   "chat_instance": str(abs(chat_id) * 7919), "data": data}}

    def sent_messages(self, chat_id: int | None = None, *, include_deleted: bool = False) -> list[SentMessage]:
        return [s for s in self._sent if (chat_id is None or s.chat_id == chat_id)
                and (include_deleted or not s.deleted)]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return [c for c in self.requests if method is None or c.method.lower() == method.lower()]

    async def wait_for_messages(self, count: int = 1, chat_id: int | None = None,
                                timeout: float = 5.0) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages (in total) to the chat."""
        deadline = time.monotonic() + timeout
        while len(self.sent_messages(chat_id)) < count:
            if time.monotonic() > deadline:
                recent = [(c.method, c.status, c.description) for c in self.requests[-10:]]
                raise AssertionError(f"expected {count} message(s) to {chat_id}; recent calls: {recent}")
            await asyncio.sleep(0.01)
        return self.sent_messages(chat_id)

    async def post_update_to(self, url: str, update: dict, secret_token: str | None = None) -> int:
        """Deliver an update to a webhook like Telegram does; returns the HTTP status."""
        update = self._with_update_id(update)
        check_update(update)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as resp:
            await resp.read()
            return resp.status

    # ------------------------------------------------------------- HTTP plumbing
    async def _handle(self, request: web.Request) -> web.Response:
        spec = METHODS.get(request.match_info["method"].lower())
        name = spec["name"] if spec else request.match_info["method"]
        call = ApiCall(name, {})
        self.requests.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if spec is None:
                raise ApiError(404, "Not Found")
            await self._maybe_delay(name)
            raw, files = await self._read_params(request, spec)
            call.params, call.files = raw, {k: v[0] for k, v in files.items()}
            handler = getattr(self, f"_api_{name}", None)
            if handler is None:
                raise ApiError(501, f"Not Implemented: the fake Telegram server has no {name}")
            call.params = params = self._validate(spec, raw)
            self._check_chat(name, params)
            self._check_injected(name)
            limited = self.enforce_limits and self._is_send(name)
            if limited:
                self._check_limits(self._chat(params["chat_id"])["id"])
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
            if limited:  # only successful sends use up the budget
                self._check_limits(self._chat(params["chat_id"])["id"], consume=True)
        except ApiError as error:
            call.status, call.description = error.status, error.description
            return self._error(error)
        except Exception as exc:  # a bug in the fake: make it loud but well-formed
            call.status, call.description = 500, f"Internal Server Error: fake bug {exc!r}"
            return self._error(ApiError(500, call.description))
        call.status = 200
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(error: ApiError) -> web.Response:
        return web.json_response(error.payload(), status=error.status)

    async def _read_params(self, request: web.Request, spec: dict) -> tuple[dict, dict]:
        """Query string + JSON / urlencoded / multipart body. Files: name -> (bytes, filename, mime)."""
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[bytes, str, str]] = {}
        if request.content_type == "application/json" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad("JSON object expected")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = (value.file.read(), value.filename, value.content_type)
                else:
                    params[key] = value
        spec_fields = {f["name"] for f in spec.get("fields", [])}
        for key in files:  # a file sent directly as the parameter part
            if key in spec_fields and key not in params:
                params[key] = f"attach://{key}"
        return params, files

    def _validate(self, spec: dict, raw: dict) -> dict:
        fields = {f["name"]: f for f in spec.get("fields", [])}
        params = {}
        for key, value in raw.items():
            if key not in fields:
                if key in DEPRECATED_PARAMS:
                    if self.allow_deprecated:
                        continue
                    raise _bad(f"parameter \"{key}\" was removed in Bot API 7.0, use {DEPRECATED_PARAMS[key]}")
                raise _bad(f"unexpected parameter \"{key}\" for {spec['name']} (not in the Bot API spec)")
            params[key] = _coerce_param(key, value, fields[key]["types"])
        for key, f in fields.items():
            if f["required"] and key not in params:
                raise _bad(MISSING_WORDING.get(key, f"{key} is required"))
        check_reply_markup(params.get("reply_markup"))
        return params

    def _check_chat(self, name: str, params: dict) -> None:
        if "chat_id" not in params:
            return
        chat = self._chat(params["chat_id"])
        if chat["id"] in self._blocked and name not in ("getChat", "leaveChat"):
            raise ApiError(403, "Forbidden: bot was blocked by the user" if chat["type"] == "private"
                           else "Forbidden: bot was kicked from the group chat")

    def _check_injected(self, name: str) -> None:
        for key in (name.lower(), "*"):
            if self._failures.get(key):
                raise self._failures[key].popleft()

    async def _maybe_delay(self, name: str) -> None:
        for key in (name.lower(), "*"):
            if self._delays.get(key):
                await self._sleep(self._delays[key].popleft())
                return

    @staticmethod
    def _is_send(name: str) -> bool:
        return (name.startswith("send") and name != "sendChatAction") or name in ("copyMessage", "forwardMessage")

    def _check_limits(self, chat_id: int, consume: bool = False) -> None:
        """~30 messages/s overall (sliding window) and a token bucket per chat: 429 when over."""
        now = time.monotonic()
        while self._global_window and now - self._global_window[0] >= 1.0:
            self._global_window.popleft()
        tokens, stamp = self._buckets.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - stamp) * self.chat_rate)
        retry = 0
        if len(self._global_window) >= self.global_rate:
            retry = math.ceil(1.0 - (now - self._global_window[0]))
        if tokens < 1.0:
            retry = max(retry, math.ceil((1.0 - tokens) / self.chat_rate))
        if retry and not consume:
            self.limit_hits += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        if consume:
            self._buckets[chat_id] = (tokens - 1.0, now)
            self._global_window.append(now)

    async def _sleep(self, seconds: float) -> None:
        """Sleep that ends early when the server stops."""
        deadline = time.monotonic() + seconds
        while not self._closing and (left := deadline - time.monotonic()) > 0:
            wakeup = self._wakeup
            try:
                await asyncio.wait_for(wakeup.wait(), left)
            except asyncio.TimeoutError:
                break

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = next((f for f in self.files.values() if f.file_path == request.match_info["path"]), None)
        if self._download_failures:
            status = self._download_failures.popleft()
            return web.json_response(ApiError(status, "Injected failure").payload(), status=status)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    # ------------------------------------------------------------- chats, messages, files
    def _chat(self, chat_id: int | str) -> dict:
        if isinstance(chat_id, str):
            chat = next((c for c in self._chats.values() if "@" + c.get("username", "") == chat_id), None)
        else:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _known_chat(self, chat_id: int) -> dict:
        return self._chats.get(chat_id) or self.add_chat(chat_id)

    def _user(self, user: dict | int | None, chat: dict) -> dict:
        if isinstance(user, dict):
            return {"is_bot": False, "first_name": "Test", **user}
        if user is None and chat["type"] == "private":
            result = {"id": chat["id"], "is_bot": False, "first_name": chat["first_name"], "language_code": "ru"}
            return result | ({"username": chat["username"]} if "username" in chat else {})
        user_id = user if isinstance(user, int) else 700_000_001
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "ru"}

    def _store_message(self, chat: dict, sender: dict, content: dict) -> dict:
        message_id = self._last_message_id.get(chat["id"], 0) + 1  # one counter per chat, both sides
        self._last_message_id[chat["id"]] = message_id
        message = {"message_id": message_id, "from": sender, "chat": chat, "date": int(time.time()), **content}
        self._messages[(chat["id"], message_id)] = message
        return message

    def _incoming(self, chat_id: int, user: dict | int | None, content: dict) -> dict:
        chat = self._known_chat(chat_id)
        return _frozen(self._store_message(chat, self._user(user, chat), content))

    def _with_update_id(self, update: dict) -> dict:
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        return update

    @staticmethod
    def _document(stored: StoredFile) -> dict:
        doc = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
               "mime_type": stored.mime_type, "file_size": len(stored.data)}
        return doc | ({"file_name": stored.file_name} if stored.file_name else {})

    def _input_file(self, value: str, files: dict, kind: str) -> StoredFile:
        if value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
            if part is None:
                raise _bad(f"there is no {kind} in the request")
            data, file_name, mime = part
            if not data:
                raise _bad("file must be non-empty")
            if len(data) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            mime = mimetypes.guess_type(file_name or "")[0] or mime or "application/octet-stream"
            return self.files[self.add_file(data, mime, file_name, kind=kind)]
        if value in self.files:
            return self.files[value]
        if re.match(r"https?://", value):
            return self.files[self.add_file(b"", "application/octet-stream", value.rsplit("/", 1)[-1], kind=kind)]
        raise _bad("wrong file identifier/HTTP URL specified")

    def _render(self, params: dict, key: str) -> tuple[str, list[dict]]:
        raw = params.get(key, "")
        entities_key = "entities" if key == "text" else "caption_entities"
        if entities_key in params:
            text, entities = raw, params[entities_key]
        elif params.get("parse_mode"):
            text, entities = parse_entities(raw, params["parse_mode"])
        else:
            text, entities = raw, []
        if key == "caption" and len(text) > 1024:
            raise _bad("message caption is too long")
        if key == "text" and len(text) > 4096:
            raise _bad("message is too long")
        if key == "text" and not text.strip():
            raise _bad("message text is empty" if not raw else "message must be non-empty")
        return text, entities

    def _post(self, params: dict, kind: str, content: dict) -> dict:
        chat = self._chat(params["chat_id"])
        reply = params.get("reply_parameters")
        replied = None
        if reply:
            replied = self._messages.get((self._chat(reply.get("chat_id", chat["id"]))["id"], reply["message_id"]))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise _bad("message to be replied not found")
        message = self._store_message(chat, self.bot_user, content)
        if replied:
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        if _inline(params.get("reply_markup")):
            message["reply_markup"] = params["reply_markup"]
        sent = SentMessage(chat["id"], message["message_id"], kind, message, params, params.get("reply_markup"))
        self._sent.append(sent)
        self._sent_index[(chat["id"], message["message_id"])] = sent
        return message

    def _editable(self, params: dict, verb: str = "edit") -> tuple[dict, SentMessage | None]:
        if "inline_message_id" in params:
            raise ApiError(501, "Not Implemented: the fake Telegram server has no inline messages")
        if "chat_id" not in params:
            raise _bad("chat_id is empty")
        if "message_id" not in params:
            raise _bad("message identifier is not specified")
        key = (self._chat(params["chat_id"])["id"], params["message_id"])
        message = self._messages.get(key)
        if message is None:
            raise _bad(f"message to {verb} not found")
        if verb == "edit" and message["from"]["id"] != self.bot_id:
            raise _bad("message can't be edited")
        return message, self._sent_index.get(key)

    # ------------------------------------------------------------- implemented methods
    def _api_getMe(self, params: dict, files: dict) -> dict:
        return self.bot_user

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        text, entities = self._render(params, "text")
        return self._post(params, "text", {"text": text} | ({"entities": entities} if entities else {}))

    def _send_media(self, params: dict, files: dict, kind: str) -> dict:
        caption, entities = self._render(params, "caption")
        stored = self._input_file(params[kind], files, kind)
        if kind == "photo":
            media: Any = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                           "width": 1280, "height": 960, "file_size": len(stored.data)}]
        else:
            media = self._document(stored)
        content = {kind: media} | ({"caption": caption} if caption else {})
        return self._post(params, kind, content | ({"caption_entities": entities} if entities else {}))

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        return self._send_media(params, files, "document")

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        return self._send_media(params, files, "photo")

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        message, sent = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = self._render(params, "text")
        markup = _inline(params.get("reply_markup"))  # no reply_markup = the keyboard is removed
        if (text, entities, markup) == (message["text"], message.get("entities", []), message.get("reply_markup")):
            raise _bad(NOT_MODIFIED)
        message.pop("entities", None)
        message.pop("reply_markup", None)
        message.update({"text": text, "edit_date": int(time.time())})
        message.update(({"entities": entities} if entities else {}) | ({"reply_markup": markup} if markup else {}))
        if sent:
            sent.edits, sent.reply_markup = sent.edits + 1, markup
        return message

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        message, sent = self._editable(params)
        markup = _inline(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise _bad(NOT_MODIFIED)
        message.pop("reply_markup", None)
        message.update({"edit_date": int(time.time())} | ({"reply_markup": markup} if markup else {}))
        if sent:
            sent.edits, sent.reply_markup = sent.edits + 1, markup
        return message

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        message, sent = self._editable(params, "delete")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        if sent:
            sent.deleted = True
        return True

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        if params["callback_query_id"] not in self._callbacks:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text", "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._callbacks.discard(params["callback_query_id"])
        self.callback_answers.append(params)
        return True

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        if params["action"] not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: dict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise _bad("too many commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")  # wording guessed
        self.commands[self._commands_key(params)] = commands
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list:
        return self.commands.get(self._commands_key(params), [])

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        url = params["url"]
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        port = re.match(r"https://[^/:]+(?::(\d+))?", url)
        if url and port and port.group(1) not in (None, "80", "88", "443", "8443"):
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", params.get("secret_token", "x")):
            raise _bad("secret token contains unallowed characters")  # wording guessed
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = dict(params) if url else {}
        self._wake()  # a pending getUpdates now conflicts
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        return info

    def _api_getFile(self, params: dict, files: dict) -> dict:
        stored = self.files.get(params["file_id"])
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    async def _api_getUpdates(self, params: dict, files: dict) -> list[dict]:
        """Long polling: confirm by offset, wait up to ``timeout`` s for the first update.
        A newer getUpdates call terminates an older one with 409, like Telegram."""
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older poll sees the new generation and ends
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"]
        offset, limit = params.get("offset", 0), min(max(params.get("limit", 100), 1), 100)
        if offset > 0:  # confirms (forgets) every update below the offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:  # the last -offset updates; all previous ones are forgotten
            self._updates = self._updates[offset:]
        deadline = time.monotonic() + max(params.get("timeout", 0), 0)
        while True:
            if self.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            allowed = set(self._allowed_updates) or DEFAULT_ALLOWED
            self._updates = [u for u in self._updates if allowed & set(u)]  # others are never delivered
            left = deadline - time.monotonic()
            if self._updates or left <= 0 or self._closing:
                return self._updates[:limit]
            wakeup = self._wakeup
            try:
                await asyncio.wait_for(wakeup.wait(), left)
            except asyncio.TimeoutError:
                pass
