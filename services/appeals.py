"""Appeals: registration with a yearly number, abuse screen, history, lookups (R-3.3, R-3.4)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.abuse import screen
from storage.models import Appeal, AppealCounter, AppealEvent, StoredFile
from storage.upsert import insert_ignore

REGISTERED = "registered"
IN_WORK = "in_work"
CLARIFICATION = "clarification"
REDIRECTED = "redirected"
ANSWERED = "answered"
REFUSED = "refused"
NOT_CONSIDERED = "not_considered"
FINAL = frozenset({REDIRECTED, ANSWERED, REFUSED, NOT_CONSIDERED})


@dataclass
class Draft:
    """What the wizard collected."""

    topic: str
    need: str
    text: str
    full_name: str
    answer_channel: str  # email | post
    answer_address: str
    notify_channel: str | None
    extra_channel: str | None
    file_ids: list[int] = field(default_factory=list)


async def next_number(session: AsyncSession, prefix: str, year: int) -> str:
    """Sequential per year, never reused: the counter row is locked by the update."""
    await insert_ignore(session, AppealCounter, year=year, last=0)
    seq = (
        await session.execute(
            update(AppealCounter)
            .where(AppealCounter.year == year)
            .values(last=AppealCounter.last + 1)
            .returning(AppealCounter.last)
        )
    ).scalar_one()
    return f"{prefix}-{year}-{seq:06d}"


async def register(
    session: AsyncSession, *, citizen_id: int, channel: str, draft: Draft, prefix: str,
    tz: ZoneInfo, deadline_for, now: datetime,
) -> Appeal:
    """Store the appeal with its first history entries. A flagged text is kept, not considered."""
    local_today = now.astimezone(tz).date()
    verdict = screen(draft.text)
    appeal = Appeal(
        number=await next_number(session, prefix, local_today.year),
        citizen_id=citizen_id,
        source_channel=channel,
        topic=draft.topic,
        need=draft.need,
        text=draft.text,
        full_name=draft.full_name,
        answer_channel=draft.answer_channel,
        answer_address=draft.answer_address,
        notify_channel=draft.notify_channel,
        extra_channel=draft.extra_channel,
        status=NOT_CONSIDERED if verdict.flagged else REGISTERED,
        abuse_category=verdict.category,
        abuse_fragment=verdict.fragment,
        registered_at=now,
        deadline=deadline_for(local_today),
    )
    session.add(appeal)
    await session.flush()
    session.add(AppealEvent(appeal_id=appeal.id, at=now, actor="citizen", actor_id=citizen_id,
                            action="registered", status_to=REGISTERED))
    if verdict.flagged:
        session.add(AppealEvent(appeal_id=appeal.id, at=now + timedelta(microseconds=1),
                                actor="system", action="screened", status_from=REGISTERED,
                                status_to=NOT_CONSIDERED, note=verdict.category))
    if draft.file_ids:
        await session.execute(
            update(StoredFile)
            .where(StoredFile.id.in_(draft.file_ids), StoredFile.citizen_id == citizen_id,
                   StoredFile.appeal_id.is_(None))
            .values(appeal_id=appeal.id)
        )
    await session.flush()
    return appeal


async def of_citizen(session: AsyncSession, citizen_id: int, limit: int = 20) -> list[Appeal]:
    stmt = (
        select(Appeal).where(Appeal.citizen_id == citizen_id)
        .order_by(Appeal.registered_at.desc(), Appeal.id.desc()).limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def owned(session: AsyncSession, citizen_id: int, *, appeal_id: int | None = None,
                number: str | None = None) -> Appeal | None:
    """An appeal with its history and files, only if it belongs to this citizen."""
    stmt = select(Appeal).where(Appeal.citizen_id == citizen_id).options(
        selectinload(Appeal.events), selectinload(Appeal.files)
    )
    if appeal_id is not None:
        stmt = stmt.where(Appeal.id == appeal_id)
    elif number is not None:
        stmt = stmt.where(Appeal.number == number.strip().upper())
    else:
        return None
    return (await session.execute(stmt)).scalar_one_or_none()
