"""Delivers the outbox: claims due rows (safe with several processes), paces them per channel,
retries temporary failures with backoff, and falls back to the next channel on permanent ones."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.pacing import DEFAULT_LIMITS, Limit, Pacer
from services import outbox
from core.ports import Deliverer, RetryLater, Unreachable
from dialogs.context import utc_now
from core.events import Reply
from storage.models import Citizen, Identity, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10  # then the channel counts as failed for good
LEASE = timedelta(seconds=300)  # a claim expires if its process died


def backoff(attempts: int) -> float:
    return min(5.0 * 2 ** (attempts - 1), 1800.0)


class OutboxSender:
    def __init__(self, sessionmaker: async_sessionmaker, deliverers: dict[str, Deliverer], *,
                 limits: dict[str, Limit] | None = None, batch: int = 100, concurrency: int = 30,
                 clock=utc_now, worker: str | None = None, gate: asyncio.Semaphore | None = None) -> None:
        self.sessionmaker, self.deliverers = sessionmaker, deliverers
        self.pacers = {ch: Pacer(lim) for ch, lim in (DEFAULT_LIMITS if limits is None else limits).items()}
        self.batch, self.clock = batch, clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._gate = asyncio.Semaphore(concurrency)
        self._outcomes: list = []
        self._write_lock = asyncio.Lock()
        self._db_gate = gate or asyncio.Semaphore(1)  # shared with the channels on SQLite

    async def run_once(self) -> int:
        """Claim and deliver one batch of due messages; the number handled."""
        rows = await self.claim()
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

    async def claim(self) -> list[OutboxMessage]:
        now = self.clock()
        channels = list(self.deliverers)
        async with self._db_gate, self.sessionmaker() as session, session.begin():
            due = (
                select(OutboxMessage.id)
                .where(OutboxMessage.status == outbox.PENDING, OutboxMessage.not_before <= now,
                       OutboxMessage.channel.in_(channels),
                       or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .order_by(OutboxMessage.not_before, OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            ids = list((await session.execute(due)).scalars())
            if not ids:
                return []
            free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
            await session.execute(  # conditional, so two claimers never share a row
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == outbox.PENDING, free)
                .values(claimed_by=self.worker, claimed_until=now + LEASE)
            )
            rows = (await session.execute(
                select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == self.worker)
                .order_by(OutboxMessage.not_before, OutboxMessage.id)
            )).scalars().all()
            return list(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        if row.expires_at is not None and self.clock() >= row.expires_at:
            await self._record(self._finish, row, outbox.DROPPED, "expired before it could be sent")
            return
        deliverer = self.deliverers[row.channel]
        reply = Reply(row.text, outbox.buttons_of(row), subject=row.subject)
        pacer = self.pacers.get(row.channel)
        if pacer:  # reserved in claim order, so one chat's notices keep their order
            await pacer.wait(row.address)
        if row.expires_at is not None and not await self._still_pending(row.id):
            return  # withdrawn after the claim (a cancelled or moved visit): never send it
        async with self._gate:
            try:
                await deliverer.deliver(row.address, reply, row.id)
            except RetryLater as e:
                await self._record(self._retry, row, e.reason, e.seconds)
            except Unreachable as e:
                log.warning("outbox %s: %s unreachable: %s", row.id, row.channel, e.reason)
                await self._record(self._failed_for_good, row, e.reason)
            except Exception as e:  # a bug or a network error: retry, never lose the row
                log.exception("outbox %s: delivery error", row.id)
                await self._record(self._retry, row, f"{type(e).__name__}: {e}", None)
            else:
                await self._record(self._finish, row, outbox.SENT, None)

    async def _still_pending(self, row_id: int) -> bool:
        async with self._db_gate, self.sessionmaker() as session:
            status = await session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row_id))
        return status == outbox.PENDING

    async def _record(self, fn, *args) -> None:
        """Group commit: outcomes that arrive while a write is under way go in the next one,
        so a busy batch costs a few transactions, not one per message."""
        self._outcomes.append((fn, args))
        async with self._write_lock:
            if not self._outcomes:
                return  # written by the caller before us
            todo, self._outcomes = self._outcomes, []
            async with self._db_gate, self.sessionmaker() as session, session.begin():
                for f, a in todo:
                    await f(session, *a)

    async def _finish(self, session, row: OutboxMessage, status: str, error: str | None) -> None:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id)
            .values(status=status, sent_at=self.clock() if status == outbox.SENT else None,
                    attempts=OutboxMessage.attempts + 1, claimed_until=None, last_error=error)
        )

    async def _retry(self, session, row: OutboxMessage, reason: str, seconds: float | None) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self._failed_for_good(session, row, f"gave up after {attempts} attempts: {reason}")
            return
        delay = seconds if seconds is not None else backoff(attempts)
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id)
            .values(attempts=attempts, not_before=self.clock() + timedelta(seconds=delay),
                    claimed_until=None, claimed_by=None, last_error=reason[:500])
        )

    async def _failed_for_good(self, session, row: OutboxMessage, reason: str) -> None:
        """Mark the row dead, the address unreachable, and send the notice by the next channel."""
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id)
            .values(status=outbox.DEAD, attempts=OutboxMessage.attempts + 1, claimed_until=None,
                    last_error=reason[:500])
        )
        if row.channel in outbox.MESSENGER_CHANNELS:
            await session.execute(
                update(Identity).where(and_(Identity.channel == row.channel, Identity.external_id == row.address))
                .values(reachable=False, unreachable_reason=reason[:200])
            )
        citizen = await session.get(Citizen, row.citizen_id) if row.citizen_id else None
        if citizen is None:
            return
        used = (await session.execute(
            select(OutboxMessage.channel, OutboxMessage.address).where(OutboxMessage.notice == row.notice)
        )).all()
        nxt = await outbox.fallback_target(session, citizen, exclude=[tuple(u) for u in used],
                                           final=row.kind == outbox.FINAL_KIND)
        if nxt is None:
            log.warning("outbox %s: no other channel for citizen %s", row.id, row.citizen_id)
            return
        await outbox.enqueue(
            session, citizen_id=row.citizen_id, kind=row.kind, targets=[nxt], text=row.text,
            subject=row.subject, buttons=outbox.buttons_of(row), appeal_id=row.appeal_id,
            not_before=self.clock(), expires_at=row.expires_at, notice=row.notice,
        )

    async def run_forever(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("outbox sender round failed")
                busy = 0
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), idle)
                except asyncio.TimeoutError:
                    pass


