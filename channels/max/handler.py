"""One MAX update through the engine: parse, download files, call `host.handle` with the
update's key (a repeat returns None, or the replies still owed after a crash), show the
replies, answer a press, finish the update's inbox row (services/inbox.py). A reply that
cannot be shown for a temporary failure goes through the outbox (`host.defer`). A failure
never drops an update silently: it is logged with the key, and the person gets an apology and
the main menu. bot_stopped marks the person unreachable here, so notices go by their other
channels."""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from channels.max import files as max_files
from channels.max import updates
from channels.max.client import describe, is_gone, is_temporary
from channels.max.sender import Sender
from channels.max.updates import CHANNEL
from core.events import Reply
from core.ports import Host

log = logging.getLogger(__name__)

STOPPED_REASON = "max: the person stopped the bot"


@dataclass
class Stats:
    handled: int = 0  # updates finished (repeats and errors included)
    repeats: int = 0  # already handled before
    errors: int = 0


class UpdateHandler:
    def __init__(self, host: Host, sender: Sender, stats: Stats | None = None) -> None:
        self.host, self.sender = host, sender
        self.stats = stats or Stats()

    async def __call__(self, raw: dict) -> None:
        """Kept in the inbox by the channel before; finished once shown, not when cancelled at
        stop (the restart handles it again)."""
        ev = updates.parse(raw)
        try:
            if ev is None:
                return
            async with self.host.chat_lock(CHANNEL, str(ev.user_id), ev.key):  # the person's turn, in every worker
                await self._handle(ev)
                await self.host.finish(CHANNEL, ev.key)
        finally:
            self.stats.handled += 1

    async def _handle(self, ev: updates.MaxEvent) -> None:
        if ev.kind == "stopped":
            await self.host.set_reachable(CHANNEL, str(ev.user_id), False, STOPPED_REASON)
            return
        if ev.kind == "started":
            await self.host.set_reachable(CHANNEL, str(ev.user_id), True)
        if ev.kind == "message":
            await self.sender.latest.seen(ev.user_id)
        inbound = ev.inbound
        try:
            if ev.files:
                session = await self.sender.bot.ensure_session()
                got = await max_files.fetch_all(session, ev.files, self.host.max_file_bytes, self.host.allowed_mime)
                inbound = dataclasses.replace(inbound, attachments=got)
            if inbound.button is not None:
                inbound = dataclasses.replace(inbound, button=self.sender.codec.decode(inbound.button))
            replies = await self.host.handle(inbound, update_key=ev.key)
        except Exception:
            self.stats.errors += 1
            log.exception("max: update %s (user %s) failed in the engine", ev.key, ev.user_id)
            await self._apologise(ev)
            return
        if replies is None:
            self.stats.repeats += 1
            log.info("max: update %s was already handled, ignored", ev.key)
            return
        shown: list[Reply] = []
        try:
            await self.show(ev, replies, shown)
        except Exception as e:
            if is_gone(e):
                await self.host.set_reachable(CHANNEL, str(ev.user_id), False, describe(e))
                return
            self.stats.errors += 1
            if is_temporary(e):  # committed, not shown: the outbox keeps trying, once
                log.warning("max: update %s: reply to user %s not sent (%s), handed to the outbox",
                            ev.key, ev.user_id, describe(e))
                await self.host.defer(CHANNEL, ev.key, str(ev.user_id), len(shown))
                return
            log.exception("max: update %s: reply to user %s failed", ev.key, ev.user_id)
            await self._apologise(ev)

    async def show(self, ev: updates.MaxEvent, replies: list[Reply], shown: list | None = None) -> None:
        """A wizard step answering a press on the bot's newest message replaces it in place.
        `shown` gets each reply once it is fully sent."""
        if ev.kind == "callback" and await self.sender.can_replace(ev.user_id, replies, ev.pressed_mid):
            if await self.sender.answer_in_place(ev.callback_id, replies[0]):
                return
            if await self.sender.edit(ev.pressed_mid, replies[0]):
                return
        for reply in replies:
            await self.sender.send(ev.user_id, reply)
            if shown is not None:
                shown.append(reply)
        if ev.kind == "callback" and ev.callback_id:
            await self.sender.notify(ev.callback_id, replies)

    async def _apologise(self, ev: updates.MaxEvent) -> None:
        try:
            sorry = await self.host.apology(CHANNEL, str(ev.user_id))
            await self.sender.send(ev.user_id, sorry)
            if ev.kind == "callback" and ev.callback_id:
                await self.sender.notify(ev.callback_id, [sorry])
        except Exception as e:
            if is_gone(e):
                await self.host.set_reachable(CHANNEL, str(ev.user_id), False, describe(e))
                return
            log.exception("max: update %s: the apology failed too", ev.key)
