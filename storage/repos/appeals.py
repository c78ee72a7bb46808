"""Queries for appeals: numbers, ownership, locks, files."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Appeal, AppealCounter, AppealEvent, StoredFile
from storage.upsert import insert_for


async def next_seq(session: AsyncSession, year: int) -> int:
    """Sequential per year, never reused: one statement creates or bumps the year's counter,
    and its row stays locked until the transaction ends."""
    insert = insert_for(session)(AppealCounter).values(year=year, last=1)
    return (await session.execute(insert.on_conflict_do_update(
        index_elements=[AppealCounter.year], set_={"last": AppealCounter.last + 1})
        .returning(AppealCounter.last))).scalar_one()


async def attach_files(session: AsyncSession, file_ids: list[int], citizen_id: int, appeal_id: int,
                       *, only_loose: bool = True) -> None:
    """The citizen's own files join the appeal (never another person's)."""
    if not file_ids:
        return
    cond = [StoredFile.id.in_(file_ids), StoredFile.citizen_id == citizen_id]
    if only_loose:
        cond.append(StoredFile.appeal_id.is_(None))
    await session.execute(update(StoredFile).where(*cond).values(appeal_id=appeal_id))


class Listed(NamedTuple):
    """An appeal as «Мои обращения» lists it."""
    id: int
    number: str
    status: str


LISTED = 20  # the newest appeals listed


async def listed(session: AsyncSession, citizen_id: int) -> list[Listed]:
    """The citizen's newest appeals, newest first (the hot path reads the same: storage/hot.py
    `list_query`)."""
    stmt = (select(Appeal.id, Appeal.number, Appeal.status).where(Appeal.citizen_id == citizen_id)
            .order_by(Appeal.registered_at.desc(), Appeal.id.desc()).limit(LISTED))
    return [Listed(*row) for row in (await session.execute(stmt)).all()]


async def of_citizen(session: AsyncSession, citizen_id: int, limit: int = 20) -> list[Appeal]:
    stmt = (select(Appeal).where(Appeal.citizen_id == citizen_id)
            .order_by(Appeal.registered_at.desc(), Appeal.id.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def owned(session: AsyncSession, citizen_id: int, *, appeal_id: int | None = None,
                number: str | None = None) -> Appeal | None:
    """An appeal with its history and files, only if it belongs to this citizen."""
    stmt = select(Appeal).where(Appeal.citizen_id == citizen_id).options(
        selectinload(Appeal.events), selectinload(Appeal.files))
    if appeal_id is not None:
        stmt = stmt.where(Appeal.id == appeal_id)
    elif number is not None:
        stmt = stmt.where(Appeal.number == number.strip().upper())
    else:
        return None
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_notify_open(session: AsyncSession, citizen_id: int, channel: str | None, open_statuses) -> None:
    """The citizen changed where notices go: their appeals under consideration follow."""
    await session.execute(update(Appeal).where(Appeal.citizen_id == citizen_id, Appeal.status.in_(open_statuses))
                          .values(notify_channel=channel))


async def locked(session: AsyncSession, appeal_id: int) -> Appeal | None:
    return (await session.execute(select(Appeal).where(Appeal.id == appeal_id).with_for_update())).scalar_one_or_none()


async def full(session: AsyncSession, appeal_id: int) -> Appeal | None:
    """For the staff card: history, files and citizen loaded."""
    stmt = select(Appeal).where(Appeal.id == appeal_id).options(
        selectinload(Appeal.events), selectinload(Appeal.files), selectinload(Appeal.citizen))
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_events(session: AsyncSession, appeal_id: int, action: str) -> int:
    return await session.scalar(select(func.count(AppealEvent.id)).where(
        AppealEvent.appeal_id == appeal_id, AppealEvent.action == action))


async def registered_since(session: AsyncSession, citizen_id: int, since: datetime) -> list[datetime]:
    """When this citizen's appeals were registered after `since`, oldest first."""
    found = await session.execute(select(Appeal.registered_at).where(
        Appeal.citizen_id == citizen_id, Appeal.registered_at > since).order_by(Appeal.registered_at))
    return list(found.scalars())
