"""Delivers the outbox: claims due rows (safe with several processes), paces them per channel,
retries temporary failures with backoff, and falls back to the next channel on permanent ones."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timedelta

from core import channels
from core.clock import utc_now
from core.events import Reply
from core.ports import Deliverer, RetryLater, Unreachable
from services import notices, outbox
from services.metrics import Metrics
from services.pacing import Limit, Pacer, default_limits
from storage.db import Database
from storage.models import Citizen, OutboxMessage
from storage.repos import outbox as rows

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10  # then the channel counts as failed for good
LEASE = timedelta(seconds=300)  # a claim expires if its process died
HELD_BACK = "waits for an earlier notice to this chat"
HOLD_AT_MOST = 60.0  # seconds: a retry this soon (a 429's retry_after) holds the chat's later notices


def backoff(attempts: int) -> float:
    return min(5.0 * 2 ** (attempts - 1), 1800.0)


class OutboxSender:
    def __init__(self, sessionmaker: Database, deliverers: dict[str, Deliverer], *,
                 limits: dict[str, Limit] | None = None, batch: int = 100, concurrency: int = 30,
                 clock=utc_now, worker: str | None = None, gate: asyncio.Semaphore | None = None,
                 renderer: notices.Renderer | None = None, files=None, pacers: dict | None = None,
                 metrics: Metrics | None = None) -> None:
        self.sessionmaker, self.deliverers = sessionmaker, deliverers
        self.renderer = renderer  # to render a notice again for the channel it falls back to
        self.files = files  # the file store, for the files of relayed messages
        if pacers is None:  # in-process; services.shared_pacing shares them between workers
            pacers = {ch: Pacer(lim) for ch, lim in (default_limits() if limits is None else limits).items()}
        self.pacers = pacers
        self.batch, self.clock = batch, clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._gate = asyncio.Semaphore(concurrency)
        self._db_gate = gate or asyncio.Semaphore(1)  # shared with the channels on SQLite
        self._held: dict[tuple[str, str], datetime] = {}  # chats waiting for a retried notice
        self.metrics = metrics or Metrics()  # /metrics: sent, retried, failed, dropped; 429s

    async def run_once(self) -> int:
        """Claim one batch per channel and deliver it, the channels side by side; the number handled."""
        counts = await asyncio.gather(*(self._round(ch) for ch in self.deliverers))
        return sum(counts)

    async def _round(self, channel: str) -> int:
        rows = await self.claim(channel)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due (tests, benchmarks)."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            total += n
            if n == 0:
                return total
        return total

    async def claim(self, channel: str | None = None, *, batch: int | None = None,
                    exclude: set[int] | frozenset[int] = frozenset()) -> list[OutboxMessage]:
        """Lease due rows of one channel (or of each, in turn) to this sender."""
        now, got = self.clock(), []
        for name in [channel] if channel else list(self.deliverers):
            async with self._db_gate, self.sessionmaker() as session, session.begin():
                got += await rows.claim(session, channel=name, now=now, lease=LEASE, worker=self.worker,
                                        batch=batch or self.batch, exclude=exclude)
        return got

    async def _deliver(self, row: OutboxMessage) -> None:
        if row.expires_at is not None and self.clock() >= row.expires_at:
            await self._record(self._finish, row, outbox.DROPPED, "expired before it could be sent")
            return
        deliverer = self.deliverers[row.channel]
        reply = Reply(row.text, outbox.buttons_of(row), subject=row.subject, files=outbox.files_of(row, self.files))
        pacer = self.pacers.get(row.channel)
        if await self._behind_retry(row):
            return
        if pacer:  # reserved in claim order, so one chat's notices keep their order
            await pacer.wait(row.address)
            if await self._behind_retry(row):
                return
        if row.expires_at is not None and not await self._still_pending(row.id):
            return  # withdrawn after the claim (a cancelled or moved visit): never send it
        async with self._gate:
            try:
                await deliverer.deliver(row.address, reply, row.id)
            except RetryLater as e:
                self.metrics.retry_later(row.channel, e.reason)
                await self._record(self._retry, row, e.reason, e.seconds)
            except Unreachable as e:
                log.warning("outbox %s: %s unreachable: %s", row.id, row.channel, e.reason)
                await self._record(self._failed_for_good, row, e.reason)
            except Exception as e:  # a bug or a network error: retry, never lose the row
                log.exception("outbox %s: delivery error", row.id)
                await self._record(self._retry, row, f"{type(e).__name__}: {e}", None)
            else:
                await self._record(self._finish, row, outbox.SENT, None)

    async def _behind_retry(self, row: OutboxMessage) -> bool:
        """An earlier notice to this chat is waiting for a retry: this one waits behind it."""
        until = self._held.get((row.channel, row.address))
        if until is None or until <= self.clock():
            return False
        await self._record(lambda session, r: rows.retry_at(session, r.id, r.attempts, until, HELD_BACK), row)
        return True

    async def _still_pending(self, row_id: int) -> bool:
        async with self._db_gate, self.sessionmaker() as session:
            return await rows.status_of(session, row_id) == outbox.PENDING

    async def _record(self, fn, *args) -> None:
        """Each outcome in its own transaction right after its send, so a crash can repeat
        only the messages in flight at that moment (VK drops even those by random_id)."""
        async with self._db_gate, self.sessionmaker() as session, session.begin():
            await fn(session, *args)

    async def _finish(self, session, row: OutboxMessage, status: str, error: str | None) -> None:
        await rows.finish(session, row.id, status, self.clock(), error)
        self.metrics.delivered(row.channel, status)  # sent | dropped

    async def _retry(self, session, row: OutboxMessage, reason: str, seconds: float | None) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self._failed_for_good(session, row, f"gave up after {attempts} attempts: {reason}")
            return
        delay = seconds if seconds is not None else backoff(attempts)
        when = self.clock() + timedelta(seconds=delay)
        await rows.retry_at(session, row.id, attempts, when, reason)
        self.metrics.delivered(row.channel, "retried")
        if delay > HOLD_AT_MOST:  # a notice that keeps failing never holds its chat's others for long
            return
        # the chat's later notices wait behind this one, in this sender and in the table
        if len(self._held) > 10000:
            self._held = {k: t for k, t in self._held.items() if t > self.clock()}
        self._held[(row.channel, row.address)] = when
        await rows.hold_chat(session, row.channel, row.address, after=row.id, until=when)

    async def _failed_for_good(self, session, row: OutboxMessage, reason: str) -> None:
        """Mark the row dead, the address unreachable, and send the notice by the next channel."""
        await rows.mark_dead(session, row.id, reason)
        self.metrics.delivered(row.channel, "failed")
        if channels.is_messenger(row.channel):
            await rows.set_reachable(session, row.channel, row.address, False, reason)
        citizen = await session.get(Citizen, row.citizen_id) if row.citizen_id else None
        if citizen is None:
            return
        used = await rows.targets_of(session, row.notice)
        final = notices.KINDS.get(row.kind, notices.KINDS["appeal.registered"]).final
        nxt = await outbox.fallback_target(session, citizen, exclude=used, final=final)
        if nxt is None:
            log.warning("outbox %s: no other channel for citizen %s", row.id, row.citizen_id)
            return
        if row.params is not None and row.kind in notices.KINDS and self.renderer is not None:
            notices.add(session, self.renderer, row.kind, targets=[nxt], params=row.params,
                        citizen_id=row.citizen_id, appeal_id=row.appeal_id, not_before=self.clock(),
                        expires_at=row.expires_at, notice=row.notice)
        else:  # no parameters to render it again: the same text
            session.add(OutboxMessage(
                citizen_id=row.citizen_id, appeal_id=row.appeal_id, notice=row.notice, kind=row.kind,
                lane=row.lane, params=row.params, channel=nxt[0], address=nxt[1], subject=row.subject,
                text=row.text, buttons=row.buttons if nxt[0] != "post" else [],
                status=outbox.TASK if nxt[0] == "post" else outbox.PENDING, not_before=self.clock(),
                expires_at=row.expires_at))

    async def run_forever(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """One pipeline per channel until `stop`: a slow channel (SMTP) never holds another."""
        await asyncio.gather(*(self._pipeline(ch, stop, idle) for ch in self.deliverers))

    async def _pipeline(self, channel: str, stop: asyncio.Event, idle: float) -> None:
        """Keep up to `batch` rows in hand and claim more as they go, so a chat whose notices
        wait out its per-chat interval never holds the others (no batch waits for its slowest)."""
        in_hand: dict[int, asyncio.Task] = {}
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                got = []
                if len(in_hand) <= self.batch // 2:
                    try:
                        got = await self.claim(channel, batch=self.batch - len(in_hand), exclude=set(in_hand))
                    except Exception:
                        log.exception("outbox %s: claim failed", channel)
                for row in got:  # started in claim order: the pacer keeps one chat's order
                    task = in_hand[row.id] = asyncio.create_task(self._deliver(row))
                    task.add_done_callback(lambda _t, key=row.id: in_hand.pop(key, None))
                if got and len(in_hand) <= self.batch // 2:
                    continue  # more may be due at once
                await asyncio.wait([stopping, *in_hand.values()], timeout=idle,
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if in_hand:  # what is in hand finishes; a row cut off stays leased and goes later
                _, late = await asyncio.wait(list(in_hand.values()), timeout=10.0)
                for task in late:
                    task.cancel()
