"""The Callback API endpoint: answers the confirmation request with VK_CONFIRMATION_CODE, refuses
events without the right `secret` (403), answers "ok" at once and leaves the event to
`accept` (which queues it for a background task, so VK never times out and retries)."""
from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web

from core.ports import ConfigError

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # VK events are small; attachments come as URLs


class CallbackConfigError(ConfigError):
    pass


def make_callback_app(path: str, secret: str | None, confirmation_code: str | None, group_id: int | None,
                      accept: Callable[[dict], object]) -> web.Application:
    if not secret:
        raise CallbackConfigError("VK Callback API needs VK_CALLBACK_SECRET: refusing to start without it")
    if not confirmation_code:
        raise CallbackConfigError("VK Callback API needs VK_CONFIRMATION_CODE")
    expected = secret.encode()

    async def endpoint(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
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
        accept(body)
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, endpoint)
    return app
