"""The Callback API endpoint: answers the confirmation request with VK_CONFIRMATION_CODE, refuses
events without the right `secret` (403), and answers "ok" only after `accept` has stored the
event in the durable inbox (it is handled by a background task, so VK never times out).

Hostile requests: the body is read with a size limit and a timeout; a body that does not even
contain the secret is refused before it is parsed (a `[`×100,000 body is never given to the
JSON parser); an aborted or slow request costs one log line, not a traceback."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.ports import ConfigError

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # VK events are small; attachments come as URLs
READ_TIMEOUT = 10.0  # seconds for the whole body


class CallbackConfigError(ConfigError):
    pass


def make_callback_app(path: str, secret: str | None, confirmation_code: str | None, group_id: int | None,
                      accept: Callable[[dict], Awaitable[object]]) -> web.Application:
    if not secret:
        raise CallbackConfigError("VK Callback API needs VK_CALLBACK_SECRET: refusing to start without it")
    if not confirmation_code:
        raise CallbackConfigError("VK Callback API needs VK_CONFIRMATION_CODE")
    expected = secret.encode()

    async def endpoint(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            log.warning("VK callback refused: body of %s bytes", request.content_length)
            return web.Response(status=413, text="too large")
        try:
            raw = await asyncio.wait_for(request.read(), READ_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("VK callback refused: body not received in %.0f s", READ_TIMEOUT)
            return web.Response(status=408, text="timeout")
        except web.HTTPRequestEntityTooLarge:
            log.warning("VK callback refused: body over %d bytes", MAX_BODY)
            return web.Response(status=413, text="too large")
        except Exception as e:  # the client went away mid-body
            log.warning("VK callback aborted by the client (%s)", type(e).__name__)
            return web.Response(status=400, text="bad request")
        if expected not in raw:  # no secret anywhere: not worth parsing
            log.warning("VK callback without the secret refused (%d bytes)", len(raw))
            return web.Response(status=403, text="forbidden")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return web.Response(status=400, text="bad request")
        if not isinstance(body, dict):
            return web.Response(status=400, text="bad request")
        given = body.get("secret")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected):
            log.warning("VK callback with a wrong or missing secret refused (type %r)", body.get("type"))
            return web.Response(status=403, text="forbidden")
        if group_id is not None and body.get("group_id") not in (group_id, str(group_id)):
            log.warning("VK callback for another community (%r) refused", body.get("group_id"))
            return web.Response(status=403, text="forbidden")
        if body.get("type") == "confirmation":
            return web.Response(text=confirmation_code)
        try:
            await accept(body)  # stored before VK hears "ok"
        except Exception:
            log.exception("VK callback event not stored; VK will send it again")
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, endpoint)
    return app
