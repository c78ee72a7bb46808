"""Queries for ratings."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Rating


async def for_appeal(session: AsyncSession, appeal_id: int, channel: str) -> Rating | None:
    stmt = select(Rating).where(Rating.appeal_id == appeal_id, Rating.channel == channel)
    return (await session.execute(stmt)).scalar_one_or_none()
