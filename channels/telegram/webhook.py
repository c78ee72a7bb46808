"""Webhook mode: an aiohttp application that takes updates only with the right secret.

Telegram sends the secret given to setWebhook in the X-Telegram-Bot-Api-Secret-Token header.
A request without it, or with another one, gets 401 and is not processed. aiogram's own handler
lets everything through when no secret is configured, so this mode refuses to start without one.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from core.ports import ConfigError

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few kilobytes; files are fetched separately
READ_TIMEOUT = 10.0  # seconds for the whole body
SECRET_KEY = web.AppKey("telegram_secret", str)
log = logging.getLogger(__name__)


@web.middleware
async def guarded(request: web.Request, handler):
    """The secret header before the body is read; then the body with a size limit and a
    timeout; an aborted or slow request is one log line, not a traceback."""
    expected = request.app[SECRET_KEY].encode("utf-8")
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, expected):
        return web.Response(status=401, text="unauthorized")
    try:
        await asyncio.wait_for(request.read(), READ_TIMEOUT)  # cached for the handler
    except asyncio.TimeoutError:
        log.warning("telegram webhook: body not received in %.0f s", READ_TIMEOUT)
        return web.Response(status=408, text="timeout")
    except web.HTTPRequestEntityTooLarge:
        log.warning("telegram webhook: body over %d bytes refused", MAX_UPDATE_BYTES)
        return web.Response(status=413, text="too large")
    except Exception as e:
        log.warning("telegram webhook: request aborted by the client (%s)", type(e).__name__)
        return web.Response(status=400, text="bad request")
    return await handler(request)


class WebhookConfigError(ConfigError):
    """Webhook mode asked for without what it needs (secret, public URL)."""


class SecretCheckingHandler(SimpleRequestHandler):
    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # compare bytes: compare_digest refuses non-ASCII str, which a stranger may send
        return bool(self.secret_token) and hmac.compare_digest(
            telegram_secret_token.encode("utf-8", "replace"), self.secret_token.encode("utf-8"))

    async def close(self) -> None:
        """The channel owns the bot session (the outbox uses it too); it closes it in stop()."""


def check_webhook_settings(secret: bool, url: bool = True) -> None:
    if not secret:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_SECRET is required in webhook mode: without it anyone who finds "
            "the URL could post fake updates (letters, digits, _ and -; up to 256 characters)")
    if not url:
        raise WebhookConfigError("TELEGRAM_WEBHOOK_URL is required in webhook mode")


def build_webhook_app(dispatcher: Dispatcher, bot: Bot, *, path: str, secret: str | None,
                      **data: Any) -> web.Application:
    check_webhook_settings(bool(secret))
    app = web.Application(client_max_size=MAX_UPDATE_BYTES, middlewares=[guarded])
    app[SECRET_KEY] = secret
    # 200 once the update is stored (the inbox), not once it is handled: with Telegram delivering
    # one at a time, the next update of any chat comes only after this one is stored, so every
    # worker sees one chat's updates in Telegram's order (bot/app.py chat_lock).
    handler = SecretCheckingHandler(dispatcher=dispatcher, bot=bot, secret_token=secret,
                                    handle_in_background=False, **data)
    handler.register(app, path=path)
    return app
