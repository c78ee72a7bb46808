"""Sending replies to Telegram: in a conversation (retrying floods and hiccups briefly) and
from the outbox (TelegramDeliverer: failures become RetryLater / Unreachable for the sender).
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Awaitable, Callable, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram import methods
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, LinkPreviewOptions, Message

from core.ports import RetryLater, Unreachable
from channels.telegram.render import Part, PayloadCodec, keyboard, render
from core.events import Reply

log = logging.getLogger(__name__)

# aiogram validates every answer with Response[<method's result type>]. pydantic caches that
# parametrized model only weakly, the cyclic GC drops it now and then, and rebuilding it costs
# 3-6 ms of CPU with the event loop blocked: a latency spike for every chat. Pinning the models
# of the methods this channel calls keeps them built.
_PINNED = [Response[m.__returning__] for m in (
    methods.GetUpdates, methods.SendMessage, methods.EditMessageText, methods.AnswerCallbackQuery,
    methods.SendDocument, methods.GetFile, methods.GetMe, methods.DeleteWebhook, methods.SetWebhook,
    methods.SetMyCommands)]

T = TypeVar("T")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# 400 answers that mean the address itself is gone, not this one message.
GONE = ("chat not found", "user not found", "peer_id_invalid", "user is deactivated", "bot was blocked",
        "have no rights to send", "not enough rights", "group chat was upgraded")


def is_gone(error: TelegramAPIError) -> bool:
    """403 (blocked, deactivated, kicked) or a 400 that says the chat does not exist."""
    if isinstance(error, TelegramForbiddenError):
        return True
    return isinstance(error, (TelegramBadRequest, TelegramNotFound)) and any(
        g in (error.message or "").lower() for g in GONE)


def method_name(error: TelegramAPIError) -> str:
    method = getattr(error, "method", None)
    return getattr(method, "__api_method__", "?")


async def call(make: Callable[[], Awaitable[T]], *, attempts: int = 3, max_wait: float = 30.0) -> T:
    """One Bot API call for a conversation: a 429 waits its retry_after (when it is at most
    `max_wait` seconds), a 5xx or network error is retried after a short pause; at most
    `attempts` tries in all, then the error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await make()
        except TelegramRetryAfter as e:
            if attempt >= attempts or e.retry_after > max_wait:
                raise
            log.warning("telegram: flood limit on %s, retrying after %s s", method_name(e), e.retry_after)
            await asyncio.sleep(e.retry_after)
        except (TelegramServerError, TelegramNetworkError) as e:
            if attempt >= attempts:
                raise
            log.warning("telegram: %s failed (%s), retrying", method_name(e), type(e).__name__)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


class ReplySender:
    """Shows a Reply in a chat: edits the given message in place when it can, else sends
    text parts (keyboard on the last message) and then the reply's files."""

    def __init__(self, bot: Bot, codec: PayloadCodec, *, attempts: int = 3, max_wait: float = 30.0) -> None:
        self.bot, self.codec = bot, codec
        self.attempts, self.max_wait = attempts, max_wait

    def _call(self, make: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        return call(make, attempts=self.attempts, max_wait=self.max_wait)

    async def send(self, chat_id: int, reply: Reply, *, edit_id: int | None = None,
                   skip: int = 0, on_sent: Callable[[int], None] | None = None) -> int | None:
        """Returns the id of the last message shown. `skip` messages are left out (already
        delivered by an earlier attempt); `on_sent(n)` is told after each message goes out."""
        parts = render(reply, self.codec)
        if edit_id is not None and len(parts) == 1 and not reply.files and not skip:
            if await self._edit(chat_id, edit_id, parts[0]):
                return edit_id
        last: int | None = None
        steps: list[Callable[[], Awaitable[Message]]] = [self._text(chat_id, p) for p in parts]
        markup = keyboard(reply.buttons, self.codec) if reply.files else None
        for i, f in enumerate(reply.files):
            steps.append(self._file(chat_id, f.name, f.data, markup if i == len(reply.files) - 1 else None))
        for n, step in enumerate(steps):
            if n < skip:
                continue
            message = await self._call(step)
            last = message.message_id
            if on_sent:
                on_sent(n + 1)
        return last

    def _text(self, chat_id: int, part: Part) -> Callable[[], Awaitable[Message]]:
        return lambda: self.bot.send_message(chat_id, part.text, reply_markup=part.markup,
                                             link_preview_options=NO_PREVIEW)

    def _file(self, chat_id: int, name: str, data: bytes, markup) -> Callable[[], Awaitable[Message]]:
        return lambda: self.bot.send_document(chat_id, BufferedInputFile(data, filename=name), reply_markup=markup)

    async def _edit(self, chat_id: int, message_id: int, part: Part) -> bool:
        try:
            await self._call(lambda: self.bot.edit_message_text(
                text=part.text, chat_id=chat_id, message_id=message_id, reply_markup=part.markup,
                link_preview_options=NO_PREVIEW))
            return True
        except TelegramBadRequest as e:
            if "message is not modified" in (e.message or ""):
                return True  # the same screen again: it is already shown
            if is_gone(e):
                raise
            log.info("telegram: cannot edit message (%s), sending a new one", e.message)
            return False


class TelegramDeliverer:
    """core.ports.Deliverer for Telegram: a Reply to a chat id outside a conversation."""

    channel = "telegram"

    def __init__(self, bot: Bot, codec: PayloadCodec | None = None) -> None:
        # Outbox retries are the OutboxSender's business: one attempt here, no sleeping.
        self.sender = ReplySender(bot, codec or PayloadCodec(), attempts=1)
        self._progress: OrderedDict[int, int] = OrderedDict()  # outbox key -> messages already sent

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        try:
            chat_id = int(external_id)
        except ValueError:
            raise Unreachable(f"telegram: not a chat id: {external_id[:40]!r}") from None
        done = self._progress.get(key, 0)

        def sent(n: int) -> None:  # a retry after a partial failure does not repeat parts
            self._progress[key] = n
            self._progress.move_to_end(key)
            while len(self._progress) > 10_000:
                self._progress.popitem(last=False)

        try:
            await self.sender.send(chat_id, reply, skip=done, on_sent=sent)
        except TelegramRetryAfter as e:
            raise RetryLater(f"telegram: flood limit, retry after {e.retry_after} s", seconds=e.retry_after) from e
        except TelegramAPIError as e:
            if is_gone(e):
                raise Unreachable(f"telegram: {e.message}"[:200]) from e
            if isinstance(e, (TelegramServerError, TelegramNetworkError)):
                # No fixed delay: the outbox sender backs off exponentially.
                raise RetryLater(f"telegram: {type(e).__name__}: {e.message}"[:200], seconds=None) from e  # type: ignore[arg-type]
            raise
        except (asyncio.TimeoutError, OSError) as e:
            raise RetryLater(f"telegram: {type(e).__name__}", seconds=None) from e  # type: ignore[arg-type]
        self._progress.pop(key, None)
