"""Appeals: registration with a yearly number, abuse screen, history, lookups (R-3.3, R-3.4)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.abuse import screen
from storage.db import Session as AsyncSession
from storage.models import Appeal, AppealEvent
from storage.repos import appeals as rows

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
    """Sequential per year, never reused."""
    return f"{prefix}-{year}-{await rows.next_seq(session, year):06d}"


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
        abuse_fragment=verdict.fragment[:200] if verdict.fragment else None,  # VARCHAR(200)
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
    await rows.attach_files(session, draft.file_ids, citizen_id, appeal.id)
    await session.flush()
    return appeal


async def of_citizen(session: AsyncSession, citizen_id: int, limit: int = 20) -> list[Appeal]:
    return await rows.of_citizen(session, citizen_id, limit)


async def owned(session: AsyncSession, citizen_id: int, *, appeal_id: int | None = None,
                number: str | None = None) -> Appeal | None:
    """An appeal with its history and files, only if it belongs to this citizen."""
    return await rows.owned(session, citizen_id, appeal_id=appeal_id, number=number)


async def for_staff(session: AsyncSession, appeal_id: int) -> Appeal | None:
    return await rows.full(session, appeal_id)


async def attach_files(session: AsyncSession, file_ids: list[int], citizen_id: int, appeal_id: int) -> None:
    """Files sent with a clarification join the appeal."""
    await rows.attach_files(session, file_ids, citizen_id, appeal_id, only_loose=False)
