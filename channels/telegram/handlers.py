"""The citizens' conversation over Telegram: updates in, engine, replies out.

Every update enters through `intake` (an outer middleware of the dispatcher), which stores it
in the inbox and queues it under its chat (core/ordering.py); Telegram's offset moves on, or
its webhook request gets 200, once it is stored. The router's handlers then turn it into an Inbound, call
the engine once per update id, and show the replies. Any error is logged with the update id,
and the citizen gets an apology and the main menu; a chat that blocked the bot is marked
unreachable for notifications.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any, Awaitable, Callable

from aiogram import Bot, Dispatcher, Router
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update
from channels.telegram.files import fetch
from core.ordering import KeyedQueues
from channels.telegram.render import PayloadCodec
from channels.telegram.sender import ReplySender, call, is_gone
from channels.telegram.updates import CHANNEL, callback_inbound, file_refs, kind_of, message_inbound
from core.events import Inbound, Reply
from core.ports import Host

log = logging.getLogger(__name__)

# my_chat_member: Telegram tells when a person blocks the bot, and when they unblock it.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
BLOCKED_REASON = "telegram: the person blocked the bot"


def chat_of(update: Update) -> tuple[int, str] | None:
    """(chat id, user id) of a private-chat update we serve, else None."""
    if update.message is not None:
        m = update.message
        if m.chat.type != ChatType.PRIVATE:
            return None
        return m.chat.id, str(m.from_user.id if m.from_user else m.chat.id)
    if update.callback_query is not None:
        q = update.callback_query
        if q.message is None or q.message.chat.type != ChatType.PRIVATE:
            return None
        return q.message.chat.id, str(q.from_user.id)
    if update.my_chat_member is not None:
        m = update.my_chat_member
        return (m.chat.id, str(m.from_user.id)) if m.chat.type == ChatType.PRIVATE else None
    return None


async def in_private(item: Message | ChatMemberUpdated) -> bool:
    return item.chat.type == ChatType.PRIVATE


async def pressed_in_private(query: CallbackQuery) -> bool:
    return query.message is not None and query.message.chat.type == ChatType.PRIVATE


class ChatMemory:
    """Per chat: the newest message id seen either way, and the bot's newest message, kept by the
    host (shared by every worker with REDIS_URL, else in this process) for 48 hours, as long as
    Telegram lets a bot edit its messages. Unknown means: reply with a new message."""

    TTL = 48 * 3600.0

    def __init__(self, host: Host) -> None:
        self.host = host

    async def _get(self, chat_id: int) -> tuple[int, int]:
        value = await self.host.recall(f"{CHANNEL}:{chat_id}:latest")
        try:
            newest, ours = (int(v) for v in (value or "0:0").split(":"))
        except ValueError:
            return 0, 0
        return newest, ours

    async def _put(self, chat_id: int, newest: int, ours: int) -> None:
        await self.host.remember(f"{CHANNEL}:{chat_id}:latest", f"{newest}:{ours}", self.TTL)

    async def seen(self, chat_id: int, message_id: int) -> None:
        newest, ours = await self._get(chat_id)
        if message_id > newest:
            await self._put(chat_id, message_id, ours)

    async def sent(self, chat_id: int, message_id: int | None) -> None:
        if message_id is None:
            return
        newest, _ = await self._get(chat_id)
        await self._put(chat_id, max(newest, message_id), message_id)

    async def is_latest_ours(self, chat_id: int, message_id: int) -> bool:
        newest, ours = await self._get(chat_id)
        return ours == message_id and newest == message_id


class Conversation:
    def __init__(self, host: Host, bot: Bot, codec: PayloadCodec, *, concurrency: int = 64,
                 db_concurrency: int | None = None, attempts: int = 3, max_wait: float = 30.0) -> None:
        self.host, self.bot = host, bot
        self.sender = ReplySender(bot, codec, attempts=attempts, max_wait=max_wait)
        self.codec = codec
        self.queues = KeyedQueues(concurrency, "telegram-chat")
        # Backpressure in polling mode: while this many updates wait for the host (which queues
        # them for the database), the next getUpdates waits too. Left at Telegram they come back
        # in one batch instead of one request each, and a flood cannot pile up in memory.
        self.max_db_waiting = max(4, 2 * (db_concurrency or 2))
        self._db_waiting = 0
        self._db_room = asyncio.Event()
        self._db_room.set()
        self.memory = ChatMemory(host)
        self._background: set[asyncio.Task] = set()
        self.router = Router(name="telegram-citizens")
        # Coroutine filters: aiogram runs a plain function (a magic filter too) in a thread,
        # one thread hop per update.
        self.router.message.filter(in_private)
        self.router.callback_query.filter(pressed_in_private)
        self.router.my_chat_member.filter(in_private)
        self.router.message()(self.on_message)
        self.router.callback_query()(self.on_callback)
        self.router.my_chat_member()(self.on_membership)

    def install(self, dispatcher: Dispatcher) -> None:
        dispatcher.update.outer_middleware(self.intake)
        dispatcher.include_router(self.router)

    # ------------------------------------------------------------------ intake and errors
    async def intake(self, handler: Callable[[Update, dict], Awaitable[Any]], update: Update,
                     data: dict[str, Any]) -> Any:
        chat = chat_of(update)
        if update.callback_query is not None:
            self._in_background(self._answer(update.callback_query.id))  # the spinner stops at once
        if chat is None:
            return await handler(update, data)  # not a private chat: the router ignores it
        chat_id, user_id = chat
        await self._db_room.wait()  # backpressure: the next getUpdates, or the 200, waits too
        # Stored before Telegram hears of it: the next getUpdates confirms the offset, and the
        # webhook answers 200, only after this (services/inbox.py); handled after, in order.
        # The chat's place in the queue is taken now, on arrival: two webhook requests of one
        # chat keep their order even if the second is stored first.
        kept = asyncio.ensure_future(self.keep(update, chat_id))
        self.queues.submit(chat_id, lambda: self._process(handler, update, data, chat_id, user_id, kept))
        await kept
        return None

    async def keep(self, update: Update, chat_id: int) -> None:
        """Keep the raw update in the inbox; while the database is unreachable, keep trying
        (acknowledging it unstored would lose it)."""
        body = update.model_dump_json(exclude_none=True)
        delay = 0.5
        while True:
            try:
                await self.host.keep(CHANNEL, str(update.update_id), str(chat_id), body)
                return
            except Exception:
                log.exception("telegram: update %s not stored, trying again in %.1f s", update.update_id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def replay(self, dispatcher: Dispatcher) -> int:
        """After a restart: the stored updates not finished go to their chats' queues again, in
        arrival order, before anything new. The number queued."""
        count = 0
        for _key, _chat, body in await self.host.unfinished(CHANNEL):
            try:
                update = Update.model_validate_json(body, context={"bot": self.bot})
            except ValueError:
                log.error("telegram: stored update %s unreadable, dropped", _key)
                await self.host.finish(CHANNEL, _key)
                continue
            await dispatcher.feed_update(self.bot, update)
            count += 1
        if count:
            log.info("telegram: %d stored updates handled again after a restart", count)
        return count

    async def _process(self, handler, update: Update, data: dict, chat_id: int, user_id: str,
                       kept: asyncio.Future | None = None) -> None:
        if kept is not None:
            await kept
        async with self.host.chat_lock(CHANNEL, str(chat_id), str(update.update_id)):  # the chat's turn, in every worker
            await self._run(handler, update, data, chat_id, user_id)
            await self.host.finish(CHANNEL, str(update.update_id))  # not reached when cancelled at stop

    async def _run(self, handler, update: Update, data: dict, chat_id: int, user_id: str) -> None:
        try:
            await handler(update, data)
        except TelegramAPIError as e:
            if is_gone(e):
                log.info("telegram: update %s: chat unreachable (%s)", update.update_id, e.message)
                await self.set_reachable(user_id, False, f"telegram: {e.message}")
                return
            log.exception("telegram: update %s failed", update.update_id)
            await self.apologize(chat_id, user_id, update.update_id)
        except Exception:
            log.exception("telegram: update %s failed", update.update_id)
            await self.apologize(chat_id, user_id, update.update_id)

    async def apologize(self, chat_id: int, user_id: str, update_id: int) -> None:
        reply = await self.host.apology(CHANNEL, user_id)
        try:
            await self.memory.sent(chat_id, await self.sender.send(chat_id, reply))
        except TelegramAPIError as e:
            if is_gone(e):
                await self.set_reachable(user_id, False, f"telegram: {e.message}")
            log.warning("telegram: update %s: could not send the apology: %s", update_id, e.message)
        except Exception:
            log.exception("telegram: update %s: could not send the apology", update_id)

    async def set_reachable(self, user_id: str, reachable: bool, reason: str | None = None) -> None:
        """Blocked: notifications go by the person's other channels; unblocked: here again."""
        await self.host.set_reachable(CHANNEL, user_id, reachable, reason)

    async def _answer(self, query_id: str) -> None:
        try:
            await call(lambda: self.bot.answer_callback_query(query_id), attempts=2, max_wait=5)
        except TelegramAPIError as e:  # too old (a redelivery), or Telegram trouble: nothing to show
            log.info("telegram: callback query not answered: %s", e.message)

    def _in_background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout: float = 10.0) -> bool:
        ok = await self.queues.drain(timeout)
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)
        return ok

    # ------------------------------------------------------------------ handlers
    async def on_message(self, message: Message, event_update: Update) -> None:
        chat_id, update_id = message.chat.id, event_update.update_id
        await self.memory.seen(chat_id, message.message_id)
        kind = kind_of(message)
        if kind == "service":
            return
        me = await self.bot.me()
        inbound = message_inbound(message, me.username)
        if kind == "unsupported":
            inbound = replace(inbound, text=None, unsupported=True)
        if kind == "files":
            host = self.host
            attachments = [await fetch(self.bot, ref, max_bytes=host.max_file_bytes, allowed_mime=host.allowed_mime)
                           for ref in file_refs(message)]
            inbound = replace(inbound, attachments=tuple(attachments))
        await self._handle(chat_id, inbound, update_id, pressed=None)

    async def on_membership(self, event: ChatMemberUpdated) -> None:
        status = event.new_chat_member.status
        if status == ChatMemberStatus.KICKED:
            await self.set_reachable(str(event.from_user.id), False, BLOCKED_REASON)
        elif status == ChatMemberStatus.MEMBER:
            await self.set_reachable(str(event.from_user.id), True)

    async def on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        if query.data is None:  # a game button: nothing for us
            return
        inbound = callback_inbound(query, self.codec.decode(query.data))
        await self._handle(query.message.chat.id, inbound, event_update.update_id, pressed=query.message.message_id)

    async def engine(self, inbound: Inbound, update_key: str | None = None) -> list[Reply] | None:
        """The host's handle, counting who waits for it (see max_db_waiting)."""
        self._db_waiting += 1
        if self._db_waiting >= self.max_db_waiting:
            self._db_room.clear()
        try:
            return await self.host.handle(inbound, update_key=update_key)
        finally:
            self._db_waiting -= 1
            if self._db_waiting < self.max_db_waiting:
                self._db_room.set()

    async def _handle(self, chat_id: int, inbound: Inbound, update_id: int, pressed: int | None) -> None:
        replies = await self.engine(inbound, str(update_id))
        if replies is None:
            log.info("telegram: update %s was already handled, ignored", update_id)
            return
        shown = []
        try:
            await self.show(chat_id, replies, pressed, shown)
        except TelegramAPIError as e:
            if is_gone(e):
                raise
            # Committed but not shown (Telegram 5xx after retries): the outbox keeps trying,
            # so the citizen still gets the registration number, once.
            log.warning("telegram: update %s: reply not sent (%s), handed to the outbox", update_id, e.message)
            await self.host.defer(CHANNEL, str(update_id), inbound.user_id, len(shown))

    async def show(self, chat_id: int, replies: list[Reply], pressed: int | None = None,
                   shown: list | None = None) -> None:
        """A wizard step answering a press on the bot's latest message replaces it in place."""
        edit = (pressed is not None and len(replies) == 1 and replies[0].replace and not replies[0].files
                and await self.memory.is_latest_ours(chat_id, pressed))
        for reply in replies:
            last = await self.sender.send(chat_id, reply, edit_id=pressed if edit else None)
            await self.memory.sent(chat_id, last)
            if shown is not None:
                shown.append(last)
