"""Queries behind the gauges of /metrics: counts only, never a person's data."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, OutboxMessage, UTCDateTime
from storage.consult_models import Consultation
from storage.repos.outbox import PENDING
from storage.repos.staff import OPEN


async def outbox_depth(session: AsyncSession, now: datetime) -> list[tuple[str, int, int, datetime | None]]:
    """(channel, lane, pending rows, the earliest `not_before` among those due) in one query."""
    due = case((OutboxMessage.not_before <= now, OutboxMessage.not_before))
    stmt = (select(OutboxMessage.channel, OutboxMessage.lane, func.count(),
                   func.min(due, type_=UTCDateTime()))
            .where(OutboxMessage.status == PENDING).group_by(OutboxMessage.channel, OutboxMessage.lane))
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def open_consultations(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(channel, waiting | active, count) of live consultations not ended."""
    stmt = (select(Consultation.channel, Consultation.status, func.count())
            .where(Consultation.kind == "live", Consultation.status.in_(("waiting", "active")))
            .group_by(Consultation.channel, Consultation.status))
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def overdue_appeals(session: AsyncSession, today: date) -> int:
    """Open appeals whose deadline has passed (the staff's «overdue» queue, the deadlines report)."""
    return await session.scalar(select(func.count(Appeal.id)).where(Appeal.status.in_(OPEN), Appeal.deadline < today))
