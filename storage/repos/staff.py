"""Queries for staff members, their channel identities and the staff queues."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, Staff, StaffIdentity

REGISTERED, IN_WORK, CLARIFICATION = "registered", "in_work", "clarification"
OPEN = (REGISTERED, IN_WORK, CLARIFICATION)
SOON_DAYS = 3
REDIRECT_SOON_DAYS = 2


async def by_identity(session: AsyncSession, channel: str, user_id: str) -> Staff | None:
    stmt = (select(Staff).join(StaffIdentity, StaffIdentity.staff_id == Staff.id)
            .where(StaffIdentity.channel == channel, StaffIdentity.user_id == user_id, Staff.active.is_(True)))
    return (await session.execute(stmt)).scalar_one_or_none()


async def active(session: AsyncSession) -> list[Staff]:
    return list((await session.execute(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id))).scalars())


async def colleagues(session: AsyncSession, staff: Staff) -> list[Staff]:
    stmt = select(Staff).where(Staff.active.is_(True), Staff.id != staff.id).order_by(Staff.name)
    return list((await session.execute(stmt)).scalars())


def _where(queue: str, staff: Staff, today: date):
    if queue == "new":
        return [Appeal.status == REGISTERED, Appeal.assigned_staff_id.is_(None)]
    if queue == "mine":
        return [Appeal.status.in_(OPEN), Appeal.assigned_staff_id == staff.id]
    if queue == "overdue":
        return [Appeal.status.in_(OPEN), Appeal.deadline < today]
    if queue == "soon":
        return [Appeal.status.in_(OPEN), Appeal.deadline >= today, Appeal.deadline <= today + timedelta(days=SOON_DAYS)]
    if queue == "flagged":  # the abuse screen only flags: an official decides (59-FZ art. 11 p. 3)
        return [Appeal.status.in_(OPEN), Appeal.screen_state == "flagged"]
    if queue == "redirect":  # 59-FZ art. 8 p. 3: the 7 days for a redirect run out soon
        return [Appeal.status.in_((REGISTERED, IN_WORK)), Appeal.redirect_by >= today,
                Appeal.redirect_by <= today + timedelta(days=REDIRECT_SOON_DAYS),
                (Appeal.assigned_staff_id == staff.id) | Appeal.assigned_staff_id.is_(None)]
    raise ValueError(queue)


async def queue_count(session: AsyncSession, queue: str, staff: Staff, today: date) -> int:
    return await session.scalar(select(func.count(Appeal.id)).where(*_where(queue, staff, today)))


async def queue(session: AsyncSession, queue: str, staff: Staff, today: date, limit: int = 20) -> list[Appeal]:
    stmt = select(Appeal).where(*_where(queue, staff, today)).order_by(Appeal.deadline, Appeal.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


# --- the admin CLI ---------------------------------------------------------------------------

async def everyone(session: AsyncSession) -> list[Staff]:
    return list((await session.execute(select(Staff).order_by(Staff.id))).scalars())


async def holders(session: AsyncSession, pairs: list[tuple[str, str]]) -> list[StaffIdentity]:
    """Identities already taken by (channel, user id)."""
    found = []
    for channel, user_id in pairs:
        row = (await session.execute(select(StaffIdentity).where(
            StaffIdentity.channel == channel, StaffIdentity.user_id == user_id))).scalar_one_or_none()
        if row is not None:
            found.append(row)
    return found
