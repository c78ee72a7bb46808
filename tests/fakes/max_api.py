"""Strict fake of the MAX Bot API (platform-api2.max.ru) for tests, aiohttp on 127.0.0.1.

The real ``maxapi`` client talks to it over HTTP::

    fake = FakeMax(); await fake.start()          # or: async with FakeMax() as fake:
    bot = Bot(fake.token); bot.set_api_url(fake.base_url)
    fake.queue_update(fake.bot_started(1001, payload="appeal-42"))
    raw = await bot.get_updates(timeout=0)        # {"updates": [...], "marker": 2}
    await bot.send_message(user_id=1001, text="Здравствуйте")
    [sent] = fake.sent_messages(user_id=1001)
    await bot.close_session(); await fake.stop()

Strictness, from ``tests/data/specs/max/openapi.json`` (rules in ``max_schema.py``):
- a path not in the spec -> 404 ``not.found``; a method the path lacks -> 405;
- no or wrong ``Authorization: <token>`` header -> 401 ``verify.token`` (a token in the
  ``access_token`` query, which the file's securitySchemes still shows, is refused too);
- query parameters unknown, missing, ill-typed or out of range -> 400 ``proto.payload``;
- JSON bodies checked against ``components.schemas`` and the keyboard counts, plus rules the
  API applies on top: a recipient, some content, one file attachment per message, upload
  tokens that exist, match their type and have their file (else ``attachment.not.ready``).
Spec methods the fake does not implement answer 501, so a test notices at once.

Long polling: each update gets a number; ``marker`` is the number of the next one. A request
with ``marker=m`` returns updates from ``m`` on and drops those before ``m`` (read); the
returned marker commits nothing until the client sends it back, so asking again with the
old marker redelivers. Without a marker the client gets everything not yet dropped.
While a webhook subscription exists, updates wait for ``deliver_webhooks()`` instead and
``GET /updates`` answers 405.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web

from tests.fakes import max_schema
from tests.fakes.max_objects import MaxObjects, SentMessage, now_ms, visible_text
from tests.fakes.max_schema import SchemaError

BOT_ID = 7_000_001
DEFAULT_CODES = {400: "proto.payload", 401: "verify.token", 403: "access.denied", 404: "not.found",
                 405: "method.not.allowed", 429: "too.many.requests", 500: "internal.error",
                 502: "service.unavailable", 503: "service.unavailable", 504: "service.unavailable"}
FILE_KINDS = {"file", "video", "audio"}  # attachments sent by upload token only
NOT_WITH_FILE = {"file", "image", "video", "audio", "location", "share", "sticker", "contact"}
DROP = 0    # fail_next(status=DROP): the connection closes before the request is handled
LOST = -1   # fail_next(status=LOST): the request is handled (a message is sent), the answer is lost


class ApiError(Exception):
    """An error answer: HTTP ``status`` and the spec's body {"code", "message"}."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code or DEFAULT_CODES.get(status, "error")

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "message": self.message}, status=self.status)


def bad(message: str) -> ApiError:
    return ApiError(400, message)


@dataclass
class ApiCall:
    """One API request the bot made (uploads and downloads are not API calls)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    status: int | None = None
    code: str | None = None

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


class FakeMax(MaxObjects):
    """The fake server plus its test-control API (call everything from the event loop thread)."""

    def __init__(self, token: str | None = None, *, bot_id: int = BOT_ID, bot_username: str = "fake_citizen_bot",
                 allow_http_webhooks: bool = False) -> None:
        self.token = token or "fake-max-" + secrets.token_urlsafe(24)
        self.bot_id, self.bot_username = bot_id, bot_username
        # The real API wants https:// on port 443; tests that receive webhooks locally need http.
        self.allow_http_webhooks = allow_http_webhooks
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything but the token: updates, messages, calls, failures, subscriptions."""
        self.calls: list[ApiCall] = []
        self.answers: list[dict] = []                   # POST /answers bodies, with callback_id and user_id
        self.subscriptions: list[dict] = []             # url, time, update_types, secret
        self.webhook_deliveries: list[dict] = []        # url, status, update, headers
        self.users: dict[int, dict] = {}
        self.blocked: set[int] = set()
        self.polls_waiting = 0
        self._dialogs: dict[int, int] = {}              # user_id -> dialog chat_id
        self._updates: list[tuple[int, dict]] = []      # (number, update) not yet read
        self._next_number = 1
        self._webhook_queue: list[tuple[dict, set[str]]] = []  # (update, urls that took it)
        self._sent: list[SentMessage] = []
        self._incoming: dict[str, dict] = {}            # mid -> message from a user
        self._callbacks: dict[str, dict] = {}           # callback_id -> {user_id, mid}
        self._uploads: dict[str, dict] = {}             # upload id -> {type, token, used}
        self._tokens: dict[str, dict] = {}              # token -> {type, data, filename, content_type}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._failures: dict[str, deque] = {}
        self._download_failures: deque[int] = deque()
        self._not_ready = 0
        self._ids = itertools.count(1)
        self._wakeup = asyncio.Event()
        self._released = 0
        self._closing = False

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> FakeMax:
        max_schema.spec()
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/upload/{upload_id}", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = "http://127.0.0.1:%d" % self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeMax:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------- test controls
    def fail_next(self, route: str = "*", status: int = 500, *, code: str | None = None,
                  message: str | None = None, count: int = 1) -> None:
        """Next ``count`` calls of ``route`` ("POST /messages", "GET /updates", "*") answer ``status``
        (429, 500, 503...) with the spec's error body; ``DROP``/``LOST`` close the connection instead.
        Note that aiohttp's client silently retries an idempotent request (GET...) once on a drop."""
        error = ApiError(status, message or f"Injected error {status}", code) if status > 0 else status
        self._failures.setdefault(route, deque()).extend([error] * count)

    def fail_next_download(self, status: int = 500, count: int = 1) -> None:
        self._download_failures.extend([status] * count)

    def attachment_not_ready(self, count: int = 1) -> None:
        """The next ``count`` messages with uploaded media answer 400 ``attachment.not.ready``."""
        self._not_ready += count

    def block_user(self, user_id: int) -> None:
        """Sending to this user answers 403 chat.denied (the user stopped or blocked the bot)."""
        self.blocked.add(user_id)

    def release_long_polls(self) -> None:
        """Make waiting GET /updates requests return now (with what they have, maybe nothing)."""
        self._released += 1
        self._wake()

    def calls_to(self, route: str) -> list[ApiCall]:
        """Calls of one route, e.g. "POST /messages"."""
        return [c for c in self.calls if c.route == route]

    def sent_messages(self, user_id: int | None = None, *, chat_id: int | None = None,
                      include_deleted: bool = False) -> list[SentMessage]:
        return [s for s in self._sent if (user_id is None or s.user_id == user_id)
                and (chat_id is None or s.chat_id == chat_id) and (include_deleted or not s.deleted)]

    async def wait_for_messages(self, count: int = 1, user_id: int | None = None,
                                timeout: float = 5.0) -> list[SentMessage]:
        deadline = time.monotonic() + timeout
        while len(self.sent_messages(user_id)) < count:
            if time.monotonic() > deadline:
                recent = [(c.route, c.status, c.code) for c in self.calls[-10:]]
                raise AssertionError(f"expected {count} message(s) to {user_id}; recent calls: {recent}")
            await asyncio.sleep(0.01)
        return self.sent_messages(user_id)

    def pending_updates(self) -> list[dict]:
        """Updates not yet dropped by a marker (long polling) or delivered (webhook)."""
        return [u for _, u in self._updates] + [u for u, _ in self._webhook_queue]

    # ------------------------------------------------------------- updates
    def queue_update(self, update: dict) -> dict:
        """Make an update available: to long polling, or to ``deliver_webhooks`` when subscribed."""
        if update["update_type"] == "bot_stopped":
            self.blocked.add(update["user"]["user_id"])
        elif update["update_type"] == "bot_started":
            self.blocked.discard(update["user"]["user_id"])
        if self.subscriptions:
            self._webhook_queue.append((update, set()))
        else:
            self._updates.append((self._next_number, update))
            self._next_number += 1
            self._wake()
        return update

    # ------------------------------------------------------------- webhooks
    async def post_update_to(self, url: str, update: dict, secret: str | None = None) -> int:
        """POST one update to ``url`` the way MAX does; returns the HTTP status."""
        headers = {"X-Max-Bot-Api-Secret": secret} if secret else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as resp:
            await resp.read()
        self.webhook_deliveries.append({"url": url, "status": resp.status, "update": update, "headers": headers})
        return resp.status

    async def deliver_webhooks(self) -> list[int]:
        """Send the queued updates to the subscriptions that want them. A subscriber that did not
        answer 200 gets the update again on the next call (MAX retries). Returns the statuses."""
        statuses, kept = [], []
        for update, took in self._webhook_queue:
            for sub in self.subscriptions:
                wanted = not sub["update_types"] or update["update_type"] in sub["update_types"]
                if wanted and sub["url"] not in took:
                    status = await self.post_update_to(sub["url"], update, sub["secret"])
                    statuses.append(status)
                    if status == 200:
                        took.add(sub["url"])
            if any(s["url"] not in took and (not s["update_types"] or update["update_type"] in s["update_types"])
                   for s in self.subscriptions):
                kept.append((update, took))
        self._webhook_queue = kept
        return statuses

    # ------------------------------------------------------------- HTTP plumbing
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        call = ApiCall(request.method, request.path, dict(request.query))
        self.calls.append(call)
        try:
            result = await self._dispatch(request, call)
        except ApiError as error:
            call.status, call.code = error.status, error.code
            return error.response()
        except _Dropped as drop:
            call.status = drop.args[0]
            assert request.transport is not None
            request.transport.abort()  # no answer at all: the client sees a dropped connection
            return web.Response(status=500)
        call.status = 200
        return web.json_response(result)

    async def _dispatch(self, request: web.Request, call: ApiCall) -> Any:
        found = max_schema.match_path(request.path)
        if found is None:
            raise ApiError(404, f"Path {request.path} is not found")
        template, item, path_params = found
        operation = item.get(request.method.lower())
        if not isinstance(operation, dict):
            raise ApiError(405, f"Method {request.method} is not allowed for {template}")
        if "access_token" in request.query:
            raise ApiError(401, "access_token in the query is not supported, use the Authorization header")
        if request.headers.get("Authorization") != self.token:
            raise ApiError(401, "Invalid access_token")
        route = f"{request.method} {template}"
        failure = next((self._failures[k].popleft() for k in (route, "*") if self._failures.get(k)), None)
        if isinstance(failure, ApiError):
            raise failure
        if failure == DROP:
            raise _Dropped(DROP)
        try:
            query = max_schema.check_query(operation, dict(request.query))
        except SchemaError as e:
            raise bad(str(e)) from None
        body = await self._body(request, operation, call)
        handler = ROUTES.get(route)
        if handler is None:
            raise ApiError(501, f"{route} is in the spec but not implemented by FakeMax", "not.implemented")
        result = handler(self, query, body, path_params)
        result = await result if asyncio.iscoroutine(result) else result
        if failure == LOST:
            raise _Dropped(LOST)
        return result

    async def _body(self, request: web.Request, operation: dict, call: ApiCall) -> Any:
        spec = operation.get("requestBody")
        if spec is None:
            return None
        raw = await request.read()
        if not raw:
            if spec.get("required"):
                raise bad("Request body is required")
            return None
        try:
            body = call.body = json.loads(raw)
        except ValueError:
            raise bad("Can't deserialize body") from None
        ref = spec["content"]["application/json"]["schema"]
        try:
            max_schema.validate(body, ref)
        except SchemaError as e:
            raise bad(str(e)) from None
        return body

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    # ------------------------------------------------------------- uploads and files
    async def _upload(self, request: web.Request) -> web.Response:
        upload = self._uploads.get(request.match_info["upload_id"])
        if upload is None:
            return web.json_response({"code": "not.found", "message": "Upload URL is not found"}, status=404)
        if upload["used"]:
            return web.json_response({"code": "proto.payload", "message": "One file per upload URL"}, status=400)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = form.get("data")
            if not isinstance(part, web.FileField):
                return web.json_response({"code": "proto.payload", "message": "No file in field 'data'"}, status=400)
            data, filename, ctype = part.file.read(), part.filename, part.content_type
        else:  # resumable upload, in one piece
            data, ctype = await request.read(), request.content_type
            found = re.search(r'filename="?([^";]+)', request.headers.get("Content-Disposition", ""))
            filename = found[1] if found else "file"
        if not data:
            return web.json_response({"code": "proto.payload", "message": "Empty file"}, status=400)
        upload["used"] = True
        token = upload["token"] or secrets.token_urlsafe(24)
        self._tokens[token] = {"type": upload["type"], "data": data, "filename": filename or "file",
                               "content_type": ctype, "photo_id": next(self._ids) + 800_000}
        if upload["type"] == "file":
            return web.json_response({"token": token})
        if upload["type"] == "image":
            return web.json_response({"photos": {str(self._tokens[token]["photo_id"]): {"token": token}}})
        return web.Response(text="<retval>1</retval>", content_type="text/xml")

    async def _download(self, request: web.Request) -> web.Response:
        if self._download_failures:
            return web.Response(status=self._download_failures.popleft())
        found = self._files.get(request.match_info["file_id"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found[0], content_type=found[1])

    # ------------------------------------------------------------- API methods
    def _get_me(self, query: dict, body: Any, path: dict) -> dict:
        return {**self.bot_user, "description": "Fake bot for tests", "commands": None}

    def _get_chat(self, query: dict, body: Any, path: dict) -> dict:
        chat_id = int(path["chatId"])
        user_id = next((u for u, c in self._dialogs.items() if c == chat_id), None)
        if user_id is None:
            raise ApiError(404, f"Chat {chat_id} is not found")
        return {"chat_id": chat_id, "type": "dialog", "status": "active", "title": None, "icon": None,
                "last_event_time": now_ms(), "participants_count": 2, "owner_id": None, "participants": None,
                "is_public": False, "link": None, "description": None, "dialog_with_user": self.users[user_id],
                "messages_count": None, "pinned_message": None}

    async def _get_updates(self, query: dict, body: Any, path: dict) -> dict:
        if self.subscriptions:
            raise ApiError(405, "Long polling is not available while the bot has a webhook subscription")
        marker, limit, types = query.get("marker"), query.get("limit", 100), query.get("types")
        if marker is not None:  # everything before the marker the client sent is read
            self._updates = [(n, u) for n, u in self._updates if n >= marker]
        start = marker if marker is not None else (self._updates[0][0] if self._updates else self._next_number)
        deadline = time.monotonic() + query.get("timeout", 30)
        released = self._released
        self.polls_waiting += 1
        try:
            while True:
                picked, next_marker = self._pick(start, limit, types)
                remaining = deadline - time.monotonic()
                if picked or remaining <= 0 or self._closing or self._released != released:
                    break
                wakeup = self._wakeup
                try:
                    await asyncio.wait_for(wakeup.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
        finally:
            self.polls_waiting -= 1
        return {"updates": picked, "marker": next_marker}

    def _pick(self, start: int, limit: int, types: list[str] | None) -> tuple[list[dict], int]:
        picked, next_marker = [], start
        for number, update in self._updates:
            if number < start:
                continue
            if len(picked) == limit:
                break
            next_marker = number + 1
            if not types or update["update_type"] in types:
                picked.append(update)
        return picked, next_marker

    def _recipient(self, query: dict) -> tuple[int, int]:
        """(chat_id, user_id) of POST /messages."""
        if "user_id" in query:
            user_id = query["user_id"]
            if user_id not in self._dialogs:
                raise ApiError(404, f"User {user_id} has no dialog with the bot")
            chat_id = self._dialogs[user_id]
        elif "chat_id" in query:
            chat_id = query["chat_id"]
            user_id = next((u for u, c in self._dialogs.items() if c == chat_id), None)
            if user_id is None:
                raise ApiError(404, f"Chat {chat_id} is not found")
        else:
            raise bad("user_id or chat_id is required")
        if user_id in self.blocked:
            raise ApiError(403, "error.dialog.suspended", "chat.denied")
        return chat_id, user_id

    def _attachments(self, items: list[dict] | None) -> list[dict]:
        """Check NewMessageBody.attachments beyond the schema and render them as the API returns them."""
        items = items or []
        kinds = [a["type"] for a in items]
        if kinds.count("file") > 1 or ("file" in kinds and len([k for k in kinds if k in NOT_WITH_FILE]) > 1):
            raise bad("Must be only one file attachment in message")
        if kinds.count("inline_keyboard") > 1:
            raise bad("Must be only one inline keyboard in message")
        out, uploads = [], False
        for i, att in enumerate(items):
            kind, payload = att["type"], att["payload"]
            if kind == "inline_keyboard":
                try:
                    max_schema.check_keyboard(payload, f"attachments[{i}].payload")
                except SchemaError as e:
                    raise bad(str(e)) from None
                out.append({"type": kind, "payload": {"buttons": payload["buttons"]}})
            elif kind in FILE_KINDS or (kind == "image" and not payload.get("url")):
                token = payload.get("token") or next(iter((payload.get("photos") or {}).values()), {}).get("token")
                out.append(self._uploaded(kind, token, f"attachments[{i}]"))
                uploads = True
            elif kind == "image":
                out.append({"type": "image", "payload": {"photo_id": next(self._ids) + 700_000,
                                                         "token": secrets.token_urlsafe(16), "url": payload["url"]}})
            else:
                out.append(att)
        if uploads and self._not_ready:
            self._not_ready -= 1
            raise ApiError(400, "Key: errors.process.attachment.file.not.processed", "attachment.not.ready")
        return out

    def _uploaded(self, kind: str, token: str | None, where: str) -> dict:
        stored = self._tokens.get(token or "")
        pending = next((u for u in self._uploads.values() if u["token"] == token and token), None)
        if stored is None and pending is not None:
            raise ApiError(400, "Key: errors.process.attachment.file.not.processed", "attachment.not.ready")
        if stored is None:
            raise bad(f"{where}.payload.token: unknown token")
        if stored["type"] != kind:
            raise bad(f"{where}: token of an uploaded {stored['type']} used as {kind}")
        url = self.add_file(stored["data"], stored["filename"], stored["content_type"])
        if kind == "image":
            return {"type": "image", "payload": {"photo_id": stored["photo_id"], "token": token, "url": url}}
        if kind == "file":
            return {"type": "file", "payload": {"url": url, "token": token}, "filename": stored["filename"],
                    "size": len(stored["data"])}
        return {"type": kind, "payload": {"url": url, "token": token}}

    def _render(self, body: dict, old: dict | None = None) -> dict:
        """MessageBody for a new message, or ``old`` updated by an edit (None fields keep old values)."""
        text = body.get("text")
        attachments = body.get("attachments")
        rendered = self._attachments(attachments) if attachments is not None else None
        new = dict(old) if old else {"mid": self._mid(), "seq": next(self._ids), "text": None, "attachments": []}
        if text is not None:
            new["text"] = visible_text(text, body.get("format"))
        if rendered is not None:
            new["attachments"] = rendered
        if not new["text"] and not new["attachments"]:
            raise bad("Message text or attachments must be set")
        return new

    def _send_message(self, query: dict, body: dict, path: dict) -> dict:
        chat_id, user_id = self._recipient(query)
        link, linked = body.get("link"), None
        if link:
            linked = self._incoming.get(link["mid"]) or next(
                (s.message for s in self._sent if s.mid == link["mid"]), None)
            if linked is None:
                raise bad(f"link.mid: message {link['mid']} is not found")
        message = {"sender": self.bot_user, "recipient": {"chat_id": chat_id, "chat_type": "dialog",
                                                          "user_id": user_id},
                   "timestamp": now_ms(), "body": self._render(body)}
        if linked is not None:
            message["link"] = {"type": link["type"], "sender": linked.get("sender"), "chat_id": chat_id,
                               "message": copy.deepcopy(linked["body"])}
        self._sent.append(SentMessage(chat_id, user_id, message, body, raw_text=body.get("text")))
        return {"message": copy.deepcopy(message)}

    def _own_message(self, mid: str) -> SentMessage:
        sent = next((s for s in self._sent if s.mid == mid and not s.deleted), None)
        if sent is None:
            if mid in self._incoming:
                raise ApiError(403, "You can edit or delete only messages of the bot")
            raise ApiError(404, f"Message {mid} is not found")
        return sent

    def _edit(self, sent: SentMessage, body: dict) -> None:
        sent.history.append(copy.deepcopy(sent.message["body"]))
        sent.message["body"] = self._render(body, sent.message["body"])
        sent.request = body
        if body.get("text") is not None:
            sent.raw_text = body["text"]
        sent.edits += 1

    def _edit_message(self, query: dict, body: dict, path: dict) -> dict:
        self._edit(self._own_message(query["message_id"]), body)
        return {"success": True}

    def _delete_message(self, query: dict, body: Any, path: dict) -> dict:
        self._own_message(query["message_id"]).deleted = True
        return {"success": True}

    def _answer(self, query: dict, body: dict, path: dict) -> dict:
        callback = self._callbacks.get(query["callback_id"])
        if callback is None:
            raise ApiError(404, f"Callback {query['callback_id']} is not found")
        if not body.get("message") and not body.get("notification"):
            raise bad("Either message or notification must be set")
        if body.get("message"):
            if callback["mid"] is None:
                raise bad("message: the callback has no message to change")
            self._edit(self._own_message(callback["mid"]), body["message"])
        self.answers.append({"callback_id": query["callback_id"], "user_id": callback["user_id"],
                             "mid": callback["mid"], "message": body.get("message"),
                             "notification": body.get("notification")})
        return {"success": True}

    def _subscribe(self, query: dict, body: dict, path: dict) -> dict:
        url = body["url"]
        if not (url.startswith("https://") or (self.allow_http_webhooks and url.startswith("http://"))):
            raise bad("url: must start with https://")
        unknown = set(body.get("update_types") or []) - set(max_schema.update_types())
        if unknown:
            raise bad(f"update_types: unknown {sorted(unknown)}")
        self.subscriptions = [s for s in self.subscriptions if s["url"] != url]
        self.subscriptions.append({"url": url, "time": now_ms(), "update_types": body.get("update_types"),
                                   "secret": body.get("secret")})
        return {"success": True}

    def _get_subscriptions(self, query: dict, body: Any, path: dict) -> dict:
        return {"subscriptions": [{k: s[k] for k in ("url", "time", "update_types")} for s in self.subscriptions]}

    def _unsubscribe(self, query: dict, body: Any, path: dict) -> dict:
        before = len(self.subscriptions)
        self.subscriptions = [s for s in self.subscriptions if s["url"] != query["url"]]
        if len(self.subscriptions) == before:
            return {"success": False, "message": f"No subscription for {query['url']}"}
        return {"success": True}

    def _get_upload_url(self, query: dict, body: Any, path: dict) -> dict:
        upload_id = secrets.token_hex(10)
        kind = query["type"]
        token = secrets.token_urlsafe(24) if kind in ("video", "audio") else None  # given before the upload
        self._uploads[upload_id] = {"type": kind, "token": token, "used": False}
        answer = {"url": f"{self.base_url}/upload/{upload_id}"}
        return {**answer, "token": token} if token else answer


class _Dropped(Exception):
    """fail_next(status=DROP or LOST): the connection closes without an answer."""


# "METHOD /template" -> handler; spec routes missing here answer 501.
ROUTES = {
    "GET /me": FakeMax._get_me,
    "GET /chats/{chatId}": FakeMax._get_chat,
    "GET /updates": FakeMax._get_updates,
    "POST /messages": FakeMax._send_message,
    "PUT /messages": FakeMax._edit_message,
    "DELETE /messages": FakeMax._delete_message,
    "POST /answers": FakeMax._answer,
    "POST /subscriptions": FakeMax._subscribe,
    "GET /subscriptions": FakeMax._get_subscriptions,
    "DELETE /subscriptions": FakeMax._unsubscribe,
    "POST /uploads": FakeMax._get_upload_url,
}
