"""One VK event through the engine: parse, answer a callback press, download files, call
`engine.handle` with the event id as update key (a repeat returns None), send the replies.
A failure never drops an event silently: it is logged with the event id and the citizen gets
an apology and the main menu."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from channels.vk import files as vk_files
from channels.vk import updates
from channels.vk.reach import set_reachable
from channels.vk.sender import PeerUnreachable, Sender, TemporaryFailure
import texts as T
from core.events import Channel, Inbound, Reply

log = logging.getLogger(__name__)


@dataclass
class Stats:
    received: int = 0  # events accepted for handling
    handled: int = 0  # events finished (including repeats and errors)
    repeats: int = 0  # dropped as already handled
    errors: int = 0


def engine_slots(app) -> int:
    """How many engine calls may run at once. SQLite has one writer and every engine call writes:
    callers queued here wait in order, instead of in SQLite's busy handler, which sleeps in
    growing steps (p99 of seconds under load)."""
    return 1 if app.db.dialect.name == "sqlite" else 32


class EventHandler:
    def __init__(self, app, sender: Sender, stats: Stats | None = None,
                 db_gate: asyncio.Semaphore | None = None) -> None:
        self.app = app
        self.sender = sender
        self.stats = stats or Stats()
        self._engine_gate = db_gate or asyncio.Semaphore(engine_slots(app))

    async def _engine(self, inbound: Inbound, key: str | None) -> list[Reply] | None:
        async with self._engine_gate:
            return await self.app.engine.handle(inbound, update_key=key)

    async def __call__(self, raw: dict) -> None:
        try:
            await self._handle(raw)
        finally:
            self.stats.handled += 1

    async def _handle(self, raw: dict) -> None:
        ev = updates.parse(raw)
        if ev is None:
            return
        if ev.kind in ("allow", "deny"):
            await set_reachable(self.app.sessionmaker, ev.user_id, ev.kind == "allow",
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
                got = await vk_files.fetch_all(self.sender.api.http_client, ev.files, self.app.settings.max_file_bytes)
                inbound = dataclasses.replace(inbound, attachments=got)
            replies = await self._engine(inbound, ev.key)
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
        except TemporaryFailure as e:
            self.stats.errors += 1
            log.error("VK event %s: reply to peer %s not sent: %s", ev.key, ev.peer_id, e.reason)
        except Exception:
            self.stats.errors += 1
            log.exception("VK event %s: reply to peer %s failed", ev.key, ev.peer_id)
            await self._apologise(ev)

    async def _apologise(self, ev: updates.VKEvent) -> None:
        """T.SORRY_ERROR with the main menu; without the menu if even that fails."""
        key = f"{ev.key}:sorry"
        try:
            menu = await self._engine(Inbound(Channel.VK, str(ev.user_id), command="menu"), None)
            last = menu[-1]
            sorry = Reply(f"{T.SORRY_ERROR}\n\n{last.text}", last.buttons)
            await self.sender.send(ev.peer_id, [sorry], ev.caps, key)
            return
        except PeerUnreachable as e:
            await self.sender.mark_unreachable(ev.peer_id, e.reason)
            return
        except Exception:
            log.exception("VK event %s: the apology with the menu failed", ev.key)
        try:
            await self.sender.send(ev.peer_id, [Reply(T.SORRY_ERROR)], ev.caps, key + ":plain")
        except Exception:
            log.exception("VK event %s: the plain apology failed too", ev.key)
