"""What staff see: who is staff, the queues with counts, letters to post, failed notices."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.appeals import NOT_CONSIDERED, REGISTERED
from services.lifecycle import OPEN
from storage.models import Appeal, OutboxMessage, Staff

SOON_DAYS = 3
QUEUES = ("new", "mine", "overdue", "soon", "flagged")


STAFF_COLUMNS = {"telegram": Staff.telegram_id, "vk": Staff.vk_id}


async def staff_for(session: AsyncSession, channel: str, external_id: str) -> Staff | None:
    column = STAFF_COLUMNS.get(channel)
    if column is None:
        return None
    stmt = select(Staff).where(column == external_id, Staff.active.is_(True))
    return (await session.execute(stmt)).scalar_one_or_none()


def _where(queue: str, staff: Staff, today: date):
    if queue == "new":
        return [Appeal.status == REGISTERED, Appeal.assigned_staff_id.is_(None)]
    if queue == "mine":
        return [Appeal.status.in_(OPEN), Appeal.assigned_staff_id == staff.id]
    if queue == "overdue":
        return [Appeal.status.in_(OPEN), Appeal.deadline < today]
    if queue == "soon":
        return [Appeal.status.in_(OPEN), Appeal.deadline >= today,
                Appeal.deadline <= today + timedelta(days=SOON_DAYS)]
    if queue == "flagged":
        return [Appeal.status == NOT_CONSIDERED, Appeal.abuse_category.is_not(None)]
    raise ValueError(queue)


async def counts(session: AsyncSession, staff: Staff, today: date) -> dict[str, int]:
    out = {}
    for queue in QUEUES:
        out[queue] = await session.scalar(select(func.count(Appeal.id)).where(*_where(queue, staff, today)))
    out["letters"] = await session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "task"))
    out["failed"] = await session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == "dead", OutboxMessage.citizen_id.is_not(None)))
    return out


async def queue(session: AsyncSession, name: str, staff: Staff, today: date, limit: int = 20) -> list[Appeal]:
    stmt = select(Appeal).where(*_where(name, staff, today)).order_by(Appeal.deadline, Appeal.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def letters(session: AsyncSession, limit: int = 10) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.status == "task").order_by(OutboxMessage.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def failed(session: AsyncSession, limit: int = 15) -> list[OutboxMessage]:
    stmt = (select(OutboxMessage).where(OutboxMessage.status == "dead", OutboxMessage.citizen_id.is_not(None))
            .order_by(OutboxMessage.id.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def colleagues(session: AsyncSession, staff: Staff) -> list[Staff]:
    stmt = select(Staff).where(Staff.active.is_(True), Staff.id != staff.id).order_by(Staff.name)
    return list((await session.execute(stmt)).scalars())
