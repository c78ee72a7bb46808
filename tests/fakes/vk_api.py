"""Strict fake of the VK API (5.199) and the Bots Long Poll server, for tests.

The real ``vkbottle`` client runs against it on 127.0.0.1::

    fake = FakeVK(); await fake.start()
    api = API(fake.token); api.API_URL = fake.api_url
    ...
    await api.http_client.close(); await fake.stop()

Strictness comes from the VKCOM/vk-api-schema copy in ``tests/data/specs/vk``:
unknown methods (3), unknown/missing/ill-typed parameters (100), bad token (5),
methods unavailable with a group token (27). On top of the schema it enforces
what VK does in practice for community bots: ``messages.send`` needs
``random_id`` and a peer, text <= 4096 chars (914), keyboard format (911),
de-duplication by (peer_id, random_id) for non-zero random_id.

Schema methods that the fake does not implement answer error 1 with
"... is not implemented by FakeVK", so a test notices at once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "specs" / "vk"
API_VERSION = "5.199"
MAX_MESSAGE_LEN = 4096
# Parameters VK accepts on every method.
GLOBAL_PARAMS = {"access_token", "v", "lang", "test_mode", "captcha_sid", "captcha_key", "confirm"}
# Accepted by real VK (documented on dev.vk.com, sent by vkbottle) but absent from the 5.199 schema.
EXTRA_PARAMS = {
    "messages.send": {"format_data"},
    "messages.edit": {"format_data", "conversation_message_id"},
}
BUTTON_TYPES = {"text", "callback", "open_link", "location", "vkpay", "open_app"}
BUTTON_COLORS = {"primary", "secondary", "negative", "positive"}
ATTACHMENT_RE = re.compile(r"^(photo|video|audio|doc|wall|market|poll|audio_playlist)(-?\d+)_(\d+)(?:_(\w+))?$")
DEFAULT_CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback",
                       "intent_subscribe", "intent_unsubscribe"],
    "keyboard": True, "inline_keyboard": True, "carousel": True, "lang_id": 0,
}


@functools.lru_cache(maxsize=None)
def load_schema() -> tuple[dict[str, dict], dict[int, str]]:
    """(methods by name, error descriptions by code) — parsed once per process."""
    methods = json.loads((SPEC_DIR / "methods.json").read_text("utf-8"))["methods"]
    errors: dict[int, str] = {}
    for err in json.loads((SPEC_DIR / "errors.json").read_text("utf-8"))["errors"].values():
        errors.setdefault(err["code"], err["description"])
    return {m["name"]: m for m in methods}, errors


class VKError(Exception):
    """Raised inside handlers; becomes {"error": {...}} in the response."""

    def __init__(self, code: int, detail: str | None = None, msg: str | None = None) -> None:
        base = msg or load_schema()[1].get(code, "Unknown error occurred")
        self.code, self.msg = code, f"{base}: {detail}" if detail else base
        super().__init__(self.msg)


def param_error(detail: str) -> VKError:
    return VKError(100, detail)


def keyboard_error(detail: str) -> VKError:
    return VKError(911, detail)


def _check_type(name: str, spec: dict, value: str) -> None:
    """Light type check of one form value against its schema entry (like VK's error 100)."""
    kind = spec.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise param_error(f"{name} not integer")
        if "minimum" in spec and int(value) < spec["minimum"]:
            raise param_error(f"{name} should be >= {spec['minimum']}")
        if "maximum" in spec and int(value) > spec["maximum"]:
            raise param_error(f"{name} should be <= {spec['maximum']}")
    elif kind == "number":
        try:
            float(value)
        except ValueError:
            raise param_error(f"{name} not a number") from None
    elif kind == "boolean" and value not in ("0", "1", "true", "false"):
        raise param_error(f"{name} should be 0 or 1")
    elif kind == "array" and value:
        items = value.split(",")
        if spec.get("items", {}).get("type") == "integer" and not all(re.fullmatch(r"-?\d+", i) for i in items):
            raise param_error(f"{name} should be a list of integers")
        if "maxItems" in spec and len(items) > spec["maxItems"]:
            raise param_error(f"{name} has more than {spec['maxItems']} items")
    elif kind == "string" and "maxLength" in spec and len(value) > spec["maxLength"]:
        raise param_error(f"{name} is too long (max {spec['maxLength']})")
    if "enum" in spec and kind in ("string", "integer") and value not in map(str, spec["enum"]):
        raise param_error(f"{name} should be one of {spec['enum']}")


def validate_params(method: dict, params: dict[str, str]) -> None:
    """Reject unknown parameters, missing required ones and obvious type errors."""
    specs = {p["name"]: p for p in method.get("parameters", [])}
    allowed = specs.keys() | GLOBAL_PARAMS | EXTRA_PARAMS.get(method["name"], set())
    for name in params:
        if name not in allowed:
            raise param_error(f"{name} is unknown")
    for name, spec in specs.items():
        if name not in params:
            if spec.get("required"):
                raise param_error(f"{name} is required")
            continue
        _check_type(name, spec, params[name])


def validate_keyboard(raw: str) -> dict:
    """Parse and check a keyboard like VK does; raises error 911."""
    try:
        kb = json.loads(raw)
    except ValueError:
        raise keyboard_error("keyboard is not valid JSON") from None
    if not isinstance(kb, dict) or not isinstance(kb.get("buttons"), list):
        raise keyboard_error("buttons must be an array of rows")
    inline = bool(kb.get("inline", False))
    max_rows, max_total = (6, 10) if inline else (10, 40)
    rows = kb["buttons"]
    if len(rows) > max_rows:
        raise keyboard_error(f"too many rows: {len(rows)} > {max_rows}")
    total = 0
    for row in rows:
        if not isinstance(row, list) or not row or len(row) > 5:
            raise keyboard_error("each row must hold 1..5 buttons")
        for button in row:
            total += 1
            action = button.get("action") if isinstance(button, dict) else None
            if not isinstance(action, dict) or action.get("type") not in BUTTON_TYPES:
                raise keyboard_error(f"bad button action: {action!r}")
            kind = action["type"]
            label = action.get("label")
            if kind in ("text", "callback", "open_link", "open_app"):
                if not isinstance(label, str) or not label:
                    raise keyboard_error(f"{kind} button needs a label")
                if len(label) > 40:
                    raise keyboard_error(f"label is longer than 40 characters: {label!r}")
            if kind == "open_link" and not action.get("link"):
                raise keyboard_error("open_link button needs a link")
            if "payload" in action:
                payload = action["payload"]
                if isinstance(payload, str):
                    try:
                        json.loads(payload)
                    except ValueError:
                        raise keyboard_error("payload is not valid JSON") from None
                else:  # vkbottle sends the payload as a JSON object; VK accepts that too
                    payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
                if len(payload) > 255:
                    raise keyboard_error("payload is longer than 255 characters")
            if "color" in button and button["color"] not in BUTTON_COLORS:
                raise keyboard_error(f"bad color {button['color']!r}")
    if total > max_total:
        raise keyboard_error(f"too many buttons: {total} > {max_total}")
    return kb


async def post_event_to(url: str, event: dict, secret: str | None = None) -> tuple[int, str]:
    """POST an event to a Callback API endpoint the way VK does; returns (status, body)."""
    body = {**event, "secret": secret} if secret is not None else event
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        return resp.status, await resp.text()


class FakeVK:
    """The fake server plus the test-control API (see module docstring)."""

    def __init__(self, *, token: str | None = None, group_id: int = 227_000_001,
                 enforce_rate: bool = False, history_limit: int = 1000,
                 inline_peer_errors: bool = True) -> None:
        self.token = token or "vk1.a.fake-" + secrets.token_hex(16)
        self.group_id = group_id
        self.enforce_rate = enforce_rate
        self.history_limit = history_limit
        # messages.send with peer_ids reports per-peer errors inside the items (like VK)
        self.inline_peer_errors = inline_peer_errors
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.delivered: list[dict] = []          # outgoing messages, in delivery order
        self.edits: list[dict] = []
        self.event_answers: list[dict] = []
        self.activities: list[dict] = []
        self.lp_requests: list[dict] = []
        self.users: dict[int, dict] = {}
        self.blocked: dict[int, int] = {}        # peer_id -> error code
        self.base_url = ""
        self._failures: dict[str, deque[int]] = {}
        self._lp_failures: deque[int] = deque()
        self._recent: deque[float] = deque()
        self._messages: dict[int, dict] = {}     # message id -> message (in and out)
        self._dedup: dict[tuple[int, int], int] = {}
        self._convs: dict[int, dict] = {}
        self._callbacks: dict[str, dict] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._uploads: dict[str, dict] = {}
        self._docs: dict[tuple[int, int], dict] = {}
        self._photos: dict[tuple[int, int], dict] = {}
        self._ids = iter(range(1, 10**9))
        self._events: list[tuple[int, dict]] = []
        self._next_ts = 1
        self._lp_key = secrets.token_hex(20)
        self._wakeup = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers = {
            "groups.getById": self._groups_get_by_id,
            "groups.getLongPollServer": self._groups_get_long_poll_server,
            "messages.send": self._messages_send,
            "messages.edit": self._messages_edit,
            "messages.sendMessageEventAnswer": self._send_message_event_answer,
            "messages.getConversationsById": self._get_conversations_by_id,
            "messages.setActivity": self._set_activity,
            "users.get": self._users_get,
            "docs.getMessagesUploadServer": self._docs_upload_server,
            "photos.getMessagesUploadServer": self._photos_upload_server,
            "docs.save": self._docs_save,
            "photos.saveMessagesPhoto": self._photos_save,
        }

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> FakeVK:
        load_schema()
        app = web.Application()
        app.router.add_post("/method/{name}", self._method_endpoint)
        app.router.add_route("*", "/lp", self._lp_endpoint)
        app.router.add_post("/upload/{kind}", self._upload_endpoint)
        app.router.add_get("/files/{file_id}/{name}", self._file_endpoint)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """Value for ``vkbottle.API.API_URL``."""
        return f"{self.base_url}/method/"

    # ---------------------------------------------------------------- control API
    def fail_next(self, method: str, error_code: int, count: int = 1) -> None:
        """Next ``count`` calls of ``method`` ("*" = any) answer ``error_code`` (6, 9, 10, 901, 902...)."""
        self._failures.setdefault(method, deque()).extend([error_code] * count)

    def block_peer(self, peer_id: int, code: int = 901) -> None:
        self.blocked[peer_id] = code

    def lp_fail_next(self, code: int) -> None:
        """Next a_check answers {"failed": code} (1 = ts outdated, 2 = key expired, 3 = info lost)."""
        self._lp_failures.append(code)

    def release_long_polls(self) -> None:
        """Make waiting a_check requests return now (e.g. after ``polling.stop()``)."""
        self._wake()

    def add_user(self, user_id: int, first_name: str = "Test", last_name: str = "User", **fields: Any) -> dict:
        self.users[user_id] = {"id": user_id, "first_name": first_name, "last_name": last_name,
                               "can_access_closed": True, "is_closed": False, **fields}
        return self.users[user_id]

    def add_file(self, data: bytes, filename: str = "file.bin", content_type: str = "application/octet-stream") -> str:
        """Serve ``data`` from the fake; returns its URL."""
        file_id = secrets.token_hex(8)
        self._files[file_id] = (data, content_type)
        return f"{self.base_url}/files/{file_id}/{quote(filename)}"

    def photo_attachment(self, data: bytes = b"\xff\xd8fake-jpeg", owner_id: int = 1) -> dict:
        """An incoming photo attachment whose size URLs point at the fake."""
        url = self.add_file(data, "photo.jpg", "image/jpeg")
        sizes = [{"type": t, "url": url, "width": w, "height": w * 3 // 4}
                 for t, w in (("s", 75), ("m", 130), ("x", 604), ("y", 807))]
        photo = {"id": next(self._ids), "owner_id": owner_id, "album_id": -3, "date": int(time.time()),
                 "sizes": sizes, "text": "", "access_key": secrets.token_hex(6), "has_tags": False}
        return {"type": "photo", "photo": photo}

    def doc_attachment(self, data: bytes, title: str = "file.pdf", owner_id: int = 1) -> dict:
        """An incoming document attachment (url, ext, size) served by the fake."""
        ext = title.rsplit(".", 1)[-1].lower() if "." in title else ""
        doc = {"id": next(self._ids), "owner_id": owner_id, "title": title, "size": len(data), "ext": ext,
               "url": self.add_file(data, title), "date": int(time.time()), "type": 1 if ext == "txt" else 8,
               "access_key": secrets.token_hex(6)}
        self._docs[(owner_id, doc["id"])] = {**doc, "data": data}
        return {"type": "doc", "doc": doc}

    def sent_messages(self, peer_id: int | None = None) -> list[dict]:
        """Delivered outgoing messages: id, peer_id, text, keyboard (parsed), random_id, attachment(s)."""
        return [m for m in self.delivered if peer_id is None or m["peer_id"] == peer_id]

    def calls_to(self, method: str) -> list[dict[str, str]]:
        return [params for name, params in self.calls if name == method]

    # ---------------------------------------------------------------- events
    def make_event(self, type_: str, obj: dict) -> dict:
        return {"group_id": self.group_id, "type": type_, "event_id": secrets.token_hex(20),
                "v": API_VERSION, "object": obj}

    def make_message_new(self, from_id: int, text: str, payload: Any = None, attachments: list | None = None,
                         client_info: dict | None = None, peer_id: int | None = None) -> dict:
        """A ``message_new`` event (5.199 shape) without queuing it (e.g. for the Callback API)."""
        peer = peer_id or from_id
        message = {"date": int(time.time()), "from_id": from_id, "id": next(self._ids), "out": 0,
                   "version": next(self._ids), "attachments": attachments or [],
                   "conversation_message_id": self._conv(peer), "fwd_messages": [],
                   "important": False, "is_hidden": False, "peer_id": peer, "random_id": 0, "text": text}
        if payload is not None:
            message["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        self._messages[message["id"]] = message
        self._convs[peer]["last_message_id"] = self._convs[peer]["in_read"] = message["id"]
        return self.make_event("message_new", {"message": message,
                                               "client_info": {**DEFAULT_CLIENT_INFO, **(client_info or {})}})

    def push_event(self, event: dict) -> dict:
        """Append an event to the long poll history and wake waiting a_check requests."""
        self._events.append((self._next_ts, event))
        self._next_ts += 1
        del self._events[: max(0, len(self._events) - self.history_limit)]
        self._wake()
        return event

    def push_message(self, from_id: int, text: str, payload: Any = None, attachments: list | None = None,
                     client_info: dict | None = None, peer_id: int | None = None) -> dict:
        return self.push_event(self.make_message_new(from_id, text, payload, attachments, client_info, peer_id))

    def make_callback(self, user_id: int, peer_id: int, payload: Any, conversation_message_id: int) -> dict:
        obj = {"user_id": user_id, "peer_id": peer_id, "event_id": secrets.token_hex(6),
               "payload": payload, "conversation_message_id": conversation_message_id}
        self._callbacks[obj["event_id"]] = obj
        return self.make_event("message_event", obj)

    def push_callback(self, user_id: int, peer_id: int, payload: Any, conversation_message_id: int) -> dict:
        """A ``message_event`` (callback button press); answer via messages.sendMessageEventAnswer."""
        return self.push_event(self.make_callback(user_id, peer_id, payload, conversation_message_id))

    def confirmation_event(self) -> dict:
        return {"type": "confirmation", "group_id": self.group_id}

    post_event_to = staticmethod(post_event_to)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _conv(self, peer_id: int) -> int:
        """Next conversation_message_id for ``peer_id``."""
        conv = self._convs.setdefault(peer_id, {"cmid": 0, "last_message_id": 0, "in_read": 0, "out_read": 0})
        conv["cmid"] += 1
        return conv["cmid"]

    # ---------------------------------------------------------------- HTTP: methods
    async def _method_endpoint(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        params = {**request.query, **{k: v for k, v in (await request.post()).items() if isinstance(v, str)}}
        self.calls.append((name, {k: v for k, v in params.items() if k != "access_token"}))
        try:
            return web.json_response({"response": self._dispatch(name, params)})
        except VKError as e:
            shown = [{"key": "method", "value": name}, {"key": "oauth", "value": "1"}]
            shown += [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
            return web.json_response({"error": {"error_code": e.code, "error_msg": e.msg, "request_params": shown}})

    def _dispatch(self, name: str, params: dict[str, str]) -> Any:
        methods, _ = load_schema()
        if params.get("access_token") != self.token:
            raise VKError(5, "invalid access_token")
        if self.enforce_rate:
            now = time.monotonic()
            while self._recent and now - self._recent[0] > 1.0:
                self._recent.popleft()
            self._recent.append(now)
            if len(self._recent) > 20:
                raise VKError(6)
        if name not in methods:
            raise VKError(3)
        if "v" not in params:
            raise VKError(8, msg="Invalid request: v is required")
        if "group" not in methods[name].get("access_token_type", ["group"]):
            raise VKError(27, "method is unavailable with group auth.")
        for key in (name, "*"):
            if self._failures.get(key):
                raise VKError(self._failures[key].popleft())
        if name in ("messages.send", "messages.edit") and len(params.get("message", "")) > MAX_MESSAGE_LEN:
            raise VKError(914)
        validate_params(methods[name], params)
        handler = self._handlers.get(name)
        if handler is None:
            raise VKError(1, msg=f"Unknown error occurred: {name} is not implemented by FakeVK")
        return handler(params)

    # ---------------------------------------------------------------- method handlers
    def _group(self) -> dict:
        return {"id": self.group_id, "name": "Test Community", "screen_name": f"club{self.group_id}",
                "is_closed": 0, "type": "group", "photo_50": f"{self.base_url}/files/none/g50.jpg",
                "photo_100": f"{self.base_url}/files/none/g100.jpg"}

    def _groups_get_by_id(self, p: dict) -> dict:
        wanted = [x for x in (p.get("group_ids", "").split(",") + [p.get("group_id", "")]) if x]
        if any(w not in (str(self.group_id), f"club{self.group_id}") for w in wanted):
            raise param_error("group_ids is invalid")
        return {"groups": [self._group()], "profiles": []}

    def _groups_get_long_poll_server(self, p: dict) -> dict:
        if int(p["group_id"]) != self.group_id:
            raise VKError(15, "no access to this community")
        return {"key": self._lp_key, "server": f"{self.base_url}/lp", "ts": str(self._next_ts)}

    def _resolve_peers(self, p: dict) -> tuple[list[int], bool]:
        """Peers of messages.send and whether the many-peers (list) response applies."""
        if "peer_ids" in p:
            return [int(x) for x in p["peer_ids"].split(",") if x], True
        if "peer_id" in p:
            return [int(p["peer_id"])], False
        if "user_id" in p:
            return [int(p["user_id"])], False
        if "chat_id" in p:
            return [2_000_000_000 + int(p["chat_id"])], False
        if "domain" in p:
            uid = self._user_id(p["domain"])
            if uid is None:
                raise param_error("domain is invalid")
            return [uid], False
        raise param_error("peer_id, peer_ids, user_id or domain is required")

    def _resolve_attachments(self, raw: str) -> list[dict]:
        out = []
        for item in filter(None, raw.split(",")):
            m = ATTACHMENT_RE.match(item.strip())
            if not m:
                raise param_error(f"attachment {item!r} is invalid")
            kind, owner, item_id = m.group(1), int(m.group(2)), int(m.group(3))
            store = {"doc": self._docs, "photo": self._photos}.get(kind)
            if store is not None and owner == -self.group_id and (owner, item_id) not in store:
                raise param_error(f"attachment {item} not found")
            found = (store or {}).get((owner, item_id), {})
            out.append({**found, "type": kind, "owner_id": owner, "id": item_id})
        return out

    def _messages_send(self, p: dict) -> Any:
        if "random_id" not in p:
            raise param_error("random_id is required")
        peers, many = self._resolve_peers(p)
        content = ("message", "attachment", "sticker_id", "forward_messages", "forward", "lat")
        if not any(p.get(k) for k in content):
            raise param_error("message is empty or invalid")
        keyboard = validate_keyboard(p["keyboard"]) if "keyboard" in p else None
        attachments = self._resolve_attachments(p.get("attachment", ""))
        random_id, results = int(p["random_id"]), []
        for peer in peers:
            if peer in self.blocked:
                if not many or not self.inline_peer_errors:
                    raise VKError(self.blocked[peer])
                code = self.blocked[peer]
                results.append({"peer_id": peer, "error": {"code": code, "description": VKError(code).msg}})
                continue
            if random_id and (peer, random_id) in self._dedup:  # VK de-duplication
                msg = self._messages[self._dedup[(peer, random_id)]]
            else:
                msg = {"id": next(self._ids), "peer_id": peer, "from_id": -self.group_id, "out": 1,
                       "date": int(time.time()), "text": p.get("message", ""), "keyboard": keyboard,
                       "random_id": random_id, "attachment": p.get("attachment", ""),
                       "attachments": attachments, "payload": p.get("payload"),
                       "conversation_message_id": self._conv(peer), "params": dict(p)}
                self._messages[msg["id"]] = msg
                self.delivered.append(msg)
                self._convs[peer]["last_message_id"] = msg["id"]
                if random_id:
                    self._dedup[(peer, random_id)] = msg["id"]
            results.append({"peer_id": peer, "message_id": msg["id"],
                            "conversation_message_id": msg["conversation_message_id"]})
        return results if many else results[0]["message_id"]

    def _messages_edit(self, p: dict) -> int:
        peer = int(p["peer_id"])
        cmid = p.get("cmid") or p.get("conversation_message_id")
        if "message_id" in p:
            msg = self._messages.get(int(p["message_id"]))
        elif cmid:
            msg = next((m for m in self.delivered if m["peer_id"] == peer
                        and m["conversation_message_id"] == int(cmid)), None)
        else:
            raise param_error("message_id or cmid is required")
        if msg is None or msg["peer_id"] != peer or not msg.get("out"):
            raise param_error("message not found")
        if "message" in p:
            msg["text"] = p["message"]
        if "keyboard" in p:
            msg["keyboard"] = validate_keyboard(p["keyboard"])
        if "attachment" in p:
            msg["attachment"], msg["attachments"] = p["attachment"], self._resolve_attachments(p["attachment"])
        self.edits.append({"message_id": msg["id"], "peer_id": peer, "params": dict(p)})
        return 1

    def _send_message_event_answer(self, p: dict) -> int:
        event = self._callbacks.get(p["event_id"])
        if event is None or event["user_id"] != int(p["user_id"]) or event["peer_id"] != int(p["peer_id"]):
            raise param_error("event_id is invalid or does not match user_id/peer_id")
        data = None
        if "event_data" in p:
            try:
                data = json.loads(p["event_data"])
            except ValueError:
                raise param_error("event_data is not valid JSON") from None
            kind = data.get("type") if isinstance(data, dict) else None
            if kind not in ("show_snackbar", "open_link", "open_app"):
                raise param_error("event_data.type is invalid")
            if kind == "show_snackbar" and not 0 < len(data.get("text", "")) <= 90:
                raise param_error("event_data.text must be 1..90 characters")
        self.event_answers.append({"event_id": p["event_id"], "user_id": int(p["user_id"]),
                                   "peer_id": int(p["peer_id"]), "event_data": data})
        return 1

    def _get_conversations_by_id(self, p: dict) -> dict:
        items = []
        for peer in (int(x) for x in p["peer_ids"].split(",") if x):
            conv = self._convs.get(peer, {"cmid": 0, "last_message_id": 0, "in_read": 0, "out_read": 0})
            kind = "chat" if peer >= 2_000_000_000 else "group" if peer < 0 else "user"
            local = peer - 2_000_000_000 if kind == "chat" else abs(peer)
            can_write = {"allowed": peer not in self.blocked}
            if peer in self.blocked:
                can_write["reason"] = self.blocked[peer]
            items.append({"peer": {"id": peer, "type": kind, "local_id": local},
                          "last_message_id": conv["last_message_id"],
                          "last_conversation_message_id": conv["cmid"], "in_read": conv["in_read"],
                          "out_read": conv["out_read"], "version": conv["cmid"], "can_write": can_write})
        return {"count": len(items), "items": items}

    def _set_activity(self, p: dict) -> int:
        if "peer_id" not in p and "user_id" not in p:
            raise param_error("peer_id is required")
        self.activities.append(dict(p))
        return 1

    def _user_id(self, ref: str) -> int | None:
        """A user id from "123", "id123" or a known screen name."""
        if re.fullmatch(r"(id)?\d+", ref):
            return int(ref.removeprefix("id"))
        return next((u["id"] for u in self.users.values() if ref in (u.get("screen_name"), u.get("domain"))), None)

    def _users_get(self, p: dict) -> list[dict]:
        shown = {"id", "first_name", "last_name", "can_access_closed", "is_closed"}
        shown |= set(p.get("fields", "").split(","))
        out = []
        for ref in filter(None, p.get("user_ids", "").split(",")):
            uid = self._user_id(ref)
            if uid is None:
                continue  # unknown screen name: VK just omits it
            user = self.users.get(uid) or self.add_user(uid, "User", str(uid))
            out.append({k: v for k, v in user.items() if k in shown})
        return out

    def _docs_upload_server(self, p: dict) -> dict:
        if "peer_id" not in p:
            raise param_error("peer_id is required for community messages")
        return {"upload_url": f"{self.base_url}/upload/doc?type={p.get('type', 'doc')}&peer_id={p['peer_id']}"}

    def _photos_upload_server(self, p: dict) -> dict:
        return {"upload_url": f"{self.base_url}/upload/photo?peer_id={p.get('peer_id', 0)}",
                "album_id": -64, "user_id": 0, "group_id": self.group_id}

    def _docs_save(self, p: dict) -> dict:
        upload = self._uploads.pop(p["file"], None)
        if upload is None or upload["kind"] != "doc":
            raise param_error("file is invalid")
        title = p.get("title") or upload["filename"]
        ext = title.rsplit(".", 1)[-1].lower() if "." in title else ""
        doc = {"id": next(self._ids), "owner_id": -self.group_id, "title": title, "size": len(upload["data"]),
               "ext": ext, "url": self.add_file(upload["data"], title, upload["content_type"]),
               "date": int(time.time()), "type": 1 if ext in ("txt", "ics", "pdf", "doc", "docx") else 8}
        self._docs[(doc["owner_id"], doc["id"])] = {**doc, "data": upload["data"]}
        return {"type": "doc", "doc": doc}

    def _photos_save(self, p: dict) -> list[dict]:
        try:
            token = json.loads(p["photo"])[0]["upload"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise param_error("photo is invalid") from None
        upload = self._uploads.get(token)
        if upload is None or upload["kind"] != "photo" or p.get("hash") != upload["hash"]:
            raise param_error("photo is invalid or hash mismatch")
        del self._uploads[token]
        url = self.add_file(upload["data"], "photo.jpg", "image/jpeg")
        photo = {"id": next(self._ids), "owner_id": -self.group_id, "album_id": -64, "date": int(time.time()),
                 "sizes": [{"type": "x", "url": url, "width": 604, "height": 453}], "text": "",
                 "access_key": secrets.token_hex(6), "has_tags": False}
        self._photos[(photo["owner_id"], photo["id"])] = {**photo, "data": upload["data"]}
        return [photo]

    # ---------------------------------------------------------------- HTTP: uploads and files
    async def _upload_endpoint(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        form = await request.post()
        field = form.get("file" if kind == "doc" else "photo")
        if not isinstance(field, web.FileField):
            return web.json_response({"error": "no file"})
        data = field.file.read()
        token = secrets.token_hex(12)
        self._uploads[token] = {"kind": kind, "data": data, "filename": field.filename or "file",
                                "content_type": field.content_type, "hash": hashlib.md5(data).hexdigest()}
        if kind == "doc":
            return web.json_response({"file": token})
        return web.json_response({"server": 1, "photo": json.dumps([{"upload": token}]),
                                  "hash": self._uploads[token]["hash"]})

    async def _file_endpoint(self, request: web.Request) -> web.StreamResponse:
        found = self._files.get(request.match_info["file_id"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found[0], content_type=found[1])

    # ---------------------------------------------------------------- HTTP: Bots Long Poll
    async def _lp_endpoint(self, request: web.Request) -> web.Response:
        q = {**request.query, **{k: v for k, v in (await request.post()).items() if isinstance(v, str)}}
        self.lp_requests.append(dict(q))
        if q.get("act") != "a_check":
            raise web.HTTPBadRequest(text="act=a_check expected")
        if self._lp_failures:
            code = self._lp_failures.popleft()
            if code == 1:
                return web.json_response({"failed": 1, "ts": self._next_ts})
            self._lp_key = secrets.token_hex(20)  # 2 and 3: the old key really stops working
            return web.json_response({"failed": code})
        if q.get("key") != self._lp_key:
            return web.json_response({"failed": 2})
        try:
            ts = int(q.get("ts", ""))
        except ValueError:
            return web.json_response({"failed": 1, "ts": self._next_ts})
        oldest = self._events[0][0] if self._events else self._next_ts
        if ts > self._next_ts or ts < oldest:  # from the future, or history already dropped
            return web.json_response({"failed": 1, "ts": self._next_ts})
        wait = max(0, min(int(q.get("wait", "25") or 25), 90))
        deadline = time.monotonic() + wait
        while ts >= self._next_ts and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wakeup = self._wakeup
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except asyncio.TimeoutError:
                break
            if ts >= self._next_ts:  # woken without new events (release/stop)
                break
        updates = [event for number, event in self._events if number >= ts][:100]
        next_ts = ts + len(updates) if updates else self._next_ts
        return web.json_response({"ts": str(next_ts), "updates": updates})
