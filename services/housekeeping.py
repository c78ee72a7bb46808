"""Periodic clean-up: forget old platform update ids (redeliveries come within minutes)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from dialogs.context import utc_now
from storage.models import LinkCode, ProcessedUpdate

KEEP_UPDATES = timedelta(days=7)


async def forget_old(sessionmaker: async_sessionmaker, now=None) -> int:
    now = now or utc_now()
    async with sessionmaker() as session, session.begin():
        done = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_UPDATES))
        await session.execute(delete(LinkCode).where(LinkCode.expires_at < now - timedelta(days=1)))
    return done.rowcount or 0
