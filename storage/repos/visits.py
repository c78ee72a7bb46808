"""Queries for reception slots and visits (R-6.x)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Citizen, Visit, VisitSlot
from storage.upsert import insert_ignore

OPEN, CANCELLED, BOOKED, ATTENDED = "open", "cancelled", "booked", "attended"


def _free(stmt):
    held = exists().where(Visit.slot_id == VisitSlot.id, Visit.status != CANCELLED)
    return stmt.where(VisitSlot.status == OPEN, ~held)


async def slot_times(session: AsyncSession, desk: str, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    rows = await session.execute(select(VisitSlot.starts_at, VisitSlot.ends_at)
                                 .where(VisitSlot.desk == desk, VisitSlot.starts_at >= lo, VisitSlot.starts_at < hi))
    return [tuple(r) for r in rows.all()]


async def add_slot(session: AsyncSession, **values) -> bool:
    return await insert_ignore(session, VisitSlot, **values)


async def list_slots(session: AsyncSession, start: datetime, end: datetime,
                     desk: str | None = None) -> list[tuple[VisitSlot, Visit | None]]:
    stmt = (select(VisitSlot, Visit)
            .outerjoin(Visit, (Visit.slot_id == VisitSlot.id) & (Visit.status != CANCELLED))
            .where(VisitSlot.starts_at >= start, VisitSlot.starts_at < end)
            .order_by(VisitSlot.starts_at, VisitSlot.desk))
    if desk:
        stmt = stmt.where(VisitSlot.desk == desk)
    return [(slot, visit) for slot, visit in (await session.execute(stmt)).all()]


async def open_slots_locked(session: AsyncSession, lo: datetime, hi: datetime, desk: str | None) -> list[VisitSlot]:
    stmt = select(VisitSlot).where(VisitSlot.starts_at >= lo, VisitSlot.starts_at < hi, VisitSlot.status == OPEN)
    if desk:
        stmt = stmt.where(VisitSlot.desk == desk)
    return list((await session.scalars(stmt.order_by(VisitSlot.id).with_for_update())).all())


async def reopen(session: AsyncSession, lo: datetime, hi: datetime, desk: str | None) -> int:
    cond = [VisitSlot.starts_at >= lo, VisitSlot.starts_at < hi, VisitSlot.status == "closed"]
    if desk:
        cond.append(VisitSlot.desk == desk)
    done = await session.execute(update(VisitSlot).where(*cond).values(status=OPEN))
    return done.rowcount or 0


async def booked_on_locked(session: AsyncSession, slot_ids: list[int], after: datetime) -> list[Visit]:
    if not slot_ids:
        return []
    stmt = (select(Visit).where(Visit.slot_id.in_(slot_ids), Visit.status == BOOKED, Visit.starts_at > after)
            .order_by(Visit.id).with_for_update())
    return list((await session.scalars(stmt)).all())


async def free_starts(session: AsyncSession, lo: datetime, hi: datetime) -> list[datetime]:
    stmt = _free(select(VisitSlot.starts_at).where(VisitSlot.starts_at >= lo, VisitSlot.starts_at < hi)).distinct()
    return sorted(set((await session.scalars(stmt)).all()))


async def free_slots_at(session: AsyncSession, start: datetime) -> list[VisitSlot]:
    """Free open slots starting at `start`, locked on PostgreSQL so closing a day waits for us."""
    stmt = _free(select(VisitSlot).where(VisitSlot.starts_at == start)).order_by(VisitSlot.id).with_for_update()
    return list((await session.scalars(stmt)).all())


async def future_visits(session: AsyncSession, citizen_id: int, now: datetime) -> list[Visit]:
    stmt = (select(Visit).where(Visit.citizen_id == citizen_id, Visit.status == BOOKED, Visit.starts_at > now)
            .order_by(Visit.starts_at))
    return list((await session.scalars(stmt)).all())


async def owned(session: AsyncSession, citizen_id: int, visit_id: int) -> Visit | None:
    return await session.scalar(select(Visit).where(Visit.id == visit_id, Visit.citizen_id == citizen_id))


async def lock_citizen(session: AsyncSession, citizen_id: int) -> None:
    """One booking at a time per citizen (PostgreSQL), so limits hold under double presses."""
    await session.execute(select(Citizen.id).where(Citizen.id == citizen_id).with_for_update())


async def try_add(session: AsyncSession, visit: Visit) -> bool:
    """False when the unique index refuses it: another session took the slot a moment ago."""
    try:
        async with session.begin_nested():
            session.add(visit)
    except IntegrityError:
        return False
    return True


async def try_move(session: AsyncSession, visit: Visit, slot: VisitSlot) -> bool:
    try:
        async with session.begin_nested():
            await session.execute(
                update(Visit).where(Visit.id == visit.id)
                .values(slot_id=slot.id, starts_at=slot.starts_at, ends_at=slot.ends_at, revision=Visit.revision + 1)
                .execution_options(synchronize_session=False))
    except IntegrityError:
        return False
    await session.refresh(visit)
    return True


async def between(session: AsyncSession, lo: datetime, hi: datetime) -> list[Visit]:
    """Visits that are not cancelled, by time, with their slot (desk) loaded."""
    stmt = (select(Visit).options(selectinload(Visit.slot))
            .where(Visit.starts_at >= lo, Visit.starts_at < hi, Visit.status != CANCELLED)
            .order_by(Visit.starts_at, Visit.id))
    return list((await session.scalars(stmt)).all())


async def ended_unasked(session: AsyncSession, ended_before: datetime, ended_after: datetime, batch: int) -> list[Visit]:
    stmt = (select(Visit).where(Visit.status.in_((BOOKED, ATTENDED)), Visit.rating_notice.is_(None),
                                Visit.ends_at <= ended_before, Visit.ends_at > ended_after)
            .order_by(Visit.ends_at, Visit.id).limit(batch))
    return list((await session.scalars(stmt)).all())


async def claim_rating(session: AsyncSession, visit_id: int, notice: str) -> bool:
    claimed = await session.execute(
        update(Visit).where(Visit.id == visit_id, Visit.rating_notice.is_(None))
        .values(rating_notice=notice).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


async def save_rating(session: AsyncSession, citizen_id: int, visit_id: int, score: int, now: datetime) -> bool:
    done = await session.execute(
        update(Visit).where(Visit.id == visit_id, Visit.citizen_id == citizen_id, Visit.rating.is_(None),
                            Visit.status.in_((BOOKED, ATTENDED)), Visit.ends_at <= now)
        .values(rating=score, rated_at=now).execution_options(synchronize_session=False))
    return done.rowcount == 1
