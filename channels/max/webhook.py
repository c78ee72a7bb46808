"""Webhook mode: MAX posts each update to MAX_WEBHOOK_URL (subscribed with POST /subscriptions
and the secret); this endpoint takes it only with the right `X-Max-Bot-Api-Secret` (compared
in constant time), within a body limit, stores it in the durable inbox and answers 200 only
after it is handled: a crash leaves it in the inbox for the restart, and MAX redelivers it too
(the inbox and the update key keep the repeat harmless)."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Max-Bot-Api-Secret"
MAX_BODY = 1 << 20  # an update is a few kilobytes; files come as URLs
SECRET_RULE = "5 to 256 characters: letters, digits, _ and -"


class WebhookConfigError(RuntimeError):
    """Webhook mode asked for without what it needs."""


def check_settings(url: str | None, secret: str | None) -> None:
    if not secret:
        raise WebhookConfigError(
            "MAX_WEBHOOK_SECRET is required when MAX_WEBHOOK_URL is set: without it anyone who finds "
            f"the URL could post fake updates ({SECRET_RULE})")
    if not url:
        raise WebhookConfigError("MAX_WEBHOOK_URL is required in webhook mode")


def make_app(path: str, secret: str | None,
             accept: Callable[[dict], Awaitable[asyncio.Future | None]]) -> web.Application:
    check_settings("-", secret)
    expected = secret.encode("utf-8")

    async def endpoint(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected):
            log.warning("max: webhook request with a wrong or missing secret refused")
            return web.Response(status=403, text="forbidden")
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="bad request")
        if not isinstance(update, dict):
            return web.Response(status=400, text="bad request")
        try:
            done = await accept(update)
            if done is not None:
                await asyncio.shield(done)
        except asyncio.CancelledError:
            return web.Response(status=503, text="shutting down")
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, endpoint)
    return app
