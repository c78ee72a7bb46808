"""One VK event through the engine: parse, answer a callback press, download files, call
`engine.handle` with the event id as update key (a repeat returns None), send the replies.
A failure never drops an event silently: it is logged with the event id and the citizen gets
an apology and the main menu."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from dataclasses import dataclass

from channels.vk import files as vk_files
from channels.vk import updates
from channels.vk.sender import PeerUnreachable, Sender, TemporaryFailure
from channels.vk.updates import CHANNEL
from core.events import Reply
from core.ports import Host

log = logging.getLogger(__name__)


@dataclass
class Stats:
    received: int = 0  # events accepted for handling
    handled: int = 0  # events finished (including repeats and errors)
    repeats: int = 0  # dropped as already handled
    errors: int = 0


class EventHandler:
    def __init__(self, host: Host, sender: Sender, stats: Stats | None = None) -> None:
        self.host = host
        self.sender = sender
        self.stats = stats or Stats()

    async def __call__(self, raw: dict) -> None:
        """Kept in the inbox first (idempotent; Long Poll events arrive unkept), so the replies
        are stored with the effects; finished once shown. Not finished when cancelled at stop."""
        key = updates.event_key(raw)
        peer = updates.peer_of(raw)
        chat = str(peer if peer is not None else key)
        try:
            if key is not None:
                await self.host.keep(CHANNEL, key, chat, json.dumps(raw))
            async with self.host.chat_lock(CHANNEL, chat, key):  # the peer's turn, in every worker
                await self._handle(raw)
                if key is not None:
                    await self.host.finish(CHANNEL, key)
        finally:
            self.stats.handled += 1

    async def _handle(self, raw: dict) -> None:
        ev = updates.parse(raw)
        if ev is None:
            return
        if ev.kind in ("allow", "deny"):
            await self.host.set_reachable(CHANNEL, str(ev.user_id), ev.kind == "allow",
                                          None if ev.kind == "allow" else "VK: the user denied messages from the community")
            return
        if ev.caps is not None:
            self.sender.caps.put(ev.peer_id, ev.caps)
        answer = None
        if ev.kind == "callback" and ev.callback_id:  # stop the spinner while the engine works
            answer = asyncio.create_task(self.sender.answer_callback(ev.callback_id, ev.user_id, ev.peer_id))
        try:
            await self._respond(ev)
        finally:
            if answer is not None:
                await answer

    async def _respond(self, ev: updates.VKEvent) -> None:
        inbound = ev.inbound
        try:
            if ev.files:
                got = await vk_files.fetch_all(self.sender.api.http_client, ev.files, self.host.max_file_bytes)
                inbound = dataclasses.replace(inbound, attachments=got)
            replies = await self.host.handle(inbound, update_key=ev.key)
        except Exception:
            self.stats.errors += 1
            log.exception("VK event %s (peer %s) failed in the engine", ev.key, ev.peer_id)
            await self._apologise(ev)
            return
        if replies is None:
            self.stats.repeats += 1
            log.info("VK event %s was already handled", ev.key)
            return
        await self._send(ev, replies)

    async def _send(self, ev: updates.VKEvent, replies: list[Reply]) -> None:
        try:
            await self.sender.send(ev.peer_id, replies, ev.caps, ev.key)
        except PeerUnreachable as e:
            await self.sender.mark_unreachable(ev.peer_id, e.reason)
        except TemporaryFailure as e:  # committed, not shown: the outbox keeps trying
            self.stats.errors += 1
            log.error("VK event %s: reply to peer %s not sent (%s), handed to the outbox", ev.key, ev.peer_id, e.reason)
            await self.host.defer(CHANNEL, ev.key, str(ev.user_id))
        except Exception:
            self.stats.errors += 1
            log.exception("VK event %s: reply to peer %s failed", ev.key, ev.peer_id)
            await self._apologise(ev)

    async def _apologise(self, ev: updates.VKEvent) -> None:
        """The host's apology with the main menu; the bare apology if even that fails."""
        key = f"{ev.key}:sorry"
        sorry = await self.host.apology(CHANNEL, str(ev.user_id))
        try:
            await self.sender.send(ev.peer_id, [sorry], ev.caps, key)
            return
        except PeerUnreachable as e:
            await self.sender.mark_unreachable(ev.peer_id, e.reason)
            return
        except Exception:
            log.exception("VK event %s: the apology with the menu failed", ev.key)
        try:
            await self.sender.send(ev.peer_id, [Reply(sorry.text.split("\n\n")[0])], ev.caps, key + ":plain")
        except Exception:
            log.exception("VK event %s: the plain apology failed too", ev.key)
