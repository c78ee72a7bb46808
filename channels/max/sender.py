"""Sending to MAX: in a conversation (a 429 or 5xx answer retried briefly; a lost answer never,
since a resent POST /messages would be a second message), editing a wizard step in place, and
answering button presses (POST /answers); `MaxDeliverer` for the outbox, whose failures become
RetryLater / Unreachable."""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Awaitable, Callable, TypeVar

import aiohttp
from maxapi.enums.attachment import AttachmentType
from maxapi.exceptions import MaxApiError, MaxError
from maxapi.types.attachments.attachment import ButtonsPayload
from maxapi.types.attachments.buttons.attachment_button import AttachmentButton
from maxapi.types.updates.message_callback import MessageForCallback

from channels.max import files as max_files
from channels.max.client import describe, is_gone, is_temporary
from channels.max.render import Part, PayloadCodec, keyboard, render
from core.events import Reply
from core.ports import RetryLater, Unreachable

log = logging.getLogger(__name__)

T = TypeVar("T")
NOTIFICATION_MAX = 100  # a short toast for a press answered by new messages


def markup(kb: dict | None) -> AttachmentButton | None:
    if kb is None:
        return None
    return AttachmentButton(type=AttachmentType.INLINE_KEYBOARD, payload=ButtonsPayload.model_validate(kb["payload"]))


async def call(make: Callable[[], Awaitable[T]], *, attempts: int = 3) -> T:
    """A 429 or 5xx answer is retried after a pause; anything else (and the last try) raises."""
    for attempt in range(1, attempts + 1):
        try:
            return await make()
        except MaxApiError as e:
            if attempt >= attempts or not (e.code == 429 or e.code >= 500):
                raise
            log.warning("max: %s, retrying", describe(e))
            await asyncio.sleep(1.0 if e.code == 429 else 0.5 * attempt)
    raise AssertionError("unreachable")


class LatestMessages:
    """Per person, the bot's newest message while nothing newer came from them: only that one is
    edited in place. Kept by the host (shared by every worker with REDIS_URL) for 48 hours, or
    here, bounded, without a host."""

    TTL = 48 * 3600.0

    def __init__(self, host=None, size: int = 100_000) -> None:
        self.host, self.size = host, size
        self._mids: OrderedDict[int, str | None] = OrderedDict()

    async def _put(self, user_id: int, mid: str | None) -> None:
        if self.host is not None:
            await self.host.remember(f"max:{user_id}:latest", mid or "", self.TTL)
            return
        self._mids[user_id] = mid
        self._mids.move_to_end(user_id)
        while len(self._mids) > self.size:
            self._mids.popitem(last=False)

    async def seen(self, user_id: int) -> None:
        await self._put(user_id, None)

    async def sent(self, user_id: int, mid: str | None) -> None:
        if mid:
            await self._put(user_id, mid)

    async def is_latest(self, user_id: int, mid: str | None) -> bool:
        if mid is None:
            return False
        if self.host is not None:
            return await self.host.recall(f"max:{user_id}:latest") == mid
        return self._mids.get(user_id) == mid


class Sender:
    def __init__(self, bot, codec: PayloadCodec, *, attempts: int = 3, host=None) -> None:
        self.bot, self.codec, self.attempts = bot, codec, attempts
        self.latest = LatestMessages(host)

    def _call(self, make: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        return call(make, attempts=self.attempts)

    async def send(self, user_id: int, reply: Reply, *, skip: int = 0,
                   on_sent: Callable[[int], None] | None = None) -> str | None:
        """Text parts, then each file in its own message (MAX takes one file a message); the
        keyboard on the last message. `skip` messages were delivered by an earlier attempt."""
        parts = render(reply, self.codec)
        kb = markup(keyboard(reply.buttons, self.codec))
        steps: list[Callable[[], Awaitable]] = [self._text(user_id, p) for p in parts]
        for i, f in enumerate(reply.files):
            steps.append(self._file(user_id, f, kb if i == len(reply.files) - 1 else None))
        last = None
        session = await self.bot.ensure_session()
        for n, step in enumerate(steps):
            if n < skip:
                continue
            sent = await step(session)
            last = sent.message.body.mid if sent is not None else None
            await self.latest.sent(user_id, last)
            if on_sent:
                on_sent(n + 1)
        return last

    def _text(self, user_id: int, part: Part):
        kb = markup(part.keyboard)
        return lambda _session: self._call(lambda: self.bot.send_message(
            user_id=user_id, text=part.text, attachments=[kb] if kb else None))

    def _file(self, user_id: int, f, kb):
        async def step(session):
            uploaded = await self._call(lambda: max_files.upload(self.bot, session, f))
            return await self._call(lambda: self.bot.send_message(
                user_id=user_id, attachments=[uploaded, kb] if kb else [uploaded], sleep_after_input_media=False))
        return step

    # ------------------------------------------------------------------ in place, callbacks
    async def can_replace(self, user_id: int, replies: list[Reply], pressed_mid: str | None) -> bool:
        return (len(replies) == 1 and replies[0].replace and not replies[0].files
                and len(render(replies[0], self.codec)) == 1 and await self.latest.is_latest(user_id, pressed_mid))

    async def answer_in_place(self, callback_id: str, reply: Reply) -> bool:
        """The press answered by changing the pressed message into the next screen (one call,
        POST /answers with `message`). False when MAX refused (an old callback): send anew."""
        [part] = render(reply, self.codec)
        kb = markup(part.keyboard)
        try:
            await self._call(lambda: self.bot.send_callback(
                callback_id=callback_id, message=MessageForCallback(text=part.text, attachments=[kb] if kb else [])))
            return True
        except MaxError as e:
            log.info("max: the press could not be answered in place (%s), sending a new message", describe(e))
            return False

    async def edit(self, mid: str, reply: Reply) -> bool:
        """PUT /messages with the keyboard given again (without it MAX drops the keyboard)."""
        [part] = render(reply, self.codec)
        kb = markup(part.keyboard)
        try:
            await self._call(lambda: self.bot.edit_message(message_id=mid, text=part.text,
                                                           attachments=[kb] if kb else []))
            return True
        except MaxError as e:
            log.info("max: message %s not edited (%s), sending a new one", mid, describe(e))
            return False

    async def notify(self, callback_id: str, replies: list[Reply]) -> None:
        """Stop the spinner of a press answered with new messages: a short toast (the first line
        of the answer). An old callback (after a restart) can no longer be answered: only logged."""
        first = next((r.text for r in replies if (r.text or "").strip()), "") or "…"
        line = " ".join(first.strip().split("\n", 1)[0].split())
        if len(line) > NOTIFICATION_MAX:
            line = line[: NOTIFICATION_MAX - 1].rstrip() + "…"
        try:
            await call(lambda: self.bot.send_callback(callback_id=callback_id, notification=line), attempts=2)
        except MaxError as e:
            log.info("max: callback %s not answered: %s", callback_id, describe(e))


class MaxDeliverer:
    """core.ports.Deliverer for MAX: a Reply to a user id outside a conversation."""

    channel = "max"

    def __init__(self, sender: Sender) -> None:
        # One attempt: the outbox sender retries on its own schedule.
        self.sender = Sender(sender.bot, sender.codec, attempts=1)
        self.sender.latest = sender.latest
        self._progress: OrderedDict[int, int] = OrderedDict()  # outbox key -> messages already sent

    async def deliver(self, external_id: str, reply: Reply, key: int) -> None:
        try:
            user_id = int(external_id)
        except ValueError:
            raise Unreachable(f"max: not a user id: {external_id[:40]!r}") from None

        def sent(n: int) -> None:  # a retry after a partial failure does not repeat parts
            self._progress[key] = n
            self._progress.move_to_end(key)
            while len(self._progress) > 10_000:
                self._progress.popitem(last=False)

        try:
            await self.sender.send(user_id, reply, skip=self._progress.get(key, 0), on_sent=sent)
        except MaxApiError as e:
            if e.code == 429:
                raise RetryLater(describe(e), seconds=1.0) from e
            if is_gone(e):
                raise Unreachable(describe(e)) from e
            if is_temporary(e):
                raise RetryLater(describe(e), seconds=None) from e
            raise
        except max_files.UploadError as e:
            raise RetryLater(f"max: upload: {e}", 30.0) from e
        except (MaxError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
            if is_temporary(e) or not isinstance(e, MaxError):
                raise RetryLater(describe(e), seconds=None) from e
            raise
        self._progress.pop(key, None)
