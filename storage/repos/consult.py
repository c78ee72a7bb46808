"""Queries of the consultation line: live conversations, staff presence, callback requests."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.consult_models import CallbackRequest, Consultation, StaffPresence
from storage.models import Staff

OPEN_CALLBACKS = ("new", "taken", "not_reached")


async def presence(session: AsyncSession, staff_id: int) -> StaffPresence | None:
    return await session.get(StaffPresence, staff_id)


async def available_staff(session: AsyncSession) -> list[StaffPresence]:
    stmt = (select(StaffPresence).join(Staff, Staff.id == StaffPresence.staff_id)
            .where(StaffPresence.available.is_(True), Staff.active.is_(True)).order_by(StaffPresence.changed_at))
    return list((await session.execute(stmt)).scalars())


async def waiting(session: AsyncSession, limit: int = 20) -> list[Consultation]:
    stmt = (select(Consultation).where(Consultation.kind == "live", Consultation.status == "waiting")
            .order_by(Consultation.started_at, Consultation.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def count_waiting(session: AsyncSession) -> int:
    return await session.scalar(select(func.count(Consultation.id)).where(
        Consultation.kind == "live", Consultation.status == "waiting"))


async def position(session: AsyncSession, consultation: Consultation) -> int:
    """1 for the first in the queue."""
    return await session.scalar(select(func.count(Consultation.id)).where(
        Consultation.kind == "live", Consultation.status == "waiting",
        Consultation.id <= consultation.id))


async def open_live(session: AsyncSession, citizen_id: int) -> Consultation | None:
    stmt = (select(Consultation).where(Consultation.citizen_id == citizen_id, Consultation.kind == "live",
                                       Consultation.status.in_(("waiting", "active")))
            .order_by(Consultation.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def active_of_staff(session: AsyncSession, staff_id: int) -> list[Consultation]:
    stmt = select(Consultation).where(Consultation.kind == "live", Consultation.status == "active",
                                      Consultation.staff_id == staff_id).order_by(Consultation.id)
    return list((await session.execute(stmt)).scalars())


async def idle(session: AsyncSession, before: datetime) -> list[Consultation]:
    stmt = (select(Consultation).where(Consultation.kind == "live", Consultation.status == "active",
                                       Consultation.last_activity_at < before)
            .order_by(Consultation.id).with_for_update(skip_locked=True))
    return list((await session.execute(stmt)).scalars())


async def of_citizen(session: AsyncSession, citizen_id: int, limit: int = 10) -> list[Consultation]:
    stmt = (select(Consultation).where(Consultation.citizen_id == citizen_id)
            .order_by(Consultation.started_at.desc(), Consultation.id.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def callbacks(session: AsyncSession, limit: int = 20) -> list[CallbackRequest]:
    stmt = (select(CallbackRequest).where(CallbackRequest.status.in_(OPEN_CALLBACKS))
            .order_by(CallbackRequest.due_by, CallbackRequest.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def callback_counts(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """(open requests, overdue among them)."""
    open_ = CallbackRequest.status.in_(OPEN_CALLBACKS)
    total = await session.scalar(select(func.count(CallbackRequest.id)).where(open_))
    overdue = await session.scalar(select(func.count(CallbackRequest.id)).where(open_, CallbackRequest.due_by < now))
    return total, overdue
