"""Periodic clean-up: forget old platform update ids (redeliveries come within minutes)."""
from __future__ import annotations

from datetime import timedelta

from core.clock import utc_now
from storage.repos import people as rows

KEEP_UPDATES = timedelta(days=7)


async def forget_old(sessionmaker, now=None) -> int:
    now = now or utc_now()
    async with sessionmaker() as session, session.begin():
        return await rows.forget_old(session, now - KEEP_UPDATES, now - timedelta(days=1))
