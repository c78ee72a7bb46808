"""Ratings of final answers (R-3.9), per appeal, channel and staff member."""
from __future__ import annotations

from datetime import datetime

from storage.models import Appeal, Rating
from storage.repos import ratings as rows


async def rate_appeal(session, appeal: Appeal, *, citizen_id: int, channel: str, score: int, now: datetime) -> None:
    """The latest rating given in a channel stands."""
    existing = await rows.for_appeal(session, appeal.id, channel)
    if existing:
        existing.score, existing.created_at = score, now
    else:
        session.add(Rating(citizen_id=citizen_id, appeal_id=appeal.id, staff_id=appeal.assigned_staff_id,
                           channel=channel, score=score, created_at=now))
    await session.flush()
