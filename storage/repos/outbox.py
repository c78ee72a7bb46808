"""Queries for the outbox: claims with leases, outcomes, withdrawals, staff lists."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.locks import lock_key
from storage.models import Appeal, Identity, OutboxMessage
from storage.repos.people import touch_dialogs

PENDING, SENT, DEAD, TASK, CANCELLED = "pending", "sent", "dead", "task", "cancelled"


async def reachable_identity(session: AsyncSession, citizen_id: int, channel: str) -> Identity | None:
    stmt = select(Identity).where(Identity.citizen_id == citizen_id, Identity.channel == channel,
                                  Identity.reachable.is_(True)).order_by(Identity.id.desc())
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def withdraw(session: AsyncSession, notice: str) -> None:
    """Withdraw the not yet sent rows of a notice (a cancelled visit's reminder)."""
    await session.execute(update(OutboxMessage).where(OutboxMessage.notice == notice,
                                                      OutboxMessage.status == PENDING).values(status=CANCELLED))


async def claim(session: AsyncSession, *, channel: str, now: datetime, lease: timedelta, worker: str,
                batch: int, exclude: set[int] | frozenset[int] = frozenset()) -> list[OutboxMessage]:
    """Due rows of one channel, lowest lane first, leased to `worker`. A chat whose rows another
    sender holds is left to it, so one chat's notices go out from one sender at a time, in
    order. Claimers of one channel take turns (a transaction lock on PostgreSQL, the one writer
    on SQLite), and the lease is a conditional update: two claimers never share a row."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(f"outbox-claim:{channel}")})
    due = claim_statement(channel, now, batch)
    if exclude:  # rows this sender still has in hand (a lease that ran out mid-send)
        due = due.where(OutboxMessage.id.not_in(exclude))
    candidates = (await session.execute(due)).all()
    if not candidates:
        return []
    held = set((await session.execute(
        select(OutboxMessage.address).distinct()
        .where(OutboxMessage.channel == channel, OutboxMessage.status == PENDING,
               OutboxMessage.address.in_({a for _, a in candidates}),
               OutboxMessage.claimed_until >= now, OutboxMessage.claimed_by != worker))).scalars())
    ids = [i for i, address in candidates if address not in held]
    if not ids:
        return []
    stmt = (update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING, _free(now))
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False))
    got = list((await session.execute(stmt)).scalars())
    return sorted(got, key=lambda r: (r.lane, r.not_before, r.id))


def _free(now: datetime):
    return or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)


def claim_statement(channel: str, now: datetime, batch: int):
    """The claim's SELECT of candidates: one range of the partial index ix_outbox_claim
    (EXPLAIN-checked in tests/storage/test_outbox_plan.py and bench/bench_outbox.py --claim)."""
    return (select(OutboxMessage.id, OutboxMessage.address)
            .where(OutboxMessage.channel == channel, OutboxMessage.status == PENDING,
                   OutboxMessage.not_before <= now, _free(now))
            .order_by(OutboxMessage.lane, OutboxMessage.not_before, OutboxMessage.id)
            .limit(batch).with_for_update(skip_locked=True))


async def status_of(session: AsyncSession, row_id: int) -> str | None:
    return await session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row_id))


async def finish(session: AsyncSession, row_id: int, status: str, at: datetime, error: str | None) -> None:
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
        status=status, sent_at=at if status == SENT else None, attempts=OutboxMessage.attempts + 1,
        claimed_until=None, last_error=error))


async def retry_at(session: AsyncSession, row_id: int, attempts: int, when: datetime, reason: str) -> None:
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
        attempts=attempts, not_before=when, claimed_until=None, claimed_by=None, last_error=reason[:500]))


async def hold_chat(session: AsyncSession, channel: str, address: str, *, after: int, until: datetime) -> None:
    """The chat's pending notices after `after` wait until `until` too (their order kept)."""
    await session.execute(update(OutboxMessage).where(
        OutboxMessage.channel == channel, OutboxMessage.address == address, OutboxMessage.status == PENDING,
        OutboxMessage.id > after, OutboxMessage.not_before < until).values(not_before=until))


async def mark_dead(session: AsyncSession, row_id: int, reason: str) -> None:
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
        status=DEAD, attempts=OutboxMessage.attempts + 1, claimed_until=None, last_error=reason[:500]))


async def set_reachable(session: AsyncSession, channel: str, user_id: str, reachable: bool,
                        reason: str | None) -> bool:
    """True when a row changed."""
    result = await session.execute(
        update(Identity).where(and_(Identity.channel == channel, Identity.external_id == user_id,
                                    Identity.reachable == (not reachable)))
        .values(reachable=reachable, unreachable_reason=None if reachable else (reason or "")[:200]))
    if result.rowcount and not reachable:  # their next message must mark them reachable again
        await touch_dialogs(session, [(channel, user_id)])
    return result.rowcount > 0


async def targets_of(session: AsyncSession, notice: str) -> list[tuple[str, str]]:
    rows = await session.execute(select(OutboxMessage.channel, OutboxMessage.address)
                                 .where(OutboxMessage.notice == notice))
    return [tuple(r) for r in rows.all()]


def _failed():
    return and_(OutboxMessage.status == DEAD, OutboxMessage.citizen_id.is_not(None))


async def count_letters(session: AsyncSession) -> int:
    return await session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == TASK))


async def count_failed(session: AsyncSession) -> int:
    return await session.scalar(select(func.count(OutboxMessage.id)).where(_failed()))


async def letters(session: AsyncSession, limit: int = 10) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.status == TASK).order_by(OutboxMessage.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def failed(session: AsyncSession, limit: int = 15) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(_failed()).order_by(OutboxMessage.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def failed_for_appeal(session: AsyncSession, appeal_id: int) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.appeal_id == appeal_id, OutboxMessage.status == DEAD)
    return list((await session.execute(stmt)).scalars())


async def mark_posted(session: AsyncSession, ids: list[int], at: datetime, staff_id: int) -> None:
    await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == TASK)
                          .values(status=SENT, sent_at=at, last_error=f"posted by staff #{staff_id}"))


async def appeal_numbers(session: AsyncSession, appeal_ids: list[int]) -> dict[int, str]:
    found = await session.execute(select(Appeal.id, Appeal.number).where(Appeal.id.in_(appeal_ids)))
    return dict(found.all())


async def unsent_for(session: AsyncSession, channel: str, address: str, lane: int, kinds: tuple[str, ...],
                     now: datetime) -> OutboxMessage | None:
    """The newest row of these kinds still waiting for this address and not claimed by a sender
    (locked, SKIP LOCKED on PostgreSQL: a row a sender holds is left alone)."""
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    stmt = (select(OutboxMessage).where(OutboxMessage.channel == channel, OutboxMessage.address == address,
                                        OutboxMessage.status == PENDING, OutboxMessage.lane == lane,
                                        OutboxMessage.kind.in_(kinds), free)
            .order_by(OutboxMessage.id.desc()).limit(1).with_for_update(skip_locked=True))
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_due(session: AsyncSession, channel: str, address: str, lane: int, kinds: tuple[str, ...],
                   since: datetime) -> datetime | None:
    """When the latest row of these kinds for this address was due (sent or not), if after `since`."""
    return await session.scalar(select(func.max(OutboxMessage.not_before)).where(
        OutboxMessage.status.in_((PENDING, SENT)), OutboxMessage.lane == lane, OutboxMessage.not_before > since,
        OutboxMessage.channel == channel, OutboxMessage.address == address, OutboxMessage.kind.in_(kinds)))


async def regroup(session: AsyncSession, row: OutboxMessage, now: datetime, **values) -> bool:
    """Rewrite a waiting row (a grouped notice); False if a sender claimed it meanwhile."""
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    done = await session.execute(update(OutboxMessage).where(
        OutboxMessage.id == row.id, OutboxMessage.status == PENDING, free).values(**values)
        .execution_options(synchronize_session=False))
    return (done.rowcount or 0) > 0
