"""The maxapi `Bot`, used as a plain HTTP client: base URL from MAX_API_URL, the token in the
Authorization header (maxapi's default), no retries of its own (a POST /messages retried after
a lost answer is delivered twice: the API has no idempotency key), and MAX's answers sorted
into temporary, permanent-for-this-person and other failures. See docs/max_client_notes.md."""
from __future__ import annotations

import asyncio

import aiohttp
from maxapi import Bot
from maxapi.client import DefaultConnectionProperties
from maxapi.exceptions import MaxApiError, MaxConnection, MaxError

REQUEST_TIMEOUT = 60  # seconds; above the long poll's 30
GONE_CODES = ("chat.denied", "error.dialog.suspended", "user.blocked", "dialog.suspended")


def make_bot(token: str, api_url: str) -> Bot:
    bot = Bot(token, auto_requests=False, auto_check_subscriptions=False, after_input_media_delay=0.01,
              after_upload_attempts=5, after_upload_retry_delay=1.0,
              default_connection=DefaultConnectionProperties(timeout=REQUEST_TIMEOUT, max_retries=0))
    bot.set_api_url(api_url.rstrip("/"))
    return bot


def error_code(e: BaseException) -> str:
    raw = getattr(e, "raw", None)
    return str(raw.get("code") or "") if isinstance(raw, dict) else ""


def describe(e: BaseException) -> str:
    if isinstance(e, MaxApiError):
        raw = e.raw if isinstance(e.raw, dict) else {"message": str(e.raw)}
        return f"max: {e.code} {raw.get('code') or ''} {raw.get('message') or ''}".strip()[:200]
    return f"max: {type(e).__name__}"


def is_temporary(e: BaseException) -> bool:
    """429, 5xx, network trouble, timeouts: worth trying again later."""
    if isinstance(e, MaxApiError):
        return e.code == 429 or e.code >= 500
    return isinstance(e, (MaxConnection, aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, OSError))


def is_gone(e: BaseException) -> bool:
    """403: the person stopped or blocked the bot; 404 on a user: no dialog with the bot."""
    if not isinstance(e, MaxApiError):
        return False
    return e.code == 403 or (e.code == 404 and error_code(e) == "not.found" and "user" in describe(e).lower())


__all__ = ["Bot", "MaxError", "make_bot", "describe", "is_temporary", "is_gone", "error_code"]
